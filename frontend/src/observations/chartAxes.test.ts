import { describe, expect, it } from "vitest";

import { periodOf, timeTicks, valueTicks } from "./chartAxes";

const DAY = 86_400_000;
const NOW = new Date(2026, 10, 30, 15, 45).getTime(); // 30 Nov 2026, 15:45 local
const noDates = { from: "", to: "" };

describe("the period", () => {
  it("is the time axis: the last 30 days end now", () => {
    const period = periodOf("30d", noDates, NOW);
    expect(period.start).toBe(NOW - 30 * DAY);
    expect(period.end).toBe(NOW);
    expect(period.query).toEqual({ from: new Date(NOW - 30 * DAY).toISOString() });
  });

  it("all time starts at the first measurement", () => {
    expect(periodOf("all", noDates, NOW)).toMatchObject({ start: null, query: {} });
  });

  it("custom dates include the whole last day", () => {
    const period = periodOf("custom", { from: "2026-11-01", to: "2026-11-07" }, NOW);
    expect(period.problem).toBeNull();
    expect(period.start).toBe(new Date(2026, 10, 1).getTime());
    expect(period.end).toBe(new Date(2026, 10, 8).getTime());
    expect(period.query.to).toBe(new Date(2026, 10, 8).toISOString());
  });

  it("says what is wrong with custom dates in words", () => {
    expect(periodOf("custom", { from: "2026-11-01", to: "" }, NOW).problem).toBe(
      "Choose both dates.",
    );
    expect(periodOf("custom", { from: "2026-11-07", to: "2026-11-01" }, NOW).problem).toBe(
      "The end date is before the start date.",
    );
  });
});

describe("the time axis", () => {
  const steps = (ticks: number[]) => ticks.slice(1).map((t, i) => t - ticks[i]!);

  it("ticks at whole days over a week", () => {
    const { ticks } = timeTicks(NOW - 7 * DAY, NOW, 1000);
    for (const t of ticks) expect(new Date(t).getHours()).toBe(0);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
  });

  it("fits a phone: no more labels than the width holds", () => {
    // A 390 px phone: the plot about 280 px wide, the value axis' 36 px left of it.
    const { ticks } = timeTicks(NOW - 30 * DAY, NOW, 280, { left: 36, right: 28 });
    expect(ticks.length).toBeLessThanOrEqual(6); // about 45 px a label, "Nov 2" or "9"
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    // Round steps: whole days, and all alike (a week or more on a phone).
    for (const step of steps(ticks)) expect(step % DAY === 0 || step > 6 * DAY).toBe(true);
  });

  it("gives a week on a phone a label a day or two apart, the month named once", () => {
    const { ticks, format } = timeTicks(NOW - 7 * DAY, NOW, 250, { left: 36, right: 28 });
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    const labels = ticks.map(format);
    expect(labels[0]).toMatch(/[A-Za-z]/);
    expect(labels.slice(1).some((l) => /^\d+$/.test(l))).toBe(true);
  });

  it("names months over a year, and years over several", () => {
    const year = timeTicks(NOW - 365 * DAY, NOW, 800);
    for (const t of year.ticks) expect(new Date(t).getDate()).toBe(1);
    expect(year.format(year.ticks[0]!)).not.toMatch(/^\d+ /);
    const decade = timeTicks(NOW - 3650 * DAY, NOW, 800);
    for (const t of decade.ticks) expect(decade.format(t)).toMatch(/^\d{4}$/);
  });

  it("leaves out a tick whose label would pass the drawing's edge", () => {
    // The year's first month tick falls a day after its start: its label has no room.
    const start = new Date(2025, 10, 30).getTime();
    const { ticks } = timeTicks(start, start + 365 * DAY, 800);
    expect(ticks[0]).toBeGreaterThan(new Date(2025, 11, 1).getTime());
  });

  it("stays within the period", () => {
    const { domain, ticks } = timeTicks(NOW - 90 * DAY, NOW, 600);
    expect(domain).toEqual([NOW - 90 * DAY, NOW]);
    for (const t of ticks) expect(t >= domain[0] && t <= domain[1]).toBe(true);
  });
});

describe("the value axis", () => {
  it("starts and ends on round values around the data", () => {
    const { domain, ticks } = valueTicks([61, 64, 70, 66, 59]);
    expect(domain[0]).toBeLessThanOrEqual(59);
    expect(domain[1]).toBeGreaterThanOrEqual(70);
    expect(ticks[0]).toBe(domain[0]);
    expect(ticks.at(-1)).toBe(domain[1]);
    for (const t of ticks) expect(t % 2).toBe(0);
  });

  it("puts one value mid-height", () => {
    const { domain } = valueTicks([120]);
    expect(domain[0]).toBeLessThan(120);
    expect(domain[1]).toBeGreaterThan(120);
  });

  it("ignores gaps", () => {
    expect(valueTicks([Number.NaN, 5, 7]).domain[0]).toBeLessThanOrEqual(5);
  });
});
