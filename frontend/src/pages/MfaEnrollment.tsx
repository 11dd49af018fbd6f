import QRCode from "qrcode";
import { useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";
import { Navigate, useNavigate } from "react-router";

import { account, auth } from "../api/endpoints";
import { useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { AuthenticatorCodeField } from "../components/SecretFields";
import { RecoveryCodeList } from "../components/RecoveryCodeList";
import { useLoad } from "../lib/useLoad";

/**
 * Turning on a TOTP second factor: administrators must before they can use the admin area,
 * patients may. Once the code is confirmed, the recovery codes are shown, once.
 */
export function MfaEnrollmentPage() {
  const { user, signedIn } = useSession();
  const navigate = useNavigate();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [codes, setCodes] = useState<readonly string[]>();
  const enrollment = useLoad(() => auth.startMfa(), []);

  useEffect(() => {
    if (enrollment.data && canvas.current) {
      // Drawn on a canvas: no data: URL, so the Content-Security-Policy needs no exception.
      QRCode.toCanvas(canvas.current, enrollment.data.otpauth_uri, { width: 200 }).catch(() => {});
    }
  }, [enrollment.data]);

  if (user === null) return <Navigate to="/signin" replace />;
  const home = user?.role === "admin" ? "/admin" : "/security";
  if (codes)
    return (
      <section className="narrow" aria-labelledby="mfa-title">
        <h1 id="mfa-title">Two-step sign-in is on</h1>
        <RecoveryCodeList codes={codes} />
        <button type="button" className="primary" onClick={() => navigate(home, { replace: true })}>
          I have saved them
        </button>
      </section>
    );
  if (user && user.mfa_enabled) return <Navigate to={home} replace />;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!user) return;
    setBusy(true);
    setError(undefined);
    try {
      await auth.finishMfa(code);
      // This session proved the new factor, so it may make the codes; shown before the
      // session says "on" (which would lead away from this page).
      setCodes((await account.recoveryCodes()).codes);
      signedIn({ ...user, mfa_enabled: true });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow" aria-labelledby="mfa-title">
      <h1 id="mfa-title">Set up two-step sign-in</h1>
      <p>
        You will sign in with your password and a code from an authenticator app (administrators
        must). Scan this code with the app (or type the key), then enter the 6-digit code it shows.
      </p>
      <ErrorNotice error={enrollment.error} onRetry={enrollment.reload} />
      {enrollment.data ? (
        <>
          <canvas ref={canvas} aria-label="QR code of the authenticator key" role="img" />
          <p>
            Key: <code data-testid="totp-secret">{enrollment.data.secret}</code>
          </p>
        </>
      ) : null}
      <ErrorNotice error={error} />
      <form onSubmit={onSubmit} noValidate>
        <AuthenticatorCodeField value={code} onChange={setCode} />
        <button
          type="submit"
          className="primary"
          disabled={busy || code.length !== 6 || !enrollment.data}
        >
          Confirm
        </button>
      </form>
    </section>
  );
}
