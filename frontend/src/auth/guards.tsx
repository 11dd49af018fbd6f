import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import type { Role } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { ProblemPage } from "../components/ProblemPage";
import { homeOf, needsMfaEnrollment, useSession } from "./session";

/**
 * Renders its children for a signed-in user (of `role`, when given); anyone else is sent
 * to sign-in, or shown why not.
 */
export function RequireRole({ role, children }: { role?: Role; children: ReactNode }) {
  const { user, checkError, retryCheck } = useSession();
  const location = useLocation();
  if (user === undefined && checkError) {
    return (
      <section className="problem-page" aria-labelledby="check-title">
        <h1 id="check-title">We could not check your sign-in</h1>
        <ErrorNotice error={checkError} onRetry={retryCheck} />
      </section>
    );
  }
  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null) {
    const next = location.pathname + location.search;
    return <Navigate to={`/signin?next=${encodeURIComponent(next)}`} replace />;
  }
  if (needsMfaEnrollment(user)) return <Navigate to="/mfa/enroll" replace />;
  if (role && user.role !== role) {
    return (
      <ProblemPage
        title="Access denied"
        message={
          role === "admin"
            ? "This area is for administrators."
            : "Administrators have no access to patients' health data."
        }
        home={homeOf(user)}
      />
    );
  }
  return <>{children}</>;
}
