import type { Observation, ObservationType } from "../api/types";
import { formatNumber } from "./format";

/** "132/82 mmHg" for a reading of several values, "62 bpm" for one. */
export function formatReading(observation: Observation, kind: ObservationType | undefined): string {
  // As people write the unit (the API's unit_label: "bpm", not "/min").
  const unit = kind?.unit_label ?? observation.unit;
  if (kind && kind.components.length > 0 && observation.components) {
    const parts = kind.components.map((c) => formatNumber(observation.components?.[c.code] ?? NaN));
    return `${parts.join("/")} ${unit}`;
  }
  return `${formatNumber(observation.value)} ${unit}`;
}

export type RangeMark = "low" | "usual" | "high" | null;

function markOf(value: number, low: number | null, high: number | null): RangeMark {
  if (low === null || high === null) return null;
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
