/**
 * The API's rules for a measurement, applied before sending so the user hears about a
 * mistake at once, in the API's own words. The rules come from the API's vocabulary
 * (GET /api/observations/types): the type must be known, the unit must be the type's
 * unit, the value must lie in the type's range.
 */
import type { FieldProblem } from "../api/client";
import type { Observation, ObservationChange, ObservationType } from "../api/types";
import { formatNumber, fromLocalInput, toLocalInput } from "../lib/format";
import { shownUnit, toShown, toStored } from "../lib/units";

export const MAX_NOTE = 500;

export interface ObservationDraft {
  type: string;
  value: string;
  /** A reading of several values: each as typed, by component code. */
  components: Record<string, string>;
  unit: string;
  /** ISO instant, or null when the field is empty or unreadable. */
  effectiveAt: string | null;
  note: string;
}

export function rangeProblem(
  kind: { display: string; minimum: number; maximum: number },
  unitLabel: string,
): string {
  return `${kind.display} must be between ${formatNumber(kind.minimum)} and ${formatNumber(kind.maximum)} ${unitLabel}`;
}

/** A number typed in a field, or NaN; a decimal comma as people write it ("37,2") too. */
function typed(text: string | undefined): number {
  if (!text || text.trim() === "") return Number.NaN;
  const written = text.trim();
  return Number(/^-?\d+,\d+$/.test(written) ? written.replace(",", ".") : written);
}

/** What the API takes for a draft: its value (entered in the chosen unit, sent in the
 * stored one), or its components. */
export function valuesOf(
  kind: ObservationType,
  draft: ObservationDraft,
  choices: Record<string, string> = {},
): { value?: number; components?: Record<string, number> } {
  if (kind.components.length === 0)
    return { value: toStored(typed(draft.value), shownUnit(kind, choices)) };
  return {
    components: Object.fromEntries(
      kind.components.map((c) => [c.code, typed(draft.components[c.code])]),
    ),
  };
}

export function problems(
  types: readonly ObservationType[],
  draft: ObservationDraft,
  choices: Record<string, string> = {},
): FieldProblem[] {
  const found: FieldProblem[] = [];
  const kind = types.find((t) => t.code === draft.type);
  if (!kind) {
    return [
      { field: "type", problem: `unknown type; use one of ${types.map((t) => t.code).join(", ")}` },
    ];
  }
  if (kind.components.length === 0) {
    const unit = shownUnit(kind, choices);
    const value = typed(draft.value);
    const stored = toStored(value, unit);
    if (!Number.isFinite(value)) {
      found.push({ field: "value", problem: "Enter a number." });
    } else if (stored < kind.minimum || stored > kind.maximum) {
      const shown = {
        display: kind.display,
        minimum: toShown(kind.minimum, unit),
        maximum: toShown(kind.maximum, unit),
      };
      found.push({ field: "value", problem: rangeProblem(shown, unit.label) });
    }
  }
  for (const part of kind.components) {
    const value = typed(draft.components[part.code]);
    const field = `components.${part.code}`;
    if (!Number.isFinite(value)) found.push({ field, problem: "Enter a number." });
    else if (value < part.minimum || value > part.maximum)
      found.push({ field, problem: rangeProblem(part, kind.unit_label) });
  }
  const [first, second] = kind.components;
  if (kind.code === "blood_pressure" && first && second && !found.length) {
    if (typed(draft.components[second.code]) >= typed(draft.components[first.code]))
      found.push({
        field: `components.${second.code}`,
        problem: "Diastolic must be below systolic",
      });
  }
  if (draft.unit !== kind.unit) {
    found.push({
      field: "unit",
      problem: `${kind.display} is recorded in ${kind.unit}`,
    });
  }
  if (draft.effectiveAt === null) {
    found.push({ field: "effective_at", problem: "Enter the date and time of the measurement." });
  }
  if (draft.note.length > MAX_NOTE) {
    found.push({ field: "note", problem: `Use at most ${MAX_NOTE} characters.` });
  }
  return found;
}

/** A measurement as the correction form first shows it: its values in the chosen unit (a
 * value shown in lb or mmol/L is rounded) and its time to the minute. */
export function shownForEditing(
  kind: ObservationType,
  original: Observation,
  choices: Record<string, string> = {},
): { value: string; components: Record<string, string>; when: string } {
  return {
    value: String(toShown(original.value, shownUnit(kind, choices))),
    components: Object.fromEntries(
      Object.entries(original.components ?? {}).map(([k, v]) => [k, String(v)]),
    ),
    when: toLocalInput(original.effective_at),
  };
}

/**
 * What a correction changes: only the fields whose text differs from what the form showed.
 * Sending the rounded value back would change it (99 mg/dL shown as 5.5 mmol/L comes back
 * as 99.088), and the time would lose its seconds.
 */
export function changesOf(
  kind: ObservationType,
  original: Observation,
  draft: ObservationDraft,
  choices: Record<string, string> = {},
): ObservationChange {
  const shown = shownForEditing(kind, original, choices);
  const change: ObservationChange = {};
  const valueChanged =
    kind.components.length === 0
      ? draft.value.trim() !== shown.value
      : kind.components.some(
          (c) => (draft.components[c.code] ?? "").trim() !== shown.components[c.code],
        );
  if (valueChanged) Object.assign(change, valuesOf(kind, draft, choices), { unit: draft.unit });
  if (draft.effectiveAt !== null && draft.effectiveAt !== fromLocalInput(shown.when))
    change.effective_at = draft.effectiveAt;
  const note = draft.note.trim() || null;
  if (note !== (original.note ?? null)) change.note = note;
  return change;
}
