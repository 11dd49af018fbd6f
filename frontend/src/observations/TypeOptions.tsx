import type { ObservationType } from "../api/types";

/**
 * The vocabulary's types as a select's options, by their display names: those recorded
 * today, and `including` (an earlier measurement's own type, being corrected or charted).
 */
export function TypeOptions({
  types,
  including,
}: {
  types: readonly ObservationType[];
  including?: string | undefined;
}) {
  return (
    <>
      {types
        .filter((t) => t.recorded || t.code === including)
        .map((t) => (
          <option key={t.code} value={t.code}>
            {t.display}
          </option>
        ))}
    </>
  );
}
