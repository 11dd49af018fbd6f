import { useEffect, useState } from "react";
import type { FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { ApiError } from "../api/client";
import { auth } from "../api/endpoints";
import { useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { MIN_PASSWORD } from "./SignUp";

export const PASSWORD_SET =
  "Your password is set. Sign in with your email and new password; you will then set up " +
  "two-step sign-in with an authenticator app.";

/**
 * The enrollment link's token, if the fragment (`#token=…`) holds one of the form the API
 * accepts. The fragment never leaves the browser, so no server or access log sees it.
 */
export function tokenFrom(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  return token && /^[A-Za-z0-9_-]{16,128}$/.test(token) ? token : null;
}

export interface NewPassword {
  password: string;
  confirmation: string;
}

/** The API's rules for a password (as at sign-up), and the two entries agreeing. */
export function passwordProblems(form: NewPassword): Record<string, string> {
  const found: Record<string, string> = {};
  if (form.password.length < MIN_PASSWORD) {
    found.password = `Use at least ${MIN_PASSWORD} characters.`;
  } else if (form.password.length > 256) {
    found.password = "Use at most 256 characters.";
  } else if (form.confirmation !== form.password) {
    found.confirmation = "The two passwords differ.";
  }
  return found;
}

/** An invited administrator's first visit: choose a password, then sign in. */
export function EnrollPage() {
  const { notify } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  // Read once; the address bar then forgets it (nor does it stay in the history).
  const [token] = useState(() => tokenFrom(location.hash));
  const [form, setForm] = useState<NewPassword>({ password: "", confirmation: "" });
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (location.hash) navigate({ pathname: location.pathname }, { replace: true });
  }, [location.hash, location.pathname, navigate]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const found = passwordProblems(form);
    setProblems(found);
    setError(undefined);
    if (!token || Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await auth.acceptInvitation(token, form.password);
      notify(PASSWORD_SET);
      navigate("/signin", { replace: true });
    } catch (failure) {
      if (failure instanceof ApiError) {
        setProblems(Object.fromEntries(failure.details.map((d) => [d.field, d.problem])));
      }
      setError(failure);
      setBusy(false);
    }
  }

  const set = (key: keyof NewPassword) => (e: { target: { value: string } }) =>
    setForm({ ...form, [key]: e.target.value });
  return (
    <section className="narrow" aria-labelledby="enroll-title">
      <h1 id="enroll-title">Set your password</h1>
      {token ? (
        <>
          <p>
            You have been invited as an administrator. Choose a password; once you sign in with it,
            you will set up two-step sign-in with an authenticator app.
          </p>
          <ErrorNotice error={error} />
          <form onSubmit={onSubmit} noValidate>
            <Field
              label="New password"
              hint={`At least ${MIN_PASSWORD} characters.`}
              error={problems.password}
            >
              {(control) => (
                <input
                  {...control}
                  type="password"
                  autoComplete="new-password"
                  value={form.password}
                  onChange={set("password")}
                />
              )}
            </Field>
            <Field label="Confirm the password" error={problems.confirmation}>
              {(control) => (
                <input
                  {...control}
                  type="password"
                  autoComplete="new-password"
                  value={form.confirmation}
                  onChange={set("confirmation")}
                />
              )}
            </Field>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Saving…" : "Set password"}
            </button>
          </form>
        </>
      ) : (
        <div className="notice notice-error" role="alert">
          <strong>This page needs your whole enrollment link.</strong> Open the link you were given
          in full (it ends with “#token=” and a code), or ask for a new one.
        </div>
      )}
      <p>
        Password set already? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}
