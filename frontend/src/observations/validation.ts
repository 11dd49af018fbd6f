/**
 * The API's rules for a measurement, applied before sending so the user hears about a
 * mistake at once, in the API's own words. The rules come from the API's vocabulary
 * (GET /api/observations/types): the type must be known, the unit must be the type's
 * unit, the value must lie in the type's range.
 */
import type { FieldProblem } from "../api/client";
import type { ObservationType } from "../api/types";
import { formatNumber } from "../lib/format";

export const MAX_NOTE = 500;

export interface ObservationDraft {
  type: string;
  value: string;
  unit: string;
  /** ISO instant, or null when the field is empty or unreadable. */
  effectiveAt: string | null;
  note: string;
}

export function rangeProblem(kind: ObservationType): string {
  return `${kind.display} must be between ${formatNumber(kind.minimum)} and ${formatNumber(kind.maximum)} ${kind.unit}`;
}

export function problems(
  types: readonly ObservationType[],
  draft: ObservationDraft,
): FieldProblem[] {
  const found: FieldProblem[] = [];
  const kind = types.find((t) => t.code === draft.type);
  if (!kind) {
    return [
      { field: "type", problem: `unknown type; use one of ${types.map((t) => t.code).join(", ")}` },
    ];
  }
  const value = draft.value.trim() === "" ? Number.NaN : Number(draft.value);
  if (!Number.isFinite(value)) {
    found.push({ field: "value", problem: "Enter a number." });
  } else if (value < kind.minimum || value > kind.maximum) {
    found.push({ field: "value", problem: rangeProblem(kind) });
  }
  if (draft.unit !== kind.unit) {
    found.push({ field: "unit", problem: `${kind.display} is recorded in ${kind.unit}` });
  }
  if (draft.effectiveAt === null) {
    found.push({ field: "effective_at", problem: "Enter the date and time of the measurement." });
  }
  if (draft.note.length > MAX_NOTE) {
    found.push({ field: "note", problem: `Use at most ${MAX_NOTE} characters.` });
  }
  return found;
}

export function byField(found: readonly FieldProblem[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const { field, problem } of found) map[field] ??= problem;
  return map;
}
