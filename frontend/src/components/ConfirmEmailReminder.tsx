import { useState } from "react";

import { account } from "../api/endpoints";
import { useSession } from "../auth/session";
import { ErrorNotice } from "./ErrorNotice";

/**
 * An unconfirmed address, reminded on every page: a new account works at once, but a
 * password reset (and a patient's two-step sign-in) needs the address confirmed.
 */
export function ConfirmEmailReminder() {
  const { user } = useSession();
  // Whether a new link went out (false: one went within the hour, and it still works).
  const [sent, setSent] = useState<boolean>();
  const [error, setError] = useState<unknown>();
  if (!user) return null;

  async function resend() {
    setError(undefined);
    try {
      setSent((await account.sendVerification()).sent);
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <div className="notice notice-info reminder" role="status">
      {sent === true ? (
        <>We sent a new link to {user.email}; it works for a week.</>
      ) : sent === false ? (
        <>
          We sent a link to {user.email} within the last hour, and it still works: please use that
          one (look in your spam folder too). You can ask for another after an hour.
        </>
      ) : (
        <>
          Please confirm your email address: open the link we sent to {user.email}. Without it we
          cannot send you a password reset.{" "}
          <button type="button" className="link-button" onClick={resend}>
            Send the link again
          </button>
        </>
      )}
      <ErrorNotice error={error} />
    </div>
  );
}
