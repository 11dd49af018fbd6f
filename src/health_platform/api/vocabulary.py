"""The observation types a patient may record: LOINC code, the one accepted unit (UCUM),
the physiologically plausible range (outside it: refused), and the usual adult range
(outside it: marked, not refused)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObservationType:
    code: str
    display: str
    loinc: str
    unit: str
    minimum: float
    maximum: float
    # FHIR's observation category (an export's Observation.category).
    category: str = "vital-signs"
    # The usual range for an adult at rest, for an in-range mark (None: no single range, as
    # for weight and height). Information for the patient, not a diagnosis.
    reference_low: float | None = None
    reference_high: float | None = None


TYPES: dict[str, ObservationType] = {
    t.code: t
    for t in (
        ObservationType("body_weight", "Body weight", "29463-7", "kg", 0.5, 500),
        ObservationType("body_height", "Body height", "8302-2", "cm", 20, 272),
        ObservationType(
            "heart_rate", "Heart rate", "8867-4", "/min", 20, 300, reference_low=60,
            reference_high=100,
        ),
        ObservationType(
            "blood_pressure_systolic", "Systolic blood pressure", "8480-6", "mm[Hg]", 40, 300,
            reference_low=90, reference_high=120,
        ),
        ObservationType(
            "blood_pressure_diastolic", "Diastolic blood pressure", "8462-4", "mm[Hg]", 20, 200,
            reference_low=60, reference_high=80,
        ),
        # Fasting: the usual range most home readings are compared against (after a meal,
        # up to 140 is usual too; 126 fasting is already diabetic, so one range for both
        # would mark it as usual).
        ObservationType(
            "blood_glucose", "Blood glucose", "2339-0", "mg/dL", 10, 1000,
            category="laboratory", reference_low=70, reference_high=99,
        ),
        ObservationType(
            "body_temperature", "Body temperature", "8310-5", "Cel", 25, 45,
            reference_low=36.1, reference_high=37.2,
        ),
        ObservationType(
            "oxygen_saturation", "Oxygen saturation", "59408-5", "%", 50, 100,
            reference_low=95, reference_high=100,
        ),
    )
}  # fmt: skip


def problems(type_code: str, value: float, unit: str) -> list[dict[str, str]]:
    """What is wrong with a measurement, as 422 details; empty when it is acceptable."""
    kind = TYPES.get(type_code)
    if kind is None:
        return [{"field": "type", "problem": f"unknown type; use one of {', '.join(TYPES)}"}]
    found = []
    if unit != kind.unit:
        found.append({"field": "unit", "problem": f"{kind.display} is recorded in {kind.unit}"})
    if not kind.minimum <= value <= kind.maximum:
        found.append(
            {
                "field": "value",
                "problem": f"{kind.display} must be between {kind.minimum:g} and"
                f" {kind.maximum:g} {kind.unit}",
            }
        )
    return found
