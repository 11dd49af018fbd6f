import { useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";

import { ApiError } from "../api/client";
import { byField } from "../lib/problems";
import { account, passwordReset } from "../api/endpoints";
import { useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { NewPasswordFields, newPasswordProblems } from "../components/NewPasswordFields";
import type { NewPassword } from "../components/NewPasswordFields";
import { tokenFromFragment, useFragmentToken } from "../lib/fragmentToken";

/** The page a confirmation email links to: it confirms the address, signed in or not. */
export function VerifyEmailPage() {
  const token = useFragmentToken(tokenFromFragment);
  const { user, signedIn } = useSession();
  const [state, setState] = useState<"working" | "done" | unknown>("working");
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current || !token) return;
    sent.current = true; // once: a link is spent when it is used
    account.verifyEmail(token).then(
      () => setState("done"),
      (failure: unknown) => setState(failure),
    );
  }, [token]);
  useEffect(() => {
    if (state === "done" && user && !user.email_verified)
      signedIn({ ...user, email_verified: true });
  }, [state, user, signedIn]);

  return (
    <section className="narrow" aria-labelledby="verify-title">
      <h1 id="verify-title">Confirm your email address</h1>
      {!token ? (
        <p>This address has no confirmation code; open the link from the email whole.</p>
      ) : state === "working" ? (
        <p className="loading">Confirming…</p>
      ) : state === "done" ? (
        <div className="notice notice-success" role="status">
          Your email address is confirmed.{" "}
          <Link to={user ? "/" : "/signin"}>{user ? "Go to your dashboard" : "Sign in"}</Link>
        </div>
      ) : (
        <ErrorNotice error={state} />
      )}
    </section>
  );
}

/** Forgotten password: ask for a link, or (opened from the link) choose a new password. */
export function ResetPasswordPage() {
  const token = useFragmentToken(tokenFromFragment);
  return token ? <ChooseNewPassword token={token} /> : <AskForLink />;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function AskForLink() {
  const [email, setEmail] = useState("");
  const [problem, setProblem] = useState<string>();
  const [answer, setAnswer] = useState<string>();
  const [error, setError] = useState<unknown>();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    const valid = EMAIL.test(email.trim());
    setProblem(valid ? undefined : "Enter your email address.");
    if (!valid) return;
    try {
      setAnswer((await passwordReset.ask(email.trim())).message);
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <section className="narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">Forgot your password?</h1>
      {answer ? (
        <div className="notice notice-info" role="status">
          {answer}
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <p>
            We email a link to choose a new one, if the address belongs to an account and was
            confirmed.
          </p>
          <ErrorNotice error={error} />
          <Field label="Email" error={problem}>
            {(control) => (
              <input
                {...control}
                type="email"
                autoComplete="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="primary">
            Send the link
          </button>
        </form>
      )}
      <p>
        <Link to="/signin">Back to sign-in</Link>
      </p>
    </section>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const [chosen, setChosen] = useState<NewPassword>({ password: "", again: "" });
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    const found = newPasswordProblems(chosen);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    try {
      await passwordReset.confirm(token, chosen.password);
      setDone(true);
    } catch (failure) {
      if (failure instanceof ApiError) setProblems(byField(failure.details));
      setError(failure);
    }
  }

  return (
    <section className="narrow" aria-labelledby="choose-title">
      <h1 id="choose-title">Choose a new password</h1>
      {done ? (
        <div className="notice notice-success" role="status">
          Your password is changed, and every device that was signed in is signed out.{" "}
          <Link to="/signin">Sign in</Link>
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <ErrorNotice error={error} />
          <NewPasswordFields value={chosen} onChange={setChosen} problems={problems} />
          <button type="submit" className="primary">
            Save the new password
          </button>
        </form>
      )}
    </section>
  );
}
