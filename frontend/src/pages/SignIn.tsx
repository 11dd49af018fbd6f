import { useState } from "react";
import type { FormEvent } from "react";
import { Link, Navigate, useSearchParams } from "react-router";

import { ApiError } from "../api/client";
import { auth } from "../api/endpoints";
import { homeOf, needsMfaEnrollment, useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { AuthenticatorCodeField } from "../components/SecretFields";
import { Field } from "../components/Field";

/** Only paths inside this application: a `next` parameter must not send anyone elsewhere. */
export function safeNext(next: string | null): string | null {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : null;
}

export function SignInPage() {
  const { user, notice, signedIn, clearNotice } = useSession();
  const [params] = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [askTotp, setAskTotp] = useState(false);
  // Instead of the authenticator's code: one of the recovery codes, each good once.
  const [useRecovery, setUseRecovery] = useState(false);
  const [recovery, setRecovery] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  // Signed in (now, or already): on to where the user was going, or their home page.
  if (user) {
    const next = needsMfaEnrollment(user) ? null : safeNext(params.get("next"));
    return <Navigate to={next ?? homeOf(user)} replace />;
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const second = !askTotp ? undefined : useRecovery ? { recovery_code: recovery } : { totp };
      const result = await auth.login(email, password, second);
      clearNotice();
      signedIn(result.user);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === "mfa_required") {
        setAskTotp(true);
      }
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const mfaPrompt = error instanceof ApiError && error.code === "mfa_required";
  return (
    <section className="narrow" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      {notice ? (
        <div className="notice notice-info" role="status">
          {notice}
        </div>
      ) : null}
      {mfaPrompt ? (
        <div className="notice notice-info" role="status">
          {(error as ApiError).message}
        </div>
      ) : (
        <ErrorNotice error={error} />
      )}
      <form onSubmit={onSubmit} noValidate>
        <Field label="Email">
          {(control) => (
            <input
              {...control}
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(control) => (
            <input
              {...control}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        {askTotp && useRecovery ? (
          <Field label="Recovery code" hint="One of the codes you wrote down; each works once.">
            {(control) => (
              <input
                {...control}
                autoComplete="one-time-code"
                autoFocus
                value={recovery}
                onChange={(e) => setRecovery(e.target.value)}
              />
            )}
          </Field>
        ) : null}
        {askTotp && !useRecovery ? (
          <AuthenticatorCodeField
            hint="The 6-digit code from your authenticator app."
            value={totp}
            onChange={setTotp}
            autoFocus
          />
        ) : null}
        {askTotp ? (
          <p>
            <button
              type="button"
              className="link-button"
              onClick={() => setUseRecovery((using) => !using)}
            >
              {useRecovery ? "Use the authenticator's code" : "Use a recovery code instead"}
            </button>
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        <Link to="/reset-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </section>
  );
}
