import { Field } from "./Field";

/** The account's password, asked again before something that weakens or ends the account. */
export function CurrentPasswordField({
  label = "Password",
  value,
  onChange,
  error,
}: {
  label?: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
}) {
  return (
    <Field label={label} error={error}>
      {(control) => (
        <input
          {...control}
          type="password"
          autoComplete="current-password"
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

/** A 6-digit code from an authenticator app: digits only, as phones offer to fill it in. */
export function AuthenticatorCodeField({
  label = "Authentication code",
  hint = "6 digits; a new one every 30 seconds.",
  value,
  onChange,
  error,
  autoFocus = false,
}: {
  label?: string;
  hint?: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  autoFocus?: boolean;
}) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(control) => (
        <input
          {...control}
          inputMode="numeric"
          autoComplete="one-time-code"
          autoFocus={autoFocus}
          maxLength={6}
          value={value}
          onChange={(e) => onChange(e.target.value.replace(/\D/g, ""))}
        />
      )}
    </Field>
  );
}
