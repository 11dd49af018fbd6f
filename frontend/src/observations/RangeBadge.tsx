import type { Observation, ObservationType } from "../api/types";
import { MARK_WORDS, rangeMark } from "../lib/units";

/** In range / out of range, said in words (not colour alone). */
export function RangeBadge({
  observation,
  kind,
}: {
  observation: Observation;
  kind: ObservationType | undefined;
}) {
  const mark = rangeMark(observation, kind);
  if (mark === null) return null;
  return <span className={`badge range-${mark}`}>{MARK_WORDS[mark]}</span>;
}
