import { useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import { byField } from "../lib/problems";
import { account } from "../api/endpoints";
import { useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { CurrentPasswordField } from "../components/SecretFields";
import { formatDate } from "../lib/format";

// As the API keeps it (api/account_deletion.py GRACE).
const GRACE_DAYS = 30;

/**
 * Deleting one's account: the policy first, then the password and a confirmation. The
 * deletion is due a grace period later; until then the account can be kept.
 */
export function DeleteAccount() {
  const { user, signedIn } = useSession();
  const [password, setPassword] = useState("");
  const [understood, setUnderstood] = useState(false);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  if (!user) return null;
  const current = user;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    const found: Record<string, string> = {};
    if (!password) found.password = "Enter your password.";
    if (!understood) found.understood = "Tick the box to confirm you have read what happens.";
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    try {
      const scheduled = await account.askDeletion(password);
      signedIn({ ...current, deletion_due_at: scheduled.due_at });
      setPassword("");
    } catch (failure) {
      if (failure instanceof ApiError) setProblems(byField(failure.details));
      setError(failure);
    }
  }

  return (
    <section className="card" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete your account</h2>
      <p>What happens when you ask:</p>
      <ul>
        <li>
          Nothing is deleted for {GRACE_DAYS} days. Sign in and choose “Keep my account” before then
          to cancel.
        </li>
        <li>
          Then your measurements, your documents and their files, and your profile are deleted. Your
          account can no longer sign in.
        </li>
        <li>
          Records of who accessed your data, and when, are kept for six years, as the law requires
          of us; they hold no measurement or document.
        </li>
        <li>
          Copies in our encrypted backups expire on their own within 90 days. Download your data
          above first if you want to keep it.
        </li>
      </ul>
      {current.deletion_due_at ? (
        <div className="notice notice-info" role="status">
          Your account will be deleted on {formatDate(current.deletion_due_at)}.
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <ErrorNotice error={error} fields={["password"]} />
          <CurrentPasswordField value={password} onChange={setPassword} error={problems.password} />
          <div className={`field checkbox${problems.understood ? " field-invalid" : ""}`}>
            <label>
              <input
                type="checkbox"
                checked={understood}
                aria-invalid={Boolean(problems.understood)}
                onChange={(e) => setUnderstood(e.target.checked)}
              />{" "}
              I have read what happens, and want my account deleted
            </label>
            {problems.understood ? (
              <small className="field-error">{problems.understood}</small>
            ) : null}
          </div>
          <button type="submit" className="danger">
            Delete my account
          </button>
        </form>
      )}
    </section>
  );
}

/** Shown on every page while a deletion is due: the date, and the way to keep the account. */
export function DeletionReminder() {
  const { user, signedIn } = useSession();
  const [error, setError] = useState<unknown>();
  if (!user?.deletion_due_at) return null;
  const current = user;

  async function keep() {
    setError(undefined);
    try {
      await account.keep();
      signedIn({ ...current, deletion_due_at: null });
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <div className="notice notice-error reminder" role="status">
      Your account and your health data will be deleted on{" "}
      {formatDate(current.deletion_due_at ?? "")}.{" "}
      <button type="button" className="link-button" onClick={keep}>
        Keep my account
      </button>
      <ErrorNotice error={error} />
    </div>
  );
}
