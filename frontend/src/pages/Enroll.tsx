import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";

import { ApiError } from "../api/client";
import { byField } from "../lib/problems";
import { auth } from "../api/endpoints";
import { useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { NewPasswordFields, newPasswordProblems } from "../components/NewPasswordFields";
import { useFragmentToken } from "../lib/fragmentToken";
import type { NewPassword } from "../components/NewPasswordFields";

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

/** An invited administrator's first visit: choose a password, then sign in. */
export function EnrollPage() {
  const { notify } = useSession();
  const navigate = useNavigate();
  const token = useFragmentToken(tokenFrom);
  const [form, setForm] = useState<NewPassword>({ password: "", again: "" });
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const found = newPasswordProblems(form, "password");
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
        setProblems(byField(failure.details));
      }
      setError(failure);
      setBusy(false);
    }
  }

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
            <NewPasswordFields
              value={form}
              onChange={setForm}
              problems={problems}
              field="password"
            />
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
