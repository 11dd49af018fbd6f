import { Field } from "./Field";

// The API's password rule (api/password_policy.py) as far as a browser can check it; the
// API also refuses common and account-derived passwords, in its own words.
export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 256;

export interface NewPassword {
  password: string;
  again: string;
}

/** What is wrong with a new password and its repetition, keyed by the API's name of the
 * field (`field`) and "again"; empty when nothing is. */
export function newPasswordProblems(
  value: NewPassword,
  field = "new_password",
): Record<string, string> {
  if (value.password.length < MIN_PASSWORD)
    return { [field]: `Use at least ${MIN_PASSWORD} characters.` };
  if (value.password.length > MAX_PASSWORD)
    return { [field]: `Use at most ${MAX_PASSWORD} characters.` };
  if (value.again !== value.password) return { again: "The two passwords differ." };
  return {};
}

/** A new password, entered twice: where one is chosen (an invitation, a reset, a change). */
export function NewPasswordFields({
  value,
  onChange,
  problems,
  field = "new_password",
}: {
  value: NewPassword;
  onChange: (value: NewPassword) => void;
  problems: Record<string, string>;
  field?: string;
}) {
  return (
    <>
      <Field
        label="New password"
        hint={`At least ${MIN_PASSWORD} characters; a few unrelated words are easy to remember and hard to guess.`}
        error={problems[field]}
      >
        {(control) => (
          <input
            {...control}
            type="password"
            autoComplete="new-password"
            value={value.password}
            onChange={(e) => onChange({ ...value, password: e.target.value })}
          />
        )}
      </Field>
      <Field label="New password, again" error={problems.again}>
        {(control) => (
          <input
            {...control}
            type="password"
            autoComplete="new-password"
            value={value.again}
            onChange={(e) => onChange({ ...value, again: e.target.value })}
          />
        )}
      </Field>
    </>
  );
}
