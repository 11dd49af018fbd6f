"""Blood pressure as one reading: systolic over diastolic, stored, listed and exported
together (FHIR's panel, LOINC 85354-9), and the separate halves of earlier versions paired
by migration 0008."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from alembic import command
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import create_engine, text

from health_platform.api.migrate import alembic_config, migrate
from tests.api.conftest import User
from tests.conftest import Backends

READING = {
    "type": "blood_pressure",
    "components": {"systolic": 132, "diastolic": 82},
    "unit": "mm[Hg]",
    "effective_at": "2026-11-25T08:30:00Z",
}


def _post(patient: User, body: dict[str, Any]) -> Any:
    return patient.client.post("/api/observations", json=body, headers=patient.headers())


def test_a_reading_is_stored_and_listed_whole(patient: User) -> None:
    created = _post(patient, READING)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["components"] == {"systolic": 132, "diastolic": 82}
    assert (body["value"], body["loinc"]) == (132, "85354-9")
    (listed,) = patient.client.get("/api/observations?type=blood_pressure").json()["items"]
    assert listed["components"] == {"systolic": 132, "diastolic": 82}
    changed = patient.client.patch(
        f"/api/observations/{body['id']}",
        json={"components": {"systolic": 128, "diastolic": 79}},
        headers=patient.headers(),
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["value"], changed.json()["components"]["diastolic"]) == (128, 79)
    # One value for a reading of two is refused, not dropped unsaid.
    lone = patient.client.patch(
        f"/api/observations/{body['id']}", json={"value": 999}, headers=patient.headers()
    )
    assert lone.status_code == 422, lone.text
    assert lone.json()["error"]["details"][0]["field"] == "value"


def test_a_reading_needs_both_halves_in_range_and_in_order(patient: User) -> None:
    for components, field in (
        ({"systolic": 132}, "components"),
        ({"systolic": 132, "diastolic": 82, "pulse": 60}, "components"),
        ({"systolic": 400, "diastolic": 82}, "components.systolic"),
        ({"systolic": 80, "diastolic": 90}, "components.diastolic"),
    ):
        refused = _post(patient, {**READING, "components": components})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"][0]["field"] == field
    half = {**READING, "type": "blood_pressure_systolic", "value": 132, "components": None}
    refused = _post(patient, half)
    assert refused.status_code == 422  # recorded as one reading now
    assert "blood_pressure" in refused.json()["error"]["details"][0]["problem"]
    single = _post(patient, {**READING, "type": "heart_rate", "unit": "/min", "value": 60})
    assert single.status_code == 422  # a single value is not given as components


def test_the_export_holds_the_panel_and_the_csv_writes_it_as_people_read_it(
    patient: User,
) -> None:
    assert _post(patient, READING).status_code == 201
    bundle = Bundle.model_validate_json(patient.client.get("/api/export/fhir").content)
    (panel,) = [
        e.resource
        for e in bundle.entry or []
        if e.resource.__resource_type__ == "Observation"  # type: ignore[union-attr]
    ]
    assert panel.code.coding[0].code == "85354-9"  # type: ignore[union-attr]
    assert panel.valueQuantity is None  # type: ignore[union-attr]
    halves = {c.code.coding[0].code: c.valueQuantity.value for c in panel.component}  # type: ignore[union-attr]
    assert halves == {"8480-6": 132, "8462-4": 82}
    rows = list(csv.DictReader(io.StringIO(patient.client.get("/api/export/csv").text)))
    assert rows[0]["value"] == "132/82" and rows[0]["unit"] == "mm[Hg]"


def test_the_migration_pairs_halves_taken_at_the_same_time(backends: Backends) -> None:
    backends.postgres.sql("DROP DATABASE IF EXISTS pairing_check")
    backends.postgres.sql("CREATE DATABASE pairing_check")
    url = backends.postgres.url("pairing_check")
    command.upgrade(alembic_config(url), "0007")
    engine = create_engine(url)
    user = uuid.uuid4()
    at, later = "2026-11-20T08:00:00Z", "2026-11-21T08:00:00Z"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, display_name, role, password_hash)"
                " VALUES (:id, 'pair@example.com', 'Pair', 'patient', 'x')"
            ),
            {"id": user},
        )
        for kind, value, when, note in (
            ("blood_pressure_systolic", 131, at, "morning"),
            ("blood_pressure_diastolic", 84, at, "left arm"),
            ("blood_pressure_systolic", 125, later, None),  # its half is missing: kept
            ("heart_rate", 61, at, None),
        ):
            connection.execute(
                text(
                    "INSERT INTO observations (id, user_id, type, value, unit, effective_at, note)"
                    " VALUES (:id, :user, :type, :value, :unit, :at, :note)"
                ),
                {
                    "id": uuid.uuid4(),
                    "user": user,
                    "type": kind,
                    "value": value,
                    "unit": "/min" if kind == "heart_rate" else "mm[Hg]",
                    "at": when,
                    "note": note,
                },
            )
    migrate(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type, value, components, note FROM observations ORDER BY type, value")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("blood_pressure", 131, {"systolic": 131, "diastolic": 84}, "morning / left arm"),
        ("blood_pressure_systolic", 125, None, None),
        ("heart_rate", 61, None, None),
    ]
