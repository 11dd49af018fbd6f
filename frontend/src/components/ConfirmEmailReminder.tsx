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
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>();
  if (!user) return null;

  async function resend() {
    setError(undefined);
    try {
      await account.sendVerification();
      setSent(true);
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <div className="notice notice-info reminder" role="status">
      {sent ? (
        <>We sent a new link to {user.email}; it works for a week.</>
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
