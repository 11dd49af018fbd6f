"""One's own account's security: a password change (the current one proven, the new one
strong, every other session signed out), the list of one's sessions, signing one or all
of them out."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select

from health_platform.api.models import AuditRecord
from tests.api.conftest import PASSWORD, Direct, User, client_for

NEW_PASSWORD = "violet harbour tractor glimmer"  # noqa: S105 - a test account's new password


def _second_session(app: FastAPI, user: User, agent: str = "Phone/1.0") -> User:
    client = client_for(app, **{"User-Agent": agent})
    signed_in = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return User(client, user.id, user.email, signed_in.json()["csrf_token"])


def test_one_sees_where_one_is_signed_in_and_signs_a_session_out(
    app: FastAPI, patient: User
) -> None:
    phone = _second_session(app, patient)
    listed = patient.client.get("/api/account/sessions").json()
    assert len(listed) == 2 and [s["current"] for s in listed] == [True, False]
    assert listed[1]["agent"] == "Phone/1.0" and listed[1]["address"]
    assert len(listed[0]["id"]) == 16  # a handle, not the session's id
    ended = patient.client.delete(
        f"/api/account/sessions/{listed[1]['id']}", headers=patient.headers()
    )
    assert ended.status_code == 204
    assert phone.client.get("/api/auth/me").status_code == 401
    assert len(patient.client.get("/api/account/sessions").json()) == 1
    unknown = patient.client.delete(
        "/api/account/sessions/0123456789abcdef", headers=patient.headers()
    )
    assert unknown.status_code == 404


def test_no_one_signs_out_anothers_session(
    app: FastAPI, patient: User, other_patient: User
) -> None:
    (theirs,) = other_patient.client.get("/api/account/sessions").json()
    refused = patient.client.delete(
        f"/api/account/sessions/{theirs['id']}", headers=patient.headers()
    )
    assert refused.status_code == 404
    assert other_patient.client.get("/api/auth/me").status_code == 200


def test_signing_out_everywhere_ends_this_session_too(app: FastAPI, patient: User) -> None:
    phone = _second_session(app, patient)
    done = patient.client.post(
        "/api/account/sessions/sign-out-everywhere", headers=patient.headers()
    )
    assert done.status_code == 204
    assert patient.client.get("/api/auth/me").status_code == 401
    assert phone.client.get("/api/auth/me").status_code == 401


def test_a_password_change_needs_the_current_one_and_signs_the_others_out(
    app: FastAPI, patient: User, direct: Direct
) -> None:
    phone = _second_session(app, patient)
    wrong = patient.client.post(
        "/api/account/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=patient.headers(),
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    weak = patient.client.post(
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": "password123"},
        headers=patient.headers(),
    )
    assert weak.status_code == 422, weak.text
    changed = patient.client.post(
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=patient.headers(),
    )
    assert changed.status_code == 204, changed.text
    assert patient.client.get("/api/auth/me").status_code == 200  # this session stays
    assert phone.client.get("/api/auth/me").status_code == 401  # the others do not
    fresh = client_for(app)
    old = fresh.post("/api/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert old.status_code == 401
    new = fresh.post("/api/auth/login", json={"email": patient.email, "password": NEW_PASSWORD})
    assert new.status_code == 200
    with direct.session() as session:
        outcomes = session.scalars(
            select(AuditRecord.outcome)
            .where(
                AuditRecord.actor_id == patient.id,
                AuditRecord.action == "account.password_change",
            )
            .order_by(AuditRecord.id)
        ).all()
    assert outcomes == ["failure", "success"]
