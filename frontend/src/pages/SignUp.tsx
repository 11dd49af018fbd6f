import { useState } from "react";
import type { FormEvent } from "react";
import { Link, Navigate } from "react-router";

import { ApiError } from "../api/client";
import { byField } from "../lib/problems";
import { auth } from "../api/endpoints";
import { homeOf, useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { MIN_PASSWORD } from "../components/NewPasswordFields";

/** Registration answers a taken email as it does a new one (so it tells no one who has an
 * account); a sign-in that then fails means the email had an account already. */
export function afterRegistration(failure: unknown): unknown {
  if (failure instanceof ApiError && failure.code === "invalid_credentials") {
    return new ApiError(
      401,
      "email_has_account",
      "This email may have an account already; we sent its owner a message. Sign in with" +
        " that account's password, or use another email.",
    );
  }
  return failure;
}

export interface Registration {
  email: string;
  password: string;
  displayName: string;
}

/** The API's rules for a new account, checked before sending. */
export function registrationProblems(form: Registration): Record<string, string> {
  const found: Record<string, string> = {};
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(form.email.trim())) {
    found.email = "Enter an email address such as name@example.com.";
  }
  if (form.password.length < MIN_PASSWORD) {
    found.password = `Use at least ${MIN_PASSWORD} characters.`;
  } else if (form.password.length > 256) {
    found.password = "Use at most 256 characters.";
  }
  const name = form.displayName.trim();
  if (name.length < 1 || name.length > 100)
    found.display_name = "Enter a name of 1 to 100 characters.";
  return found;
}

export function SignUpPage() {
  const { user, signedIn } = useSession();
  const [form, setForm] = useState<Registration>({ email: "", password: "", displayName: "" });
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  if (user) return <Navigate to={homeOf(user)} replace />;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const found = registrationProblems(form);
    setProblems(found);
    setError(undefined);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await auth.register(form.email.trim(), form.password, form.displayName.trim());
      const result = await auth.login(form.email.trim(), form.password).catch((failure) => {
        throw afterRegistration(failure);
      });
      signedIn(result.user); // and the render above leads on to the dashboard
    } catch (failure) {
      if (failure instanceof ApiError) {
        setProblems(byField(failure.details));
      }
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const set = (key: keyof Registration) => (e: { target: { value: string } }) =>
    setForm({ ...form, [key]: e.target.value });
  return (
    <section className="narrow" aria-labelledby="signup-title">
      <h1 id="signup-title">Create an account</h1>
      <ErrorNotice error={error} fields={["email", "password", "display_name"]} />
      <form onSubmit={onSubmit} noValidate>
        <Field label="Email" error={problems.email}>
          {(control) => (
            <input
              {...control}
              type="email"
              autoComplete="email"
              value={form.email}
              onChange={set("email")}
            />
          )}
        </Field>
        <Field label="Name" hint="How the application greets you." error={problems.display_name}>
          {(control) => (
            <input
              {...control}
              autoComplete="name"
              value={form.displayName}
              onChange={set("displayName")}
            />
          )}
        </Field>
        <Field
          label="Password"
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
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Already registered? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}
