"""Refusals at the gate leave audit records, as refused access to a record does: an
administrator at health data, a patient at an administrator's route (their own role, say),
a wrong CSRF token, a forged session cookie."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from health_platform.api.models import AuditRecord
from health_platform.api.sessions import SESSION_COOKIE
from tests.api.conftest import Direct, User, client_for, sign_up


def refusals(direct: Direct, action: str, actor: str | None = None) -> list[dict[str, Any]]:
    with direct.session() as session:
        query = select(AuditRecord).where(
            AuditRecord.action == action, AuditRecord.outcome == "refused"
        )
        if actor is not None:
            query = query.where(AuditRecord.actor_id == uuid.UUID(actor))
        return [
            {**(row.detail or {}), "address": row.client_address} for row in session.scalars(query)
        ]


def test_an_administrator_refused_health_data_is_recorded(app: FastAPI, direct: Direct) -> None:
    admin = sign_up(app, role="admin", direct=direct)
    assert admin.client.get("/api/observations").status_code == 403
    assert {"reason": "administrator", "method": "GET", "route": "/api/observations"}.items() <= (
        refusals(direct, "health_data.access", admin.id)[0].items()
    )


def test_a_patient_making_themselves_admin_is_recorded(patient: User, direct: Direct) -> None:
    attempt = patient.client.put(
        f"/api/admin/users/{patient.id}/role", json={"role": "admin"}, headers=patient.headers()
    )
    assert attempt.status_code == 403
    [record] = refusals(direct, "admin.access", patient.id)
    assert record["reason"] == "not_administrator"
    assert record["route"] == "/api/admin/users/{user_id}/role"


def test_a_wrong_csrf_token_is_recorded(patient: User, direct: Direct) -> None:
    refused = patient.client.post("/api/auth/logout", headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403
    [record] = refusals(direct, "auth.csrf", patient.id)
    assert record["reason"] == "csrf_token_wrong" and record["method"] == "POST"


def test_a_forged_session_cookie_is_recorded(app: FastAPI, patient: User, direct: Direct) -> None:
    address = f"203.0.113.{uuid.uuid4().int % 250}"
    forger = client_for(app, address=address)
    forger.cookies.set(SESSION_COOKIE, f"{patient.id}.made-up-token.c2lnbmF0dXJl")
    refused = forger.get("/api/auth/me")
    assert refused.status_code == 401
    # Cleared, so a browser holding a cookie of a former secret stops sending it.
    assert refused.headers["set-cookie"].startswith(f"{SESSION_COOKIE}=; Max-Age=0")
    records = [r for r in refusals(direct, "auth.session") if r["address"] == address]
    assert records and records[0]["reason"] == "forged_session_cookie"
