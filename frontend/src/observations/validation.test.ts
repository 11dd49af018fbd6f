import { describe, expect, it } from "vitest";

import { BLOOD_PRESSURE, TYPES } from "../test/fixtures";
import { formatReading, rangeMark } from "../lib/units";
import { fromLocalInput } from "../lib/format";
import { changesOf, problems, shownForEditing, valuesOf } from "./validation";

const GOOD = {
  type: "heart_rate",
  value: "62",
  components: {},
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
      { field: "value", problem: "Heart rate must be between 20 and 300 bpm" },
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

describe("blood pressure, one reading of two values", () => {
  const reading = {
    ...GOOD,
    type: "blood_pressure",
    unit: "mm[Hg]",
    value: "",
    components: { systolic: "132", diastolic: "82" },
  };
  const types = [...TYPES, BLOOD_PRESSURE];

  it("takes both halves, each in its range, systolic above diastolic", () => {
    expect(problems(types, reading)).toEqual([]);
    expect(valuesOf(BLOOD_PRESSURE, reading)).toEqual({
      components: { systolic: 132, diastolic: 82 },
    });
    expect(problems(types, { ...reading, components: { systolic: "132" } })).toEqual([
      { field: "components.diastolic", problem: "Enter a number." },
    ]);
    expect(
      problems(types, { ...reading, components: { systolic: "80", diastolic: "90" } }),
    ).toEqual([{ field: "components.diastolic", problem: "Diastolic must be below systolic" }]);
  });

  it("reads as people write it, marked against the usual range", () => {
    const stored = {
      id: "o1",
      type: "blood_pressure",
      loinc: "85354-9",
      value: 132,
      components: { systolic: 132, diastolic: 82 },
      unit: "mm[Hg]",
      effective_at: "2026-11-25T08:30:00Z",
      note: null,
    };
    expect(formatReading(stored, BLOOD_PRESSURE)).toBe("132/82 mmHg");
    expect(rangeMark(stored, BLOOD_PRESSURE)).toBe("high");
    const usual = { ...stored, components: { systolic: 115, diastolic: 75 }, value: 115 };
    expect(rangeMark(usual, BLOOD_PRESSURE)).toBe("usual");
  });
});

describe("units as the patient chose them", () => {
  const weight = TYPES[0]!;

  it("takes a weight in pounds and stores it in kilograms", () => {
    const inPounds = { ...GOOD, type: "body_weight", unit: "kg", value: "154.3" };
    expect(problems(TYPES, inPounds, { mass: "lb" })).toEqual([]);
    expect(valuesOf(weight, inPounds, { mass: "lb" })).toEqual({ value: 69.989 });
    expect(problems(TYPES, { ...inPounds, value: "2000" }, { mass: "lb" })).toEqual([
      { field: "value", problem: "Body weight must be between 1.1 and 1102.3 lb" },
    ]);
  });

  it("shows a stored weight in the chosen unit", () => {
    const stored = {
      id: "w1",
      type: "body_weight",
      loinc: "29463-7",
      value: 69.989,
      components: null,
      unit: "kg",
      effective_at: "2026-11-25T08:30:00Z",
      note: null,
    };
    expect(formatReading(stored, weight, { mass: "lb" })).toBe("154.3 lb");
    expect(formatReading(stored, weight, {})).toBe("69.989 kg");
  });
});

describe("numbers as people type them", () => {
  it("takes a decimal comma", () => {
    const weight = TYPES.find((t) => t.code === "body_weight")!;
    const draft = { ...GOOD, type: "body_weight", unit: "kg", value: "70,5" };
    expect(problems(TYPES, draft)).toEqual([]);
    expect(valuesOf(weight, draft)).toEqual({ value: 70.5 });
    expect(problems(TYPES, { ...draft, value: "1,000,5" })).toEqual([
      { field: "value", problem: "Enter a number." },
    ]);
  });
});

describe("a correction", () => {
  const weight = TYPES.find((t) => t.code === "body_weight")!;
  const stored = {
    id: "o1",
    type: "body_weight",
    loinc: "29463-7",
    value: 74.2,
    components: null,
    unit: "kg",
    effective_at: "2026-11-25T08:30:52Z",
    note: null,
  };
  const inPounds = { mass: "lb" };

  it("sends only what was changed: a new note leaves the value rounded for display alone", () => {
    const shown = shownForEditing(weight, stored, inPounds);
    expect(shown.value).toBe("163.6");
    const draft = {
      type: "body_weight",
      value: shown.value,
      components: {},
      unit: "kg",
      effectiveAt: fromLocalInput(shown.when),
      note: "after breakfast",
    };
    expect(changesOf(weight, stored, draft, inPounds)).toEqual({ note: "after breakfast" });
  });

  it("sends the value, in the stored unit, once it is typed anew", () => {
    const shown = shownForEditing(weight, stored, inPounds);
    const draft = {
      type: "body_weight",
      value: "165",
      components: {},
      unit: "kg",
      effectiveAt: fromLocalInput(shown.when),
      note: "",
    };
    const change = changesOf(weight, stored, draft, inPounds);
    expect(change.unit).toBe("kg");
    expect(change.value).toBeCloseTo(74.843, 3);
    expect(change).not.toHaveProperty("effective_at");
  });
});
