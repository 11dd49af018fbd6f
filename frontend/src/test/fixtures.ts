import type { ObservationType } from "../api/types";

/** Two types of the API's vocabulary, as GET /api/observations/types gives them. */
export const TYPES: ObservationType[] = [
  {
    code: "body_weight",
    display: "Body weight",
    loinc: "29463-7",
    unit: "kg",
    minimum: 0.5,
    maximum: 500,
  },
  {
    code: "heart_rate",
    display: "Heart rate",
    loinc: "8867-4",
    unit: "/min",
    minimum: 20,
    maximum: 300,
  },
];
