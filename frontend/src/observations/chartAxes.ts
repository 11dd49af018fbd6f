/**
 * The trend chart's axes: the period a patient chose is the time axis, and both axes tick
 * at round steps (whole days, weeks, months or years; 1, 2 or 5 times a power of ten),
 * as few as fit the chart's width without labels touching. d3-scale (which the chart
 * library uses too) picks the steps.
 */
import { scaleLinear, scaleTime } from "d3-scale";
import { timeDay, timeHour, timeMonday, timeMonth, timeYear } from "d3-time";
import type { TimeInterval } from "d3-time";

const DAY = 86_400_000;

export const PERIODS = [
  { key: "7d", label: "Last 7 days", days: 7 },
  { key: "30d", label: "Last 30 days", days: 30 },
  { key: "90d", label: "Last 90 days", days: 90 },
  { key: "1y", label: "Last year", days: 365 },
  { key: "all", label: "All time", days: null },
  { key: "custom", label: "Dates I choose", days: null },
] as const;

export type PeriodKey = (typeof PERIODS)[number]["key"];

/** Custom dates as <input type="date"> gives them: "YYYY-MM-DD", or "" when not chosen. */
export type CustomDates = { from: string; to: string };

export type Period = {
  /** The time axis' ends, in milliseconds; `start` is null for "all time" (the first point). */
  start: number | null;
  end: number;
  /** What to ask the API for (ISO instants). */
  query: { from?: string; to?: string };
  /** Why custom dates cannot be used, in words; null when they can. */
  problem: string | null;
};

/** A date input's value as the local midnight that begins it. */
function localDay(value: string): number | null {
  const [y, m, d] = value.split("-").map(Number);
  if (!y || !m || !d) return null;
  return new Date(y, m - 1, d).getTime();
}

export function periodOf(key: PeriodKey, custom: CustomDates, now: number): Period {
  if (key === "custom") {
    const start = localDay(custom.from);
    const endDay = localDay(custom.to);
    let problem: string | null = null;
    if (start === null || endDay === null) problem = "Choose both dates.";
    else if (endDay < start) problem = "The end date is before the start date.";
    if (problem || start === null || endDay === null) {
      return { start: now - 30 * DAY, end: now, query: {}, problem };
    }
    // The whole of the last day: midnight after it (local; a day can last 23 or 25 hours).
    const last = new Date(endDay);
    const end = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1).getTime();
    return {
      start,
      end,
      query: { from: new Date(start).toISOString(), to: new Date(end).toISOString() },
      problem: null,
    };
  }
  const days = PERIODS.find((p) => p.key === key)?.days ?? null;
  if (days === null) return { start: null, end: now, query: {}, problem: null };
  const start = now - days * DAY;
  return { start, end: now, query: { from: new Date(start).toISOString() }, problem: null };
}

// A date label's width, estimated from its characters (about 10 px each in the axis' font:
// tests/e2e/test_portal.py measures that none touches another or the drawing's edge), and
// the least gap between two.
const CHAR_PX = 10;
const GAP_PX = 16;

const day = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const dayOfMonth = new Intl.DateTimeFormat(undefined, { day: "numeric" });
const month = new Intl.DateTimeFormat(undefined, { month: "short" });
const monthYear = new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric" });
const year = new Intl.DateTimeFormat(undefined, { year: "numeric" });
const hour = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

export type Ticks = { domain: [number, number]; ticks: number[]; format: (t: number) => string };

// The round steps a time axis may take, shortest first.
const STEPS: readonly TimeInterval[] = [
  timeHour.every(3),
  timeHour.every(6),
  timeHour.every(12),
  timeDay,
  timeDay.every(2),
  timeMonday,
  timeMonday.every(2),
  timeMonth,
  timeMonth.every(2),
  timeMonth.every(3),
  timeMonth.every(6),
  timeYear,
  timeYear.every(2),
  timeYear.every(5),
  timeYear.every(10),
].filter((step): step is TimeInterval => step !== null);

/** How a tick `step` apart from the next is named: "Nov 30", "Nov", "Nov 2026", "2026". */
function formatterFor(step: number, spansYears: boolean): Intl.DateTimeFormat {
  if (step >= 360 * DAY) return year;
  if (step >= 28 * DAY) return spansYears ? monthYear : month;
  return step >= DAY ? day : hour;
}

/** The space beside the plot a label centred on its tick may use: the value axis on the
 * left, the chart's margin on the right. */
export type Beside = { left: number; right: number };

/**
 * Ticks at the shortest round step across [start, end] (drawn `width` pixels wide) whose
 * labels neither touch nor pass the drawing's edges; a tick whose label would is left out.
 */
export function timeTicks(
  start: number,
  end: number,
  width: number,
  beside: Beside = { left: 0, right: 0 },
): Ticks {
  const span = Math.max(end - start, DAY);
  const domain: [number, number] = [start, start + span];
  const spansYears = new Date(domain[0]).getFullYear() !== new Date(domain[1]).getFullYear();
  const scale = scaleTime().domain(domain).range([0, width]);
  let best: { ticks: Date[]; labels: string[] } | undefined;
  for (const interval of STEPS) {
    const candidate = scale.ticks(interval);
    const [first, second] = candidate;
    const step = first && second ? second.getTime() - first.getTime() : span;
    const whole = formatterFor(step, spansYears);
    // At the edges, room for the whole label (the first one kept may name its month).
    const kept = candidate.filter((t) => {
      const half = (whole.format(t).length * CHAR_PX) / 2;
      return scale(t) - half >= -beside.left && scale(t) + half <= width + beside.right;
    });
    const labels = labelsOf(kept, whole);
    const half = (i: number) => (labels[i]!.length * CHAR_PX) / 2;
    const apart = kept.every(
      (t, i) => i === 0 || scale(t) - half(i) - (scale(kept[i - 1]!) + half(i - 1)) >= GAP_PX,
    );
    if (!apart) continue;
    // The shortest step with two labels or more; failing that, the one with most.
    if (!best || kept.length > best.ticks.length) best = { ticks: kept, labels };
    if (kept.length >= 2) break;
  }
  const ticks = (best?.ticks ?? []).map((t) => t.getTime());
  const labels = new Map(ticks.map((t, i) => [t, best!.labels[i]!]));
  return { domain, ticks, format: (t) => labels.get(t) ?? day.format(t) };
}

/** Day ticks name their month only at the first and where it changes ("Nov 28", "30",
 * "Dec 2"): a phone has room for more of them. Other steps say it all each time. */
function labelsOf(ticks: readonly Date[], whole: Intl.DateTimeFormat): string[] {
  if (whole !== day) return ticks.map((t) => whole.format(t));
  return ticks.map((t, i) =>
    i > 0 && ticks[i - 1]!.getMonth() === t.getMonth() ? dayOfMonth.format(t) : day.format(t),
  );
}

/** Round ticks over the values (about five), the axis starting and ending on one. */
export function valueTicks(values: readonly number[]): Ticks {
  const finite = values.filter(Number.isFinite);
  let low = finite.length ? Math.min(...finite) : 0;
  let high = finite.length ? Math.max(...finite) : 1;
  if (low === high) {
    // One value, or all the same: a band around it, so the line sits mid-height.
    const pad = Math.abs(low) * 0.1 || 1;
    low -= pad;
    high += pad;
  }
  const scale = scaleLinear().domain([low, high]).nice(5);
  const [a = low, b = high] = scale.domain();
  const format = scale.tickFormat(5);
  return { domain: [a, b], ticks: scale.ticks(5), format: (v) => format(v) };
}
