import { useState } from "react";
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import { observations } from "../api/endpoints";
import type { Observation, ObservationType } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { formatDate, formatDateTime, formatNumber } from "../lib/format";
import { shownUnit, toShown, useUnitChoices } from "../lib/units";
import { useLoad } from "../lib/useLoad";
import { TypeOptions } from "./TypeOptions";

export const RANGES = [
  { key: "7d", label: "Last 7 days", days: 7 },
  { key: "30d", label: "Last 30 days", days: 30 },
  { key: "90d", label: "Last 90 days", days: 90 },
  { key: "1y", label: "Last year", days: 365 },
  { key: "all", label: "All time", days: null },
] as const;

const PAGE = 200; // the API's largest page
// The lines' colours: the brand's, and a second that reads apart from it.
const COLOURS = ["#0b5d7a", "#a4161a"];
const MAX_POINTS = 1000;

/** Up to MAX_POINTS measurements of one type since `from`, oldest first. */
async function series(
  type: string,
  from: string | undefined,
): Promise<{ points: Observation[]; total: number }> {
  const points: Observation[] = [];
  let total = 0;
  do {
    const page = await observations.list({ type, from, limit: PAGE, offset: points.length });
    total = page.total;
    points.push(...page.items);
    if (page.items.length === 0) break;
  } while (points.length < Math.min(total, MAX_POINTS));
  return { points: points.reverse(), total };
}

export function ObservationChart({
  types,
  version,
}: {
  types: readonly ObservationType[];
  version: number;
}) {
  const [type, setType] = useState(types[0]?.code ?? "");
  const [rangeKey, setRangeKey] = useState<string>("30d");
  const range = RANGES.find((r) => r.key === rangeKey) ?? RANGES[1];
  const kind = types.find((t) => t.code === type);
  const from =
    range.days === null ? undefined : new Date(Date.now() - range.days * 86_400_000).toISOString();
  const loaded = useLoad(() => series(type, from), [type, rangeKey, version]);
  const choices = useUnitChoices();
  const unit = kind ? shownUnit(kind, choices) : undefined;
  const data = (loaded.data?.points ?? []).map((o) => ({
    time: new Date(o.effective_at).getTime(),
    value: unit ? toShown(o.value, unit) : o.value,
    ...o.components,
  }));
  // One line per value: a reading of several (blood pressure) draws each of its own.
  const lines =
    kind && kind.components.length > 0
      ? kind.components.map((c, i) => ({ key: c.code, name: c.display, colour: COLOURS[i] }))
      : [{ key: "value", name: kind?.display ?? "", colour: COLOURS[0] }];

  return (
    <section aria-labelledby="chart-title" className="chart">
      <h2 id="chart-title">Trend</h2>
      <div className="row">
        <Field label="Measurement">
          {(control) => (
            <select {...control} value={type} onChange={(e) => setType(e.target.value)}>
              <TypeOptions types={types} including={type} />
            </select>
          )}
        </Field>
        <Field label="Period">
          {(control) => (
            <select {...control} value={rangeKey} onChange={(e) => setRangeKey(e.target.value)}>
              {RANGES.map((r) => (
                <option key={r.key} value={r.key}>
                  {r.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <ErrorNotice error={loaded.error} onRetry={loaded.reload} />
      {data.length === 0 && !loaded.loading ? (
        <p className="empty">No {kind?.display.toLowerCase() ?? "measurements"} in this period.</p>
      ) : (
        <figure
          className="chart-figure"
          aria-label={`${kind?.display ?? ""} over time: ${data.length} measurements`}
          data-points={data.length}
        >
          <ResponsiveContainer width="100%" height={260}>
            <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid stroke="#d5dde3" strokeDasharray="3 3" />
              <XAxis
                dataKey="time"
                type="number"
                scale="time"
                domain={["dataMin", "dataMax"]}
                tickFormatter={(t: number) => formatDate(t)}
                minTickGap={24}
              />
              <YAxis domain={["auto", "auto"]} unit={unit ? ` ${unit.label}` : ""} width={80} />
              <Tooltip
                labelFormatter={(t) => formatDateTime(new Date(Number(t)).toISOString())}
                formatter={(v, name) => [
                  `${formatNumber(Number(v))} ${unit?.label ?? ""}`,
                  String(name),
                ]}
              />
              {lines.map((line) => (
                <Line
                  key={line.key}
                  name={line.name}
                  type="linear"
                  dataKey={line.key}
                  stroke={line.colour}
                  strokeWidth={2}
                  dot
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
          {loaded.data && loaded.data.total > loaded.data.points.length ? (
            <figcaption>
              Showing the latest {loaded.data.points.length} of {loaded.data.total}.
            </figcaption>
          ) : null}
        </figure>
      )}
    </section>
  );
}
