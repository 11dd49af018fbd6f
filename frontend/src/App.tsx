import { useEffect, useRef } from "react";
import { BrowserRouter, Route, Routes, useLocation } from "react-router";

import { AuditPage } from "./admin/Audit";
import { OverviewPage } from "./admin/Overview";
import { UsersPage } from "./admin/Users";
import { RequireRole } from "./auth/guards";
import { SessionProvider } from "./auth/session";
import { Layout } from "./components/Layout";
import { NotFoundPage } from "./components/ProblemPage";
import { DashboardPage } from "./pages/Dashboard";
import { DocumentsPage } from "./pages/Documents";
import { MfaEnrollmentPage } from "./pages/MfaEnrollment";
import { ProfilePage } from "./pages/Profile";
import { SignInPage } from "./pages/SignIn";
import { SignUpPage } from "./pages/SignUp";

const TITLES: Record<string, string> = {
  "/": "Dashboard",
  "/documents": "Documents",
  "/profile": "Profile",
  "/signin": "Sign in",
  "/signup": "Create an account",
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
      <Routes>
        <Route path="/signin" element={<SignInPage />} />
        <Route path="/signup" element={<SignUpPage />} />
        <Route path="/mfa/enroll" element={<MfaEnrollmentPage />} />
        <Route path="/" element={<RequireRole role="patient"><DashboardPage /></RequireRole>} />
        <Route path="/documents" element={<RequireRole role="patient"><DocumentsPage /></RequireRole>} />
        <Route path="/profile" element={<RequireRole><ProfilePage /></RequireRole>} />
        <Route path="/admin" element={<RequireRole role="admin"><OverviewPage /></RequireRole>} />
        <Route path="/admin/users" element={<RequireRole role="admin"><UsersPage /></RequireRole>} />
        <Route path="/admin/audit" element={<RequireRole role="admin"><AuditPage /></RequireRole>} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
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
