import { useEffect, useMemo, useRef, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";

import { observations } from "../api/endpoints";
import type { Observation, ObservationType } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { formatDateTime, formatNumber } from "../lib/format";
import { shownUnit, toShown, useUnitChoices } from "../lib/units";
import { useLoad } from "../lib/useLoad";
import { PERIODS, periodOf, timeTicks, valueTicks } from "./chartAxes";
import type { CustomDates, PeriodKey } from "./chartAxes";
import { TypeOptions } from "./TypeOptions";

const PAGE = 200; // the API's largest page
// The lines' colours: the brand's, and a second that reads apart from it.
const COLOURS = ["#0b5d7a", "#a4161a"];
const MAX_POINTS = 1000;
const HEIGHT = 260;
// Room on the right for half of a date's label, centred on a tick near the end.
const MARGIN = { top: 8, right: 28, bottom: 8, left: 0 };
// A digit's width in the axis' font (about 10 px; measured by tests/e2e/test_portal.py), with
// room to spare: the value axis is as wide as its longest label.
const Y_LABEL_PX = 11;

/** A measurement as the chart draws it: its values in the unit shown, by line. */
type Point = { id: string; time: number; values: Record<string, number> };

/** Up to MAX_POINTS measurements of one type in the period, oldest first. */
async function series(
  type: string,
  query: { from?: string; to?: string },
): Promise<{ points: Observation[]; total: number }> {
  const points: Observation[] = [];
  let total = 0;
  do {
    const page = await observations.list({ type, ...query, limit: PAGE, offset: points.length });
    total = page.total;
    points.push(...page.items);
    if (page.items.length === 0) break;
  } while (points.length < Math.min(total, MAX_POINTS));
  return { points: points.reverse(), total };
}

/** The width the chart has, followed as the window or the phone turns. */
function useWidth<T extends HTMLElement>(): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver((entries) =>
      setWidth(Math.floor(entries[0]?.contentRect.width ?? 0)),
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export function ObservationChart({
  types,
  version,
}: {
  types: readonly ObservationType[];
  version: number;
}) {
  const [type, setType] = useState(types[0]?.code ?? "");
  const [periodKey, setPeriodKey] = useState<PeriodKey>("30d");
  const [custom, setCustom] = useState<CustomDates>({ from: "", to: "" });
  // "Now" is when the period was chosen (or the data changed), so the axis holds still.
  const now = useMemo(() => Date.now(), [periodKey, version]);
  const period = periodOf(periodKey, custom, now);
  const kind = types.find((t) => t.code === type);
  const queryKey = JSON.stringify(period.query);
  const loaded = useLoad(
    () => (period.problem ? Promise.resolve({ points: [], total: 0 }) : series(type, period.query)),
    [type, queryKey, period.problem, version],
  );
  const choices = useUnitChoices();
  const unit = kind ? shownUnit(kind, choices) : undefined;
  const shown = (v: number) => (unit ? toShown(v, unit) : v);
  const data: Point[] = (loaded.data?.points ?? []).map((o) => ({
    id: o.id,
    time: new Date(o.effective_at).getTime(),
    values: Object.fromEntries(
      Object.entries(o.components ?? { value: o.value }).map(([k, v]) => [k, shown(v)]),
    ),
  }));
  // One line per value: a reading of several (blood pressure) draws each of its own.
  const lines =
    kind && kind.components.length > 0
      ? kind.components.map((c, i) => ({ key: c.code, name: c.display, colour: COLOURS[i] }))
      : [{ key: "value", name: kind?.display ?? "", colour: COLOURS[0] }];
  const [figureRef, width] = useWidth<HTMLElement>();
  const values = data.flatMap((d) => lines.map((l) => d.values[l.key] ?? Number.NaN));
  const y = valueTicks(values);
  const yWidth = Math.max(...y.ticks.map((t) => y.format(t).length)) * Y_LABEL_PX + 14;
  // All time starts a day before the first measurement, so its point clears the value axis.
  const x = timeTicks(
    period.start ?? (data[0] ? data[0].time - 86_400_000 : now - 30 * 86_400_000),
    period.end,
    width - yWidth - MARGIN.right,
    { left: yWidth, right: MARGIN.right },
  );
  const unitLabel = unit?.label ?? "";
  const what = kind?.display ?? "";
  const summary = `${what} over time${unitLabel ? ` in ${unitLabel}` : ""}: ${data.length} measurements`;
  const reading = (d: (typeof data)[number]) =>
    lines
      .map((l) => {
        const v = d.values[l.key];
        return v === undefined ? "–" : formatNumber(v);
      })
      .join("/");

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
            <select
              {...control}
              value={periodKey}
              onChange={(e) => setPeriodKey(e.target.value as PeriodKey)}
            >
              {PERIODS.map((p) => (
                <option key={p.key} value={p.key}>
                  {p.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {periodKey === "custom" ? (
          <>
            <Field label="From" error={period.problem ?? undefined}>
              {(control) => (
                <input
                  {...control}
                  type="date"
                  value={custom.from}
                  onChange={(e) => setCustom({ ...custom, from: e.target.value })}
                />
              )}
            </Field>
            <Field label="To">
              {(control) => (
                <input
                  {...control}
                  type="date"
                  value={custom.to}
                  onChange={(e) => setCustom({ ...custom, to: e.target.value })}
                />
              )}
            </Field>
          </>
        ) : null}
      </div>
      <ErrorNotice error={loaded.error} onRetry={loaded.reload} />
      <figure
        ref={figureRef}
        className="chart-figure"
        aria-label={summary}
        data-points={data.length}
        hidden={period.problem !== null || (data.length === 0 && !loaded.loading)}
      >
        {unitLabel ? <figcaption className="chart-unit">{unitLabel}</figcaption> : null}
        {width > 0 ? (
          // One keyboard stop: the chart's accessibility layer takes focus once and the arrow
          // keys move between the points; the table below gives a screen reader the same.
          <LineChart
            width={width}
            height={HEIGHT}
            data={data}
            margin={MARGIN}
            accessibilityLayer
            title={summary}
          >
            <CartesianGrid stroke="#d5dde3" strokeDasharray="3 3" />
            <XAxis
              dataKey="time"
              type="number"
              scale="time"
              domain={x.domain}
              ticks={x.ticks}
              interval={0}
              tickFormatter={x.format}
              allowDataOverflow
            />
            <YAxis
              domain={y.domain}
              ticks={y.ticks}
              interval={0}
              tickFormatter={y.format}
              width={yWidth}
            />
            <Tooltip
              labelFormatter={(t) => formatDateTime(new Date(Number(t)).toISOString())}
              formatter={(v, name) => [`${formatNumber(Number(v))} ${unitLabel}`, String(name)]}
            />
            {/* In the reading's order ("132/82": systolic first), not sorted by name. */}
            {lines.length > 1 ? <Legend itemSorter={null} /> : null}
            {lines.map((line) => (
              <Line
                key={line.key}
                name={line.name}
                type="linear"
                dataKey={(p: Point) => p.values[line.key]}
                stroke={line.colour}
                strokeWidth={2}
                dot
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        ) : null}
        {loaded.data && loaded.data.total > loaded.data.points.length ? (
          <p className="hint">
            Showing the latest {loaded.data.points.length} of {loaded.data.total}.
          </p>
        ) : null}
      </figure>
      <details className="chart-table" hidden={data.length === 0}>
        <summary>Show as a table</summary>
        <table>
          <caption className="visually-hidden">{summary}</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">
                {what}
                {unitLabel ? ` (${unitLabel})` : ""}
              </th>
            </tr>
          </thead>
          <tbody>
            {[...data].reverse().map((d) => (
              <tr key={d.id}>
                <td>{formatDateTime(new Date(d.time).toISOString())}</td>
                <td>{reading(d)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {data.length === 0 && !loaded.loading && period.problem === null ? (
        <p className="empty">No {what.toLowerCase() || "measurements"} in this period.</p>
      ) : null}
    </section>
  );
}
