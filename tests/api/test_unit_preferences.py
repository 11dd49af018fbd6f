"""The units a patient sees and enters measurements in: chosen per kind, kept with the
account, offered by the vocabulary with the conversion to the stored unit."""

from __future__ import annotations

import pytest

from health_platform.api import vocabulary
from tests.api.conftest import User


def test_a_patient_chooses_units_and_every_answer_says_them(patient: User) -> None:
    defaults = {"mass": "kg", "temperature": "C", "glucose": "mg/dL"}
    assert patient.client.get("/api/auth/me").json()["units"] == defaults
    chosen = {"mass": "lb", "temperature": "F", "glucose": "mmol/L"}
    saved = patient.client.patch("/api/profile", json={"units": chosen}, headers=patient.headers())
    assert saved.status_code == 200, saved.text
    assert saved.json()["units"] == chosen
    assert patient.client.get("/api/auth/me").json()["units"] == chosen
    back = patient.client.patch("/api/profile", json={"units": None}, headers=patient.headers())
    assert back.json()["units"] == defaults


def test_a_unit_not_offered_is_refused_in_plain_words(patient: User) -> None:
    refused = patient.client.patch(
        "/api/profile", json={"units": {"mass": "stone"}}, headers=patient.headers()
    )
    assert refused.status_code == 422
    (detail,) = refused.json()["error"]["details"]
    assert detail == {"field": "units.mass", "problem": "must be 'kg' or 'lb'"}


@pytest.mark.parametrize(
    ("code", "key", "shown", "stored"),
    [("body_weight", "lb", 154.0, 69.853), ("body_temperature", "F", 98.6, 37.0),
     ("blood_glucose", "mmol/L", 5.5, 99.088)],
)  # fmt: skip
def test_the_vocabulary_offers_each_unit_with_its_conversion(
    anonymous,
    code: str,
    key: str,
    shown: float,
    stored: float,  # type: ignore[no-untyped-def]
) -> None:
    kinds = {k["code"]: k for k in anonymous.get("/api/observations/types").json()}
    units = {u["key"]: u for u in kinds[code]["display_units"]}
    assert units[vocabulary.TYPES[code].unit if code != "body_temperature" else "C"]["scale"] == 1
    unit = units[key]
    assert shown * unit["scale"] + unit["offset"] == pytest.approx(stored, abs=0.001)
    assert kinds["heart_rate"]["display_units"] == [
        {"key": "/min", "label": "bpm", "scale": 1.0, "offset": 0.0}
    ]
