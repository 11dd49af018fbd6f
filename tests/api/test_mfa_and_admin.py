"""TOTP for administrators, and the administration endpoints."""

from __future__ import annotations

import time
import uuid

import pyotp
import pytest
from sqlalchemy import select

from health_platform.api.models import AuditRecord
from health_platform.api.routes.auth import ENROLLMENT_ATTEMPTS
from health_platform.api.sign_in_guard import SignInGuard
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD, Direct, User, client_for, sign_up


def enrolled_admin(app, direct: Direct) -> tuple[User, str]:  # type: ignore[no-untyped-def]
    admin = sign_up(app, role="admin", direct=direct)
    enrollment = admin.client.post("/api/auth/mfa/enroll", headers=admin.headers())
    assert enrollment.status_code == 200
    secret = enrollment.json()["secret"]
    assert enrollment.json()["otpauth_uri"].startswith("otpauth://totp/health-platform:")
    verified = admin.client.post(
        "/api/auth/mfa/verify", json={"code": pyotp.TOTP(secret).now()}, headers=admin.headers()
    )
    assert verified.status_code == 204, verified.text
    return admin, secret


def test_admin_must_enroll_before_administering(app, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    admin = sign_up(app, role="admin", direct=direct)
    relogin = admin.client.post(
        "/api/auth/login", json={"email": admin.email, "password": PASSWORD}
    )
    assert relogin.json()["mfa_enrollment_required"] is True
    admin.csrf = relogin.json()["csrf_token"]
    refused = admin.client.get("/api/admin/users")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_required"


def test_enrolled_admin_signs_in_with_a_code_used_once(app, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    admin, secret = enrolled_admin(app, direct)
    assert admin.client.get("/api/admin/users").status_code == 200  # enrolled in this session
    client = admin.client
    without = client.post("/api/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert without.status_code == 401 and without.json()["error"]["code"] == "mfa_required"
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: not used yet
    with_code = client.post(
        "/api/auth/login", json={"email": admin.email, "password": PASSWORD, "totp": code}
    )
    assert with_code.status_code == 200 and with_code.json()["mfa_enrollment_required"] is False
    replay = client.post(
        "/api/auth/login", json={"email": admin.email, "password": PASSWORD, "totp": code}
    )
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_credentials"


def test_a_missing_code_tells_nothing_of_the_password(app, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    """Without a code, the right and a wrong password get the same answer (no password
    oracle), and the wrong one is counted as a failure."""
    admin, _ = enrolled_admin(app, direct)
    answers = [
        admin.client.post("/api/auth/login", json={"email": admin.email, "password": password})
        for password in (PASSWORD, "a wrong password")
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json()["error"]["code"] == answers[1].json()["error"]["code"]
    assert answers[0].json()["error"]["message"] == answers[1].json()["error"]["message"]
    with direct.session() as session:
        failures = session.scalars(
            select(AuditRecord.outcome).where(
                AuditRecord.actor_id == uuid.UUID(admin.id), AuditRecord.action == "auth.login"
            )
        ).all()
    assert "failure" in failures


def test_the_right_password_without_a_code_is_counted_like_a_wrong_one(  # type: ignore[no-untyped-def]
    app, direct: Direct, settings: ApiSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Otherwise the wait that follows would tell them apart: after the free attempts a
    source waits whichever password it sent without a code."""
    monkeypatch.setattr(
        SignInGuard, "delay_after", lambda self, n: 60 if n >= self.failures_before_delay else 0
    )
    admin, secret = enrolled_admin(app, direct)
    waits = []
    # Two sources, one per password (a random pick once drew the same address twice).
    for source_number, password in enumerate((PASSWORD, "a wrong password"), start=1):
        source = client_for(app, address=f"203.0.113.{source_number}")
        for _ in range(settings.failures_before_delay):
            answer = source.post(
                "/api/auth/login", json={"email": admin.email, "password": password}
            )
            assert answer.json()["error"]["code"] == "mfa_required"
        waits.append(
            source.post(
                "/api/auth/login", json={"email": admin.email, "password": password}
            ).status_code
        )
    assert waits == [429, 429]
    # A sign-in with the code, from a source that has not waited, clears its own count.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    owner = client_for(app, address="198.51.100.9")
    assert (
        owner.post(
            "/api/auth/login", json={"email": admin.email, "password": PASSWORD, "totp": code}
        ).status_code
        == 200
    )


def test_enrollment_allows_a_few_wrong_codes_then_needs_a_new_secret(app, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    # An administrator: a patient enrolls only with a confirmed address (test_recovery_codes).
    patient = sign_up(app, role="admin", direct=direct)
    secret = patient.client.post("/api/auth/mfa/enroll", headers=patient.headers()).json()["secret"]
    right = pyotp.TOTP(secret).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    statuses = [
        patient.client.post(
            "/api/auth/mfa/verify", json={"code": wrong}, headers=patient.headers()
        ).status_code
        for _ in range(ENROLLMENT_ATTEMPTS)
    ]
    assert statuses == [422] * (ENROLLMENT_ATTEMPTS - 1) + [409]
    late = patient.client.post(
        "/api/auth/mfa/verify", json={"code": right}, headers=patient.headers()
    )
    assert late.status_code == 409  # the secret was dropped: guessing on is no use


def test_lock_unlock_and_role_change_are_audited(app, direct: Direct, patient: User) -> None:  # type: ignore[no-untyped-def]
    admin, _ = enrolled_admin(app, direct)
    locked = admin.client.post(f"/api/admin/users/{patient.id}/lock", headers=admin.headers())
    assert locked.status_code == 200 and locked.json()["locked"] is True
    assert patient.client.get("/api/auth/me").status_code == 401  # signed out everywhere
    refused = patient.client.post(
        "/api/auth/login", json={"email": patient.email, "password": PASSWORD}
    )
    assert refused.status_code == 401  # as a wrong password: the owner is told by email
    unlocked = admin.client.post(f"/api/admin/users/{patient.id}/unlock", headers=admin.headers())
    assert unlocked.json()["locked"] is False
    again = patient.client.post(
        "/api/auth/login", json={"email": patient.email, "password": PASSWORD}
    )
    assert again.status_code == 200
    promoted = admin.client.put(
        f"/api/admin/users/{patient.id}/role", json={"role": "admin"}, headers=admin.headers()
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    with direct.session() as session:
        actions = list(
            session.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.resource_id == patient.id)
                .where(AuditRecord.action.like("admin.%"))
                .order_by(AuditRecord.id)
            )
        )
    assert actions == ["admin.user.lock", "admin.user.unlock", "admin.user.role"]
    search = admin.client.get("/api/admin/audit", params={"action": "admin.user.role"}).json()
    assert any(item["resource_id"] == patient.id for item in search["items"])


def test_admin_cannot_lock_or_demote_themselves(app, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    admin, _ = enrolled_admin(app, direct)
    assert (
        admin.client.post(f"/api/admin/users/{admin.id}/lock", headers=admin.headers()).status_code
        == 409
    )
    demote = admin.client.put(
        f"/api/admin/users/{admin.id}/role", json={"role": "patient"}, headers=admin.headers()
    )
    assert demote.status_code == 409


def test_patients_cannot_administer(patient: User) -> None:
    for method, path in (
        ("get", "/api/admin/users"),
        ("get", "/api/admin/audit"),
        ("get", "/api/admin/counters"),
    ):
        assert getattr(patient.client, method)(path).status_code == 403


def test_counters(app, direct: Direct, patient: User) -> None:  # type: ignore[no-untyped-def]
    admin, _ = enrolled_admin(app, direct)
    counters = admin.client.get("/api/admin/counters").json()
    assert set(counters) == {
        "active_sessions",
        "requests_per_minute",
        "logins_per_minute",
        "failed_logins_per_minute",
    }
    assert counters["active_sessions"] >= 2 and counters["logins_per_minute"] >= 2


def test_unknown_user_is_404(app, direct: Direct) -> None:  # type: ignore[no-untyped-def]
    admin, _ = enrolled_admin(app, direct)
    missing = admin.client.post(
        "/api/admin/users/00000000-0000-0000-0000-000000000000/lock", headers=admin.headers()
    )
    assert missing.status_code == 404


def test_users_found_by_part_of_their_email(app, direct: Direct, patient: User) -> None:  # type: ignore[no-untyped-def]
    admin, _ = enrolled_admin(app, direct)
    part = patient.email.split("@")[0][3:9].upper()  # any case, any part
    found = admin.client.get("/api/admin/users", params={"email": part})
    assert found.status_code == 200, found.text
    assert [u["email"] for u in found.json()["items"]] == [patient.email]
    assert found.json()["total"] == 1
    # % and _ are the characters themselves (as patterns, both of these would match).
    for pattern in ("%" + part, "_" + part[1:]):
        assert admin.client.get("/api/admin/users", params={"email": pattern}).json()["total"] == 0
    assert admin.client.get("/api/admin/users", params={"email": ""}).status_code == 422
