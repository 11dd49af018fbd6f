import type { DisplayUnit, Observation, ObservationType } from "../api/types";
import { useOptionalSession } from "../auth/session";
import { formatNumber } from "./format";

/** The user's unit choices ({mass: "lb"}); none before the session is known. */
export function useUnitChoices(): Record<string, string> {
  return useOptionalSession()?.user?.units ?? {};
}

/** The unit `kind` is shown and entered in, by the user's choice (its own by default). */
export function shownUnit(kind: ObservationType, choices: Record<string, string>): DisplayUnit {
  const key = kind.preference ? choices[kind.preference] : undefined;
  return (
    kind.display_units.find((unit) => unit.key === key) ??
    kind.display_units[0] ?? { key: kind.unit, label: kind.unit_label, scale: 1, offset: 0 }
  );
}

const converted = (unit: DisplayUnit) => unit.scale !== 1 || unit.offset !== 0;

/** A stored value in a shown unit, to a tenth when converted (154.3 lb, 98.6 °F). */
export function toShown(stored: number, unit: DisplayUnit): number {
  const shown = (stored - unit.offset) / unit.scale;
  return converted(unit) ? Math.round(shown * 10) / 10 : shown;
}

/** A value entered in a shown unit, as stored (to the column's thousandth). */
export function toStored(shown: number, unit: DisplayUnit): number {
  return Math.round((shown * unit.scale + unit.offset) * 1000) / 1000;
}

/** "132/82 mmHg" for a reading of several values, "154.3 lb" for one, in the chosen unit. */
export function formatReading(
  observation: Observation,
  kind: ObservationType | undefined,
  choices: Record<string, string> = {},
): string {
  if (!kind) return `${formatNumber(observation.value)} ${observation.unit}`;
  if (kind.components.length > 0 && observation.components) {
    const parts = kind.components.map((c) => formatNumber(observation.components?.[c.code] ?? NaN));
    return `${parts.join("/")} ${kind.unit_label}`;
  }
  const unit = shownUnit(kind, choices);
  return `${formatNumber(toShown(observation.value, unit))} ${unit.label}`;
}

export type RangeMark = "low" | "usual" | "high" | null;

function markOf(value: number, low: number | null, high: number | null): RangeMark {
  if (low === null || high === null || !Number.isFinite(value)) return null;
  if (value < low) return "low";
  return value > high ? "high" : "usual";
}

/**
 * Whether a measurement lies in its type's usual adult range (a reading of several: all of
 * its values); null when the type has no single range, as for weight.
 */
export function rangeMark(observation: Observation, kind: ObservationType | undefined): RangeMark {
  if (!kind) return null;
  if (kind.components.length === 0)
    return markOf(observation.value, kind.reference_low, kind.reference_high);
  const marks = kind.components.map((c) =>
    markOf(observation.components?.[c.code] ?? NaN, c.reference_low, c.reference_high),
  );
  if (marks.includes("high")) return "high";
  if (marks.includes("low")) return "low";
  return marks.every((m) => m === "usual") ? "usual" : null;
}

export const MARK_WORDS: Record<Exclude<RangeMark, null>, string> = {
  low: "Below the usual range",
  usual: "In the usual range",
  high: "Above the usual range",
};
