"""What an administrator's console needs of the API: the audit log in people's words
(name and address), filtered by address and outcome, exported as CSV for an auditor; and
of each account its last sign-in, and a reset of its second factor."""

from __future__ import annotations

import csv
import io

from fastapi import FastAPI

from tests.api.conftest import PASSWORD, Direct, User, client_for, sign_up
from tests.api.test_mfa_and_admin import enrolled_admin


def test_the_audit_log_names_people_and_filters_by_address_and_outcome(
    app: FastAPI, direct: Direct, patient: User, other_patient: User
) -> None:
    admin, _ = enrolled_admin(app, direct)
    # A refusal of the patient's: another patient's observation.
    created = other_patient.client.post(
        "/api/observations",
        json={
            "type": "heart_rate",
            "value": 60,
            "unit": "/min",
            "effective_at": "2026-11-25T08:00:00Z",
        },
        headers=other_patient.headers(),
    )
    assert patient.client.get(f"/api/observations/{created.json()['id']}").status_code == 404
    found = admin.client.get(
        "/api/admin/audit", params={"email": patient.email, "outcome": "denied"}
    ).json()
    assert found["total"] == 1
    (record,) = found["items"]
    assert (record["actor_email"], record["actor_name"]) == (patient.email, "Test")
    assert record["action"] == "observation.read" and record["outcome"] == "denied"
    # Whom it touched: the owner of the measurement tried, in words too.
    assert record["subject_email"] == other_patient.email
    exported = admin.client.get("/api/admin/audit/csv", params={"email": patient.email})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["actor_email"] for r in rows} == {patient.email}
    assert "denied" in {r["outcome"] for r in rows}
    assert other_patient.email in {r["subject_email"] for r in rows}
    # The export is on record itself.
    mine = admin.client.get(
        "/api/admin/audit", params={"user_id": admin.id, "action": "admin.audit.export"}
    ).json()
    assert mine["total"] == 1


def test_an_account_shows_its_last_sign_in(app: FastAPI, direct: Direct) -> None:
    admin, _ = enrolled_admin(app, direct)
    patient = sign_up(app)
    (listed,) = admin.client.get("/api/admin/users", params={"email": patient.email}).json()[
        "items"
    ]
    assert listed["last_sign_in_at"] is not None


def test_resetting_a_second_factor_signs_the_account_out_and_it_enrolls_again(
    app: FastAPI, direct: Direct
) -> None:
    admin, _ = enrolled_admin(app, direct)
    other, _ = enrolled_admin(app, direct)
    reset = admin.client.post(f"/api/admin/users/{other.id}/mfa/reset", headers=admin.headers())
    assert reset.status_code == 200 and reset.json()["mfa_enabled"] is False
    assert other.client.get("/api/auth/me").status_code == 401
    again = client_for(app).post(
        "/api/auth/login", json={"email": other.email, "password": PASSWORD}
    )
    assert again.status_code == 200 and again.json()["mfa_enrollment_required"] is True
    own = admin.client.post(f"/api/admin/users/{admin.id}/mfa/reset", headers=admin.headers())
    assert own.status_code == 409
    nothing = admin.client.post(f"/api/admin/users/{other.id}/mfa/reset", headers=admin.headers())
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "mfa_not_enabled"
