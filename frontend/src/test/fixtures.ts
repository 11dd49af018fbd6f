import type { ObservationType } from "../api/types";

/** Types of the API's vocabulary, as GET /api/observations/types gives them. */
export const TYPES: ObservationType[] = [
  {
    code: "body_weight",
    display: "Body weight",
    loinc: "29463-7",
    unit: "kg",
    unit_label: "kg",
    minimum: 0.5,
    maximum: 500,
    reference_low: null,
    reference_high: null,
    components: [],
    recorded: true,
    preference: "mass",
    display_units: [
      { key: "kg", label: "kg", scale: 1, offset: 0 },
      { key: "lb", label: "lb", scale: 0.45359237, offset: 0 },
    ],
  },
  {
    code: "heart_rate",
    display: "Heart rate",
    loinc: "8867-4",
    unit: "/min",
    unit_label: "bpm",
    minimum: 20,
    maximum: 300,
    reference_low: 60,
    reference_high: 100,
    components: [],
    recorded: true,
    preference: null,
    display_units: [{ key: "/min", label: "bpm", scale: 1, offset: 0 }],
  },
];

/** Blood pressure: one reading of two values (FHIR's panel). */
export const BLOOD_PRESSURE: ObservationType = {
  code: "blood_pressure",
  display: "Blood pressure",
  loinc: "85354-9",
  unit: "mm[Hg]",
  unit_label: "mmHg",
  minimum: 40,
  maximum: 300,
  reference_low: null,
  reference_high: null,
  components: [
    {
      code: "systolic",
      display: "Systolic",
      loinc: "8480-6",
      minimum: 40,
      maximum: 300,
      reference_low: 90,
      reference_high: 120,
    },
    {
      code: "diastolic",
      display: "Diastolic",
      loinc: "8462-4",
      minimum: 20,
      maximum: 200,
      reference_low: 60,
      reference_high: 80,
    },
  ],
  recorded: true,
  preference: null,
  display_units: [{ key: "mm[Hg]", label: "mmHg", scale: 1, offset: 0 }],
};
