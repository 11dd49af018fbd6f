import type { Observation, ObservationType } from "../api/types";
import { formatDateTime } from "../lib/format";
import { formatReading, useUnitChoices } from "../lib/units";
import { RangeBadge } from "./RangeBadge";

/** The newest value of each measurement type, one card each, marked against its usual
 * range (types no longer recorded appear only when they hold a measurement). */
export function LatestValues({
  types,
  latest,
}: {
  types: readonly ObservationType[];
  latest: readonly Observation[];
}) {
  const choices = useUnitChoices();
  const byType = new Map(latest.map((o) => [o.type, o]));
  const shown = types.filter((kind) => kind.recorded || byType.has(kind.code));
  return (
    <section aria-labelledby="latest-title">
      <h2 id="latest-title">Latest values</h2>
      <ul className="cards">
        {shown.map((kind) => {
          const newest = byType.get(kind.code);
          return (
            <li key={kind.code} className="card" data-type={kind.code}>
              <span className="card-label">{kind.display}</span>
              {newest ? (
                <>
                  <span className="card-value">{formatReading(newest, kind, choices)}</span>
                  <RangeBadge observation={newest} kind={kind} />
                  <span className="card-when">{formatDateTime(newest.effective_at)}</span>
                </>
              ) : (
                <span className="card-empty">No measurement yet</span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
