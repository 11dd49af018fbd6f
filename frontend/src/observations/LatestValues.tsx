import type { Observation, ObservationType } from "../api/types";
import { formatDateTime, formatNumber } from "../lib/format";

/** The newest value of each measurement type, one card each. */
export function LatestValues({
  types,
  latest,
}: {
  types: readonly ObservationType[];
  latest: readonly Observation[];
}) {
  const byType = new Map(latest.map((o) => [o.type, o]));
  return (
    <section aria-labelledby="latest-title">
      <h2 id="latest-title">Latest values</h2>
      <ul className="cards">
        {types.map((kind) => {
          const newest = byType.get(kind.code);
          return (
            <li key={kind.code} className="card" data-type={kind.code}>
              <span className="card-label">{kind.display}</span>
              {newest ? (
                <>
                  <span className="card-value">
                    {formatNumber(newest.value)} <small>{newest.unit}</small>
                  </span>
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
