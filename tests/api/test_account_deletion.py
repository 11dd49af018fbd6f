"""Deleting one's account: asked with the password, due a grace period later and cancellable
until then; when due, the measurements, documents and their files and everything personal
in the account go, and the audit records stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from sqlalchemy import select

from health_platform.api import account_deletion
from health_platform.api.models import AuditRecord, Document, Observation
from health_platform.api.models import User as UserRow
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD, Direct, User

PDF = b"%PDF-1.4\n" + b"0" * 256
HEART_RATE = {
    "type": "heart_rate",
    "value": 62,
    "unit": "/min",
    "effective_at": "2026-11-25T08:30:00Z",
}


def _ask(patient: User, password: str = PASSWORD) -> object:
    return patient.client.post(
        "/api/account/deletion", json={"password": password}, headers=patient.headers()
    )


def test_a_deletion_is_asked_with_the_password_and_can_be_cancelled(patient: User) -> None:
    refused = _ask(patient, "not the password")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    asked = _ask(patient)
    assert asked.status_code == 200, asked.text  # type: ignore[attr-defined]
    due = datetime.fromisoformat(asked.json()["due_at"])  # type: ignore[attr-defined]
    assert due - datetime.now(UTC) > account_deletion.GRACE - timedelta(minutes=1)
    assert patient.client.get("/api/auth/me").json()["deletion_due_at"] is not None
    kept = patient.client.delete("/api/account/deletion", headers=patient.headers())
    assert kept.status_code == 204
    assert patient.client.get("/api/auth/me").json()["deletion_due_at"] is None


def test_a_due_deletion_removes_the_data_and_files_and_keeps_the_audit_records(
    app: FastAPI, portal: BlockingPortal, patient: User, direct: Direct, settings: ApiSettings
) -> None:
    created = patient.client.post("/api/observations", json=HEART_RATE, headers=patient.headers())
    assert created.status_code == 201
    uploaded = patient.client.post(
        "/api/documents", params={"filename": "lab.pdf"}, content=PDF, headers=patient.headers()
    )
    assert uploaded.status_code == 201
    assert _ask(patient).status_code == 200  # type: ignore[attr-defined]
    user_id = uuid.UUID(patient.id)
    with direct.session() as session:
        (key,) = session.scalars(select(Document.storage_key).where(Document.user_id == user_id))
        stored = Path(settings.storage_path) / key
        assert stored.exists()
        row = session.get(UserRow, user_id)
        assert row is not None
        row.deletion_due_at = datetime.now(UTC) - timedelta(seconds=1)  # the grace is over
        session.commit()

    deleted = portal.call(account_deletion.purge_due, app.state.services)

    assert user_id in deleted
    assert not stored.exists()
    with direct.session() as session:
        row = session.get(UserRow, user_id)
        assert row is not None and row.deleted_at is not None
        assert (row.email, row.display_name) == (
            account_deletion.deleted_email(user_id),
            account_deletion.DELETED_NAME,
        )
        assert row.password_hash is None and row.date_of_birth is None
        for model in (Observation, Document):
            assert not session.scalars(select(model).where(model.user_id == user_id)).all()
        actions = set(
            session.scalars(select(AuditRecord.action).where(AuditRecord.resource_id == patient.id))
        )
        assert {"account.deletion_request", "account.deleted"} <= actions
    assert patient.client.get("/api/auth/me").status_code == 401  # signed out everywhere
    assert portal.call(account_deletion.purge_due, app.state.services) == []  # once
