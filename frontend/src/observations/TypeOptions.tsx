import type { ObservationType } from "../api/types";

/** The vocabulary's types as a select's options, by their display names. */
export function TypeOptions({ types }: { types: readonly ObservationType[] }) {
  return (
    <>
      {types.map((t) => (
        <option key={t.code} value={t.code}>
          {t.display}
        </option>
      ))}
    </>
  );
}
