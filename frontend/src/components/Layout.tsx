import { useState } from "react";
import type { ReactNode } from "react";
import { NavLink, useNavigate } from "react-router";

import { needsMfaEnrollment, useSession } from "../auth/session";
import { DeletionReminder } from "../pages/DeleteAccount";
import { ConfirmEmailReminder } from "./ConfirmEmailReminder";
import { ErrorNotice } from "./ErrorNotice";

const PATIENT_LINKS = [
  { to: "/", label: "Dashboard" },
  { to: "/documents", label: "Documents" },
  { to: "/your-data", label: "Your data" },
  { to: "/profile", label: "Profile" },
  { to: "/security", label: "Security" },
];
const ADMIN_LINKS = [
  { to: "/admin", label: "Overview" },
  { to: "/admin/users", label: "Users" },
  { to: "/admin/audit", label: "Audit log" },
  { to: "/profile", label: "Profile" },
  { to: "/security", label: "Security" },
];

export function Layout({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const navigate = useNavigate();
  const [signOutError, setSignOutError] = useState<unknown>();
  // Until an administrator has a second factor, enrolling is the only way on.
  const links =
    !user || needsMfaEnrollment(user) ? [] : user.role === "admin" ? ADMIN_LINKS : PATIENT_LINKS;

  async function onSignOut() {
    try {
      await signOut();
      navigate("/signin", { replace: true });
    } catch (error) {
      setSignOutError(error);
    }
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <span className="brand">Personal Health Platform</span>
        {links.length > 0 ? (
          <nav aria-label="Main">
            <ul>
              {links.map((link) => (
                <li key={link.to}>
                  <NavLink to={link.to} end>
                    {link.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        {user ? (
          <div className="account">
            <span className="who">{user.display_name}</span>
            <button type="button" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorNotice error={signOutError} />
        {user && !user.email_verified && !needsMfaEnrollment(user) ? (
          <ConfirmEmailReminder />
        ) : null}
        <DeletionReminder />
        {children}
      </main>
    </>
  );
}
