import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";

import { ApiError } from "../api/client";
import { byField } from "../lib/problems";
import { account } from "../api/endpoints";
import type { RecoveryCodes } from "../api/types";
import { useSession } from "../auth/session";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { AuthenticatorCodeField, CurrentPasswordField } from "../components/SecretFields";
import { NewPasswordFields, newPasswordProblems } from "../components/NewPasswordFields";
import type { NewPassword } from "../components/NewPasswordFields";
import { RecoveryCodeList } from "../components/RecoveryCodeList";
import { formatDateTime } from "../lib/format";
import { useLoad } from "../lib/useLoad";

// In the order to test them: Edge's agent names Chrome too, and Chrome's names Safari.
const BROWSERS: [RegExp, string][] = [
  [/Edg\//, "Edge"],
  [/Firefox\//, "Firefox"],
  [/Chrome\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS: [RegExp, string][] = [
  [/iPhone/, "iPhone"],
  [/iPad/, "iPad"],
  [/Android/, "Android"],
  [/Windows/, "Windows"],
  [/Mac OS X/, "macOS"],
  [/Linux/, "Linux"],
];

/** A browser's user agent as a person names it: "Firefox on Windows", "Safari on iPhone". */
export function deviceName(agent: string | null): string {
  if (!agent) return "Unknown device";
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? "Unknown device";
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [chosen, setChosen] = useState<NewPassword>({ password: "", again: "" });
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setDone(false);
    setError(undefined);
    const found = newPasswordProblems(chosen);
    if (!current) found.current_password = "Enter your current password.";
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await account.changePassword(current, chosen.password);
      setCurrent("");
      setChosen({ password: "", again: "" });
      setDone(true);
    } catch (failure) {
      if (failure instanceof ApiError) setProblems(byField(failure.details));
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <ErrorNotice error={error} fields={["current_password", "new_password"]} />
      {done ? (
        <div className="notice notice-success" role="status">
          Your password is changed. Everywhere else you were signed in is signed out.
        </div>
      ) : null}
      <CurrentPasswordField
        label="Current password"
        value={current}
        onChange={setCurrent}
        error={problems.current_password}
      />
      <NewPasswordFields value={chosen} onChange={setChosen} problems={problems} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Changing…" : "Change password"}
      </button>
    </form>
  );
}

function TwoStep() {
  const { user } = useSession();
  const [codes, setCodes] = useState<RecoveryCodes>();
  const [error, setError] = useState<unknown>();
  if (!user) return null;

  async function makeCodes() {
    setError(undefined);
    try {
      setCodes(await account.recoveryCodes());
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <section aria-labelledby="two-step-title">
      <h2 id="two-step-title">Two-step sign-in</h2>
      <ErrorNotice error={error} />
      {user.mfa_enabled ? (
        <>
          <p>On: you sign in with your password and a code from your authenticator app.</p>
          <p>
            Recovery codes let you sign in when your phone is not at hand; each works once. New ones
            replace the old.
          </p>
          <ConfirmButton
            label="Make new recovery codes"
            question="Make new recovery codes? The codes you have now will stop working."
            confirmLabel="Make new codes"
            className="secondary"
            onConfirm={makeCodes}
          />
          {codes ? <RecoveryCodeList codes={codes.codes} /> : null}
          {user.role === "patient" ? <TurnOffTotp /> : null}
        </>
      ) : user.email_verified ? (
        <p>
          Off. <Link to="/mfa/enroll">Turn on two-step sign-in</Link> to ask for a code from your
          phone as well as your password.
        </p>
      ) : (
        <p>Off. Confirm your email address first; then you can turn it on here.</p>
      )}
    </section>
  );
}

/** A patient's way back to the password alone: both factors asked for, so a session left
 * open somewhere cannot weaken the account. */
function TurnOffTotp() {
  const { user, signedIn } = useSession();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  if (!user) return null;
  const current = user;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    const found: Record<string, string> = {};
    if (!password) found.password = "Enter your password.";
    if (!/^\d{6}$/.test(code)) found.code = "Enter the 6 digits your authenticator shows now.";
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    try {
      await account.turnOffTotp(password, code);
      signedIn({ ...current, mfa_enabled: false });
    } catch (failure) {
      if (failure instanceof ApiError) setProblems(byField(failure.details));
      setError(failure);
    }
  }

  return (
    <details className="turn-off">
      <summary>Turn off two-step sign-in</summary>
      <form onSubmit={onSubmit} noValidate aria-label="Turn off two-step sign-in">
        <p>
          You will sign in with your password alone, and your recovery codes stop working. We email
          you to confirm.
        </p>
        <ErrorNotice error={error} fields={["password", "code"]} />
        <CurrentPasswordField value={password} onChange={setPassword} error={problems.password} />
        <AuthenticatorCodeField
          label="Code from your authenticator"
          value={code}
          onChange={setCode}
          error={problems.code}
        />
        <button type="submit" className="danger">
          Turn off two-step sign-in
        </button>
      </form>
    </details>
  );
}

function Sessions() {
  const navigate = useNavigate();
  const { notify } = useSession();
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>();
  const listed = useLoad(() => account.sessions(), [version]);

  async function end(id: string, current: boolean) {
    setError(undefined);
    try {
      await account.endSession(id);
      if (current) {
        notify("You signed this device out.");
        navigate("/signin", { replace: true });
      } else setVersion((v) => v + 1);
    } catch (failure) {
      setError(failure);
    }
  }

  async function everywhere() {
    setError(undefined);
    try {
      await account.signOutEverywhere();
      notify("You signed out everywhere, this device too.");
      navigate("/signin", { replace: true });
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Where you are signed in</h2>
      <ErrorNotice error={error ?? listed.error} onRetry={listed.reload} />
      {listed.data ? (
        <ul className="card-list">
          {listed.data.map((session) => (
            <li key={session.id} className="card">
              <strong>{deviceName(session.agent)}</strong>
              {session.current ? <span className="badge">This device</span> : null}
              <span>Signed in {formatDateTime(session.signed_in_at)}</span>
              {session.address ? <span>From {session.address}</span> : null}
              <button type="button" onClick={() => end(session.id, session.current)}>
                Sign out
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="loading">Loading…</p>
      )}
      <ConfirmButton
        label="Sign out everywhere"
        question="Sign out on every device, this one too?"
        confirmLabel="Sign out everywhere"
        onConfirm={everywhere}
      />
    </section>
  );
}

/** Password, two-step sign-in and its recovery codes, and the places one is signed in. */
export function SecurityPage() {
  return (
    <section className="narrow stack" aria-labelledby="security-title">
      <h1 id="security-title">Sign-in and security</h1>
      <PasswordForm />
      <TwoStep />
      <Sessions />
    </section>
  );
}
