import { lazy, Suspense, useEffect, useRef } from "react";
import { BrowserRouter, Route, Routes, useLocation } from "react-router";

import { RequireRole } from "./auth/guards";
import { SessionProvider } from "./auth/session";
import { Layout } from "./components/Layout";
import { NotFoundPage } from "./components/ProblemPage";
import { DashboardPage } from "./pages/Dashboard";
import { EnrollPage } from "./pages/Enroll";
import { SignInPage } from "./pages/SignIn";
import { SignUpPage } from "./pages/SignUp";

// Loaded when first visited: the chart library, the QR code and the admin area are most
// of the code, and sign-in needs none of it. The dashboard, a patient's home, comes with
// the application (its chart, the heavy part, loads after it: pages/Dashboard.tsx).
const DocumentsPage = lazy(() =>
  import("./pages/Documents").then((m) => ({ default: m.DocumentsPage })),
);
const ProfilePage = lazy(() => import("./pages/Profile").then((m) => ({ default: m.ProfilePage })));
const MfaEnrollmentPage = lazy(() =>
  import("./pages/MfaEnrollment").then((m) => ({ default: m.MfaEnrollmentPage })),
);
const SecurityPage = lazy(() =>
  import("./pages/Security").then((m) => ({ default: m.SecurityPage })),
);
const YourDataPage = lazy(() =>
  import("./pages/YourData").then((m) => ({ default: m.YourDataPage })),
);
const VerifyEmailPage = lazy(() =>
  import("./pages/EmailLinks").then((m) => ({ default: m.VerifyEmailPage })),
);
const ResetPasswordPage = lazy(() =>
  import("./pages/EmailLinks").then((m) => ({ default: m.ResetPasswordPage })),
);
const OverviewPage = lazy(() =>
  import("./admin/Overview").then((m) => ({ default: m.OverviewPage })),
);
const UsersPage = lazy(() => import("./admin/Users").then((m) => ({ default: m.UsersPage })));
const AuditPage = lazy(() => import("./admin/Audit").then((m) => ({ default: m.AuditPage })));

const TITLES: Record<string, string> = {
  "/": "Dashboard",
  "/documents": "Documents",
  "/profile": "Profile",
  "/security": "Sign-in and security",
  "/your-data": "Your data",
  "/verify-email": "Confirm your email address",
  "/reset-password": "Reset your password",
  "/signin": "Sign in",
  "/signup": "Create an account",
  "/enroll": "Set your password",
  "/mfa/enroll": "Two-step sign-in",
  "/admin": "Overview",
  "/admin/users": "Users",
  "/admin/audit": "Audit log",
};

/**
 * Each page names itself in the tab. After a navigation inside the application, focus
 * moves to the new content (as a page load would reset it); on the first load it stays
 * at the top, where the skip link is.
 */
function PageChange() {
  const { pathname } = useLocation();
  const firstLoad = useRef(true);
  useEffect(() => {
    document.title = `${TITLES[pathname] ?? "Not found"} · Personal Health Platform`;
    if (!firstLoad.current) document.getElementById("main")?.focus({ preventScroll: true });
    firstLoad.current = false;
  }, [pathname]);
  return null;
}

export function AppRoutes() {
  return (
    <Layout>
      <PageChange />
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <Routes>
          <Route path="/signin" element={<SignInPage />} />
          <Route path="/signup" element={<SignUpPage />} />
          <Route path="/enroll" element={<EnrollPage />} />
          <Route path="/mfa/enroll" element={<MfaEnrollmentPage />} />
          <Route path="/verify-email" element={<VerifyEmailPage />} />
          <Route path="/reset-password" element={<ResetPasswordPage />} />
          <Route
            path="/security"
            element={
              <RequireRole>
                <SecurityPage />
              </RequireRole>
            }
          />
          <Route
            path="/your-data"
            element={
              <RequireRole role="patient">
                <YourDataPage />
              </RequireRole>
            }
          />
          <Route
            path="/"
            element={
              <RequireRole role="patient">
                <DashboardPage />
              </RequireRole>
            }
          />
          <Route
            path="/documents"
            element={
              <RequireRole role="patient">
                <DocumentsPage />
              </RequireRole>
            }
          />
          <Route
            path="/profile"
            element={
              <RequireRole>
                <ProfilePage />
              </RequireRole>
            }
          />
          <Route
            path="/admin"
            element={
              <RequireRole role="admin">
                <OverviewPage />
              </RequireRole>
            }
          />
          <Route
            path="/admin/users"
            element={
              <RequireRole role="admin">
                <UsersPage />
              </RequireRole>
            }
          />
          <Route
            path="/admin/audit"
            element={
              <RequireRole role="admin">
                <AuditPage />
              </RequireRole>
            }
          />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </Suspense>
    </Layout>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <AppRoutes />
      </SessionProvider>
    </BrowserRouter>
  );
}
