import { describe, expect, it } from "vitest";

import { TYPES } from "../test/fixtures";
import { problems } from "./validation";

const GOOD = {
  type: "heart_rate",
  value: "62",
  unit: "/min",
  effectiveAt: "2026-11-25T08:30:00.000Z",
  note: "",
};

describe("observation rules (the API's, in its words)", () => {
  it("accepts a plausible measurement", () => {
    expect(problems(TYPES, GOOD)).toEqual([]);
    expect(problems(TYPES, { ...GOOD, value: "20" })).toEqual([]); // the bounds are inclusive
    expect(problems(TYPES, { ...GOOD, value: "300" })).toEqual([]);
  });

  it("refuses a value out of the type's range", () => {
    expect(problems(TYPES, { ...GOOD, value: "400" })).toEqual([
      { field: "value", problem: "Heart rate must be between 20 and 300 /min" },
    ]);
    expect(problems(TYPES, { ...GOOD, type: "body_weight", unit: "kg", value: "0.4" })).toEqual([
      { field: "value", problem: "Body weight must be between 0.5 and 500 kg" },
    ]);
  });

  it("refuses another unit, an unknown type, a missing number or time, a long note", () => {
    expect(problems(TYPES, { ...GOOD, unit: "bpm" })).toEqual([
      { field: "unit", problem: "Heart rate is recorded in /min" },
    ]);
    expect(problems(TYPES, { ...GOOD, type: "mood" })[0]?.problem).toBe(
      "unknown type; use one of body_weight, heart_rate",
    );
    expect(problems(TYPES, { ...GOOD, value: "sixty" })[0]?.field).toBe("value");
    expect(problems(TYPES, { ...GOOD, value: " " })[0]?.field).toBe("value");
    expect(problems(TYPES, { ...GOOD, effectiveAt: null })[0]?.field).toBe("effective_at");
    expect(problems(TYPES, { ...GOOD, note: "x".repeat(501) })[0]?.field).toBe("note");
  });
});
