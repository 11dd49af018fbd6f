"""Observations: validation, ownership, caching, and an audit record for every access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from health_platform.api.models import AuditRecord
from tests.api.conftest import HEART_RATE_BODY as HEART_RATE
from tests.api.conftest import Direct, User, sign_up


def create(user: User, body: dict[str, Any] = HEART_RATE) -> dict[str, Any]:
    response = user.client.post("/api/observations", json=body, headers=user.headers())
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def audit_trail(direct: Direct, user: User) -> list[tuple[str, str | None, str]]:
    with direct.session() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.actor_id == user.id).order_by(AuditRecord.id)
        )
        return [(r.action, r.resource_id, r.outcome) for r in rows]


def test_create_read_update_delete(patient: User) -> None:
    created = create(patient)
    assert created["loinc"] == "8867-4" and created["value"] == 62
    path = f"/api/observations/{created['id']}"
    assert patient.client.get(path).json()["value"] == 62
    updated = patient.client.patch(
        path, json={"value": 64, "note": "after stairs"}, headers=patient.headers()
    )
    assert updated.status_code == 200 and updated.json()["value"] == 64
    assert patient.client.delete(path, headers=patient.headers()).status_code == 204
    assert patient.client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({**HEART_RATE, "value": 400}, "value", "Heart rate must be between 20 and 300 bpm"),
        ({**HEART_RATE, "unit": "bpm"}, "unit", "Heart rate is recorded in /min"),
        ({**HEART_RATE, "type": "mood"}, "type", "is not a type this records"),
        ({**HEART_RATE, "effective_at": "2026-11-25T08:30:00"}, "effective_at", "time zone"),
        ({**HEART_RATE, "colour": "red"}, "colour", "is not a field this accepts"),
        ({**HEART_RATE, "value": "sixty"}, "value", "must be a number"),
        ({**HEART_RATE, "effective_at": "2999-01-01T00:00:00Z"}, "effective_at", "future"),
    ],
)
def test_invalid_measurements_are_422_saying_why(
    patient: User, body: dict[str, Any], field: str, says: str
) -> None:
    response = patient.client.post("/api/observations", json=body, headers=patient.headers())
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert any(d["field"] == field and says.lower() in d["problem"].lower() for d in details), (
        details
    )


def test_a_time_a_few_minutes_ahead_is_a_clock_not_a_mistake(patient: User) -> None:
    ahead = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    created = patient.client.post(
        "/api/observations", json={**HEART_RATE, "effective_at": ahead}, headers=patient.headers()
    )
    assert created.status_code == 201, created.text
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    moved = patient.client.patch(
        f"/api/observations/{created.json()['id']}",
        json={"effective_at": later},
        headers=patient.headers(),
    )
    assert moved.status_code == 422 and "future" in moved.text


def test_every_type_says_its_usual_range_inside_its_plausible_one(anonymous) -> None:  # type: ignore[no-untyped-def]
    for kind in anonymous.get("/api/observations/types").json():
        low, high = kind["reference_low"], kind["reference_high"]
        assert (low is None) == (high is None)
        if low is not None:
            assert kind["minimum"] <= low < high <= kind["maximum"], kind


def test_list_filters_and_paginates(patient: User) -> None:
    for value, when in (
        (60, "2026-11-01T08:00:00Z"),
        (70, "2026-11-10T08:00:00Z"),
        (80, "2026-11-20T08:00:00Z"),
    ):
        create(patient, {**HEART_RATE, "value": value, "effective_at": when})
    create(
        patient,
        {
            "type": "body_weight",
            "value": 72.5,
            "unit": "kg",
            "effective_at": "2026-11-20T07:00:00Z",
        },
    )
    page = patient.client.get("/api/observations", params={"type": "heart_rate", "limit": 2}).json()
    assert page["total"] == 3 and [i["value"] for i in page["items"]] == [80, 70]
    ranged = patient.client.get(
        "/api/observations", params={"from": "2026-11-05T00:00:00Z", "to": "2026-11-15T00:00:00Z"}
    ).json()
    assert [i["value"] for i in ranged["items"]] == [70]
    past_the_end = patient.client.get("/api/observations", params={"offset": 10}).json()
    assert past_the_end["items"] == [] and past_the_end["total"] == 4
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"type": "mood"},
        {"from": "yesterday"},
    ):
        assert patient.client.get("/api/observations", params=params).status_code == 422, params


def test_reads_are_cached_and_writes_invalidate(patient: User, direct: Direct) -> None:
    create(patient)
    first = patient.client.get("/api/observations").json()
    assert first["total"] == 1
    assert any(direct.redis.scan_iter(match=f"obs:{patient.id}:*"))
    create(patient, {**HEART_RATE, "value": 90})
    second = patient.client.get("/api/observations").json()
    assert second["total"] == 2, "a write must invalidate the cached list"


def test_another_patients_observation_is_404_and_audited(
    patient: User, other_patient: User, direct: Direct
) -> None:
    mine = create(patient)
    path = f"/api/observations/{mine['id']}"
    assert other_patient.client.get(path).status_code == 404
    assert (
        other_patient.client.patch(
            path, json={"value": 1}, headers=other_patient.headers()
        ).status_code
        == 404
    )
    assert other_patient.client.delete(path, headers=other_patient.headers()).status_code == 404
    assert other_patient.client.get("/api/observations").json()["total"] == 0
    denied = [a for a in audit_trail(direct, other_patient) if a[2] == "denied"]
    assert [a[0] for a in denied] == [
        "observation.read",
        "observation.update",
        "observation.delete",
    ]
    assert all(a[1] == mine["id"] for a in denied)
    assert patient.client.get(path).status_code == 200  # still there


def test_authorization_matrix(app, anonymous: TestClient, patient: User, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    admin = sign_up(app, role="admin", direct=direct)
    mine = create(patient)
    endpoints = [
        ("get", "/api/observations", None),
        ("get", "/api/observations/latest", None),
        ("post", "/api/observations", HEART_RATE),
        ("get", f"/api/observations/{mine['id']}", None),
        ("patch", f"/api/observations/{mine['id']}", {"value": 61}),
        ("delete", f"/api/observations/{mine['id']}", None),
    ]
    for method, path, body in endpoints:
        kwargs: dict[str, Any] = {"json": body} if body else {}
        assert getattr(anonymous, method)(path, **kwargs).status_code == 401, (method, path)
        denied = getattr(admin.client, method)(path, headers=admin.headers(), **kwargs)
        assert denied.status_code == 403, (method, path)  # admins do not browse health data


def test_latest_is_the_newest_of_each_type_of_ones_own(
    patient: User, other_patient: User, direct: Direct
) -> None:
    create(patient, {**HEART_RATE, "value": 60, "effective_at": "2026-11-20T08:00:00Z"})
    create(patient, {**HEART_RATE, "value": 70, "effective_at": "2026-11-24T08:00:00Z"})
    create(patient, {**HEART_RATE, "value": 65, "effective_at": "2026-11-22T08:00:00Z"})
    weight = {"type": "body_weight", "value": 71.5, "unit": "kg"}
    create(patient, {**weight, "effective_at": "2026-11-01T07:00:00Z"})
    create(other_patient, {**HEART_RATE, "value": 99, "effective_at": "2026-11-25T08:00:00Z"})

    latest = patient.client.get("/api/observations/latest")
    assert latest.status_code == 200, latest.text
    assert {o["type"]: o["value"] for o in latest.json()} == {"heart_rate": 70, "body_weight": 71.5}
    assert audit_trail(direct, patient)[-1] == ("observation.latest", None, "success")
    assert other_patient.client.get("/api/observations/latest").json()[0]["value"] == 99


def test_every_access_leaves_exactly_one_audit_record(patient: User, direct: Direct) -> None:
    before = len(audit_trail(direct, patient))
    created = create(patient)
    path = f"/api/observations/{created['id']}"
    patient.client.get("/api/observations")
    patient.client.get("/api/observations")  # cached, still audited
    patient.client.get(path)
    patient.client.patch(path, json={"value": 63}, headers=patient.headers())
    patient.client.delete(path, headers=patient.headers())
    trail = audit_trail(direct, patient)[before:]
    assert [a[0] for a in trail] == [
        "observation.create",
        "observation.list",
        "observation.list",
        "observation.read",
        "observation.update",
        "observation.delete",
    ]
    assert all(a[2] == "success" for a in trail)


def test_unknown_ids_and_bad_ids(patient: User) -> None:
    assert (
        patient.client.get("/api/observations/00000000-0000-0000-0000-000000000000").status_code
        == 404
    )
    bad = patient.client.get("/api/observations/not-a-uuid")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_profile_read_and_update(patient: User) -> None:
    assert patient.client.get("/api/profile").json()["email"] == patient.email
    updated = patient.client.patch(
        "/api/profile",
        json={"display_name": "Ada L.", "date_of_birth": "1990-12-10"},
        headers=patient.headers(),
    )
    assert updated.status_code == 200 and updated.json()["display_name"] == "Ada L."
    assert (
        patient.client.patch(
            "/api/profile", json={"role": "admin"}, headers=patient.headers()
        ).status_code
        == 422
    )
