/** Recovery codes, shown once: where they are made (after turning on two-step sign-in, or
 * on request from the security page). */
export function RecoveryCodeList({ codes }: { codes: readonly string[] }) {
  return (
    <div className="notice notice-info" role="status">
      <p>
        Your recovery codes. Write these down or print them now: they are shown only once, and each
        signs you in once when your authenticator is not at hand.
      </p>
      <ul className="codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}
