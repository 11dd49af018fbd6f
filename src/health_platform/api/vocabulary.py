"""The observation types a patient may record: LOINC code, the one accepted unit (UCUM),
the physiologically plausible range (outside it: refused), and the usual adult range
(outside it: marked, not refused)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Units as people write them; the API takes and exports the UCUM codes on the left.
UNIT_LABELS = {
    "kg": "kg",
    "cm": "cm",
    "/min": "bpm",
    "mm[Hg]": "mmHg",
    "mg/dL": "mg/dL",
    "Cel": "°C",
    "%": "%",
}


@dataclass(frozen=True)
class DisplayUnit:
    """A unit a patient may choose to see and enter a type in: the stored (canonical) value
    is `shown * scale + offset`. Values are always stored in the type's own unit."""

    key: str
    label: str
    scale: float = 1.0
    offset: float = 0.0


# What a patient may choose, by preference: the first is the default (the stored unit).
PREFERENCES: dict[str, tuple[DisplayUnit, ...]] = {
    "mass": (DisplayUnit("kg", "kg"), DisplayUnit("lb", "lb", 0.45359237)),
    # °F to °C: (F - 32) * 5/9.
    "temperature": (DisplayUnit("C", "°C"), DisplayUnit("F", "°F", 5 / 9, -32 * 5 / 9)),
    # Glucose's molar mass, 180.16 g/mol: 1 mmol/L is 18.016 mg/dL.
    "glucose": (DisplayUnit("mg/dL", "mg/dL"), DisplayUnit("mmol/L", "mmol/L", 18.016)),
}


@dataclass(frozen=True)
class Component:
    """One value of a reading made of several (blood pressure's systolic and diastolic):
    FHIR's Observation.component, each with its own code and ranges."""

    code: str
    display: str
    loinc: str
    minimum: float
    maximum: float
    reference_low: float | None = None
    reference_high: float | None = None


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
    # A reading of several values, stored and listed together (its `value` is the first's).
    components: tuple[Component, ...] = ()
    # False: read and exported, but no longer recorded on its own (what a panel replaced).
    recorded: bool = True
    # Which of PREFERENCES chooses the unit it is shown in (None: its own unit only).
    preference: str | None = None
    # The unit as people write it ("bpm" for "/min"), for pages and messages.
    unit_label: str = field(init=False)
    # The units it may be shown and entered in (PREFERENCES[preference]), the stored first.
    display_units: tuple[DisplayUnit, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit_label", UNIT_LABELS[self.unit])
        units = PREFERENCES[self.preference] if self.preference else ()
        own = (DisplayUnit(self.unit, self.unit_label),)
        object.__setattr__(self, "display_units", units or own)


SYSTOLIC = Component("systolic", "Systolic", "8480-6", 40, 300, 90, 120)
DIASTOLIC = Component("diastolic", "Diastolic", "8462-4", 20, 200, 60, 80)

TYPES: dict[str, ObservationType] = {
    t.code: t
    for t in (
        ObservationType("body_weight", "Body weight", "29463-7", "kg", 0.5, 500, preference="mass"),
        ObservationType("body_height", "Body height", "8302-2", "cm", 20, 272),
        ObservationType(
            "heart_rate", "Heart rate", "8867-4", "/min", 20, 300, reference_low=60,
            reference_high=100,
        ),
        # FHIR's blood pressure panel: one reading, systolic over diastolic.
        ObservationType(
            "blood_pressure", "Blood pressure", "85354-9", "mm[Hg]", 40, 300,
            components=(SYSTOLIC, DIASTOLIC),
        ),
        # Its halves as earlier versions recorded them apart: migration 0008 paired those
        # taken at the same time into panels; an unpaired one stays readable.
        ObservationType(
            "blood_pressure_systolic", "Systolic blood pressure", "8480-6", "mm[Hg]", 40, 300,
            reference_low=90, reference_high=120, recorded=False,
        ),
        ObservationType(
            "blood_pressure_diastolic", "Diastolic blood pressure", "8462-4", "mm[Hg]", 20, 200,
            reference_low=60, reference_high=80, recorded=False,
        ),
        # Fasting: the usual range most home readings are compared against (after a meal,
        # up to 140 is usual too; 126 fasting is already diabetic, so one range for both
        # would mark it as usual).
        ObservationType(
            "blood_glucose", "Blood glucose", "2339-0", "mg/dL", 10, 1000,
            category="laboratory", reference_low=70, reference_high=99, preference="glucose",
        ),
        ObservationType(
            "body_temperature", "Body temperature", "8310-5", "Cel", 25, 45,
            reference_low=36.1, reference_high=37.2, preference="temperature",
        ),
        ObservationType(
            "oxygen_saturation", "Oxygen saturation", "59408-5", "%", 50, 100,
            reference_low=95, reference_high=100,
        ),
    )
}  # fmt: skip


def problems(
    type_code: str,
    value: float | None,
    unit: str,
    components: dict[str, float] | None = None,
    *,
    new: bool = True,
) -> list[dict[str, str]]:
    """What is wrong with a measurement, as 422 details; empty when it is acceptable.
    A reading of several values gives them as `components` (its value is the first's).
    `new`: a measurement being recorded, not one of earlier ones being changed."""
    kind = TYPES.get(type_code)
    if kind is None or (new and not kind.recorded):
        recorded = ", ".join(code for code, t in TYPES.items() if t.recorded)
        return [{"field": "type", "problem": f"is not a type this records; use one of {recorded}"}]
    found = []
    if unit != kind.unit:
        found.append({"field": "unit", "problem": f"{kind.display} is recorded in {kind.unit}"})
    if kind.components:
        return found + _component_problems(kind, components)
    if components:
        found.append({"field": "components", "problem": f"{kind.display} is a single value"})
    if value is None:
        found.append({"field": "value", "problem": "is required"})
    elif not kind.minimum <= value <= kind.maximum:
        found.append(
            {
                "field": "value",
                "problem": f"{kind.display} must be between {kind.minimum:g} and"
                f" {kind.maximum:g} {kind.unit_label}",
            }
        )
    return found


def _component_problems(
    kind: ObservationType, components: dict[str, float] | None
) -> list[dict[str, str]]:
    names = [c.code for c in kind.components]
    given = components or {}
    if sorted(given) != sorted(names):
        wanted = " and ".join(names)
        return [{"field": "components", "problem": f"{kind.display} needs {wanted}, nothing else"}]
    found = []
    for part in kind.components:
        if not part.minimum <= given[part.code] <= part.maximum:
            found.append(
                {
                    "field": f"components.{part.code}",
                    "problem": f"{part.display} must be between {part.minimum:g} and"
                    f" {part.maximum:g} {kind.unit_label}",
                }
            )
    if not found and kind.code == "blood_pressure" and given["systolic"] <= given["diastolic"]:
        found.append(
            {"field": "components.diastolic", "problem": "Diastolic must be below systolic"}
        )
    return found


def value_of(
    kind: ObservationType, value: float | None, components: dict[str, float] | None
) -> float:
    """The value a row keeps: the reading's own, or its first component's."""
    if kind.components:
        assert components is not None
        return components[kind.components[0].code]
    assert value is not None
    return value
