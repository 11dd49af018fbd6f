"""An invited administrator: the one-off task makes the account with no password, the
enrollment link's token sets one, sign-in then demands TOTP. Refusals are audited, and no
token or digest reaches the task's output or the audit trail."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from health_platform.api.invitations import Invitation, invite_admin, token_sha256
from health_platform.api.models import AdminInvitation, AuditRecord, User
from health_platform.contract import CREATE_ADMIN_COMMAND, ENROLL_PATH, ApiSettings
from health_platform.errors import InvalidInputError
from health_platform.ops.admins import enrollment_token
from tests.api.conftest import PASSWORD, client_for, make_app
from tests.api.test_rate_limits import away_from_a_window_edge
from tests.conftest import Backends, Direct

ACCEPT = "/api/auth/invitations/accept"
NEW_PASSWORD = "a password the admin chose"  # noqa: S105 - a test account's password


def new_token() -> str:
    """A token as the operator's terminal draws it (ops/admins.py)."""
    return enrollment_token()[0]


def new_email() -> str:
    return f"admin-{uuid.uuid4().hex[:10]}@example.com"


def invite(backends: Backends, **options: Any) -> tuple[str, str, Invitation]:
    """A fresh invitation: its email, its token, and what the task reports."""
    email, token = new_email(), new_token()
    return (
        email,
        token,
        invite_admin(backends.owner_url, email, "Grace", token_sha256(token), **options),
    )


def sign_in(client: TestClient, email: str, password: str) -> Any:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def records(direct: Direct, **where: Any) -> list[AuditRecord]:
    with direct.session() as session:
        query = select(AuditRecord).filter_by(**where).order_by(AuditRecord.id)
        found = list(session.scalars(query))
        session.expunge_all()
        return found


def test_an_invited_admin_sets_a_password_then_must_enroll_totp(
    backends: Backends, direct: Direct, anonymous: TestClient
) -> None:
    email, token, invitation = invite(backends)
    assert invitation.email == email
    hours = (invitation.expires_at - datetime.now(UTC)) / timedelta(hours=1)
    assert 71.9 < hours <= 72

    accepted = anonymous.post(ACCEPT, json={"token": token, "password": NEW_PASSWORD})
    assert accepted.status_code == 204, accepted.text
    assert accepted.content == b""

    signed_in = sign_in(anonymous, email, NEW_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "admin"
    assert signed_in.json()["user"]["id"] == str(invitation.user_id)
    assert signed_in.json()["mfa_enrollment_required"] is True
    refused = anonymous.get("/api/admin/users")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_required"

    invited = records(direct, resource_id=str(invitation.user_id), action="admin.user.invite")
    assert [(r.actor_id, r.outcome, r.detail) for r in invited] == [
        (None, "success", {"via": "hp users create-admin"})
    ]
    accepts = records(direct, resource_id=str(invitation.user_id), action="admin.invitation.accept")
    assert [(r.actor_id, r.outcome) for r in accepts] == [(invitation.user_id, "success")]
    with direct.session() as session:
        row = session.get(AdminInvitation, invitation.user_id)
        assert row is not None and row.used_at is not None


def test_sign_in_before_accepting_is_refused_like_a_wrong_password(
    backends: Backends, anonymous: TestClient
) -> None:
    email, _, _ = invite(backends)
    # No password at all: whatever is tried, the same answer as for a wrong one.
    for attempt in ("x", PASSWORD, NEW_PASSWORD):
        before = sign_in(anonymous, email, attempt)
        assert before.status_code == 401
        assert before.json()["error"]["code"] == "invalid_credentials"
    stranger = sign_in(anonymous, new_email(), NEW_PASSWORD)
    assert before.json()["error"]["message"] == stranger.json()["error"]["message"]


def test_a_link_works_once(backends: Backends, direct: Direct, anonymous: TestClient) -> None:
    email, token, invitation = invite(backends)
    assert (
        anonymous.post(ACCEPT, json={"token": token, "password": NEW_PASSWORD}).status_code == 204
    )
    again = anonymous.post(ACCEPT, json={"token": token, "password": "another password, later"})
    assert again.status_code == 410, again.text
    assert again.json()["error"]["code"] == "invitation_used"
    assert sign_in(anonymous, email, "another password, later").status_code == 401
    assert sign_in(anonymous, email, NEW_PASSWORD).status_code == 200

    refused = records(direct, request_id=again.json()["error"]["request_id"])
    assert [(r.action, r.outcome, r.resource_id, r.actor_id, r.detail) for r in refused] == [
        ("admin.invitation.accept", "refused", str(invitation.user_id), None, {"reason": "used"})
    ]


def test_an_expired_link_is_refused(
    backends: Backends, direct: Direct, anonymous: TestClient
) -> None:
    email, token, invitation = invite(backends)
    with direct.session() as session:
        session.execute(
            update(AdminInvitation)
            .where(AdminInvitation.user_id == invitation.user_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = anonymous.post(ACCEPT, json={"token": token, "password": NEW_PASSWORD})
    assert expired.status_code == 410, expired.text
    assert expired.json()["error"]["code"] == "invitation_expired"
    assert sign_in(anonymous, email, NEW_PASSWORD).status_code == 401
    refused = records(direct, request_id=expired.json()["error"]["request_id"])
    assert [(r.outcome, r.resource_id, r.detail) for r in refused] == [
        ("refused", str(invitation.user_id), {"reason": "expired"})
    ]


def test_a_wrong_token_is_refused_and_recorded_without_it(
    backends: Backends, direct: Direct, anonymous: TestClient
) -> None:
    email, token, _ = invite(backends)
    wrong = new_token()
    refused = anonymous.post(ACCEPT, json={"token": wrong, "password": NEW_PASSWORD})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invitation_invalid" and error["details"] == []
    assert error["message"].endswith(".") and error["request_id"]
    assert sign_in(anonymous, email, NEW_PASSWORD).status_code == 401

    [record] = records(direct, request_id=error["request_id"])
    assert (record.action, record.outcome, record.resource_id, record.actor_id) == (
        "admin.invitation.accept",
        "refused",
        None,
        None,
    )
    assert record.detail == {"reason": "unknown"}
    # Neither the token tried, nor the real one, nor their digests, anywhere in the trail.
    with direct.session() as session:
        trail = " ".join(
            str(row)
            for row in session.execute(
                select(AuditRecord.detail, AuditRecord.resource_id).where(
                    AuditRecord.action.like("admin.%")
                )
            )
        )
    for secret in (wrong, token, token_sha256(wrong), token_sha256(token)):
        assert secret not in trail


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": "short", "password": NEW_PASSWORD}, "token"),
        ({"token": "not a token!" * 3, "password": NEW_PASSWORD}, "token"),
        ({"token": "x" * 43, "password": "too short"}, "password"),
        ({"token": "x" * 43}, "password"),
    ],
)
def test_a_malformed_request_is_422_and_spends_nothing(
    backends: Backends, anonymous: TestClient, body: dict[str, str], field: str
) -> None:
    refused = anonymous.post(ACCEPT, json=body)
    assert refused.status_code == 422, refused.text
    assert [d["field"] for d in refused.json()["error"]["details"]] == [field]


def test_a_too_short_password_leaves_the_link_usable(
    backends: Backends, anonymous: TestClient
) -> None:
    email, token, _ = invite(backends)
    short = anonymous.post(ACCEPT, json={"token": token, "password": "eleven char"})
    assert short.status_code == 422
    assert (
        anonymous.post(ACCEPT, json={"token": token, "password": NEW_PASSWORD}).status_code == 204
    )
    assert sign_in(anonymous, email, NEW_PASSWORD).status_code == 200


def test_the_password_is_trimmed_as_sign_in_trims_it(
    backends: Backends, anonymous: TestClient
) -> None:
    email, token, _ = invite(backends)
    padded = f"  {NEW_PASSWORD}  "
    assert anonymous.post(ACCEPT, json={"token": token, "password": padded}).status_code == 204
    assert sign_in(anonymous, email, padded).status_code == 200


@pytest.fixture
def strict_app(settings: ApiSettings, portal: BlockingPortal) -> Iterator[FastAPI]:
    app = make_app(settings.model_copy(update={"login_rate": 3}), portal)
    yield app
    portal.call(app.state.services.close)


def test_accepting_is_rate_limited_like_sign_in(strict_app: FastAPI) -> None:
    away_from_a_window_edge()
    # An address of its own: no other test's requests count against it.
    client = client_for(strict_app, address=f"192.0.2.{uuid.uuid4().hex[:8]}")
    answers = [
        client.post(ACCEPT, json={"token": new_token(), "password": NEW_PASSWORD}) for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert answers[3].json()["error"]["code"] == "rate_limited"


# --- invite_admin, the task's function ------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "name", "digest", "says"),
    [
        ("not-an-email", "Grace", "a" * 64, "is not an email address"),
        (None, "", "a" * 64, "1 to 100 characters"),
        (None, "x" * 101, "a" * 64, "1 to 100 characters"),
        (None, "Grace", "A" * 64, "64 lowercase hexadecimal"),
        (None, "Grace", "a" * 63, "64 lowercase hexadecimal"),
        (None, "Grace", "g" * 64, "64 lowercase hexadecimal"),
    ],
)
def test_invite_admin_refuses_bad_input_and_makes_nothing(
    backends: Backends, direct: Direct, email: str | None, name: str, digest: str, says: str
) -> None:
    address = email or new_email()
    with pytest.raises(InvalidInputError, match=says) as refused:
        invite_admin(backends.owner_url, address, name, digest)
    assert digest not in str(refused.value)
    with direct.session() as session:
        assert session.scalar(select(User).where(User.email == address)) is None


def test_invite_admin_refuses_a_taken_email_and_a_reused_token(
    backends: Backends, direct: Direct
) -> None:
    email, token, invitation = invite(backends)
    with direct.session() as session:  # the invitation was accepted: a password is set
        session.execute(
            update(User).where(User.id == invitation.user_id).values(password_hash="$argon2id$…")  # noqa: S106 - a stand-in hash
        )
    with pytest.raises(InvalidInputError, match="exists already"):
        invite_admin(backends.owner_url, email.upper(), "Grace", token_sha256(new_token()))
    other = new_email()
    with pytest.raises(InvalidInputError, match="token was used before") as reused:
        invite_admin(backends.owner_url, other, "Grace", token_sha256(token))
    assert token_sha256(token) not in str(reused.value)
    with direct.session() as session:
        assert session.scalar(select(User).where(User.email == other)) is None


def test_a_new_link_replaces_one_that_expired_and_the_old_one_stops_working(
    backends: Backends, direct: Direct, anonymous: TestClient
) -> None:
    email, old_token, first = invite(backends)
    with direct.session() as session:
        session.execute(
            update(AdminInvitation)
            .where(AdminInvitation.user_id == first.user_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    new = new_token()
    again = invite_admin(backends.owner_url, email, "Ada", token_sha256(new))
    assert again.user_id == first.user_id  # the same account, a new link
    stale = anonymous.post(ACCEPT, json={"token": old_token, "password": NEW_PASSWORD})
    assert stale.status_code == 400 and stale.json()["error"]["code"] == "invitation_invalid"
    assert anonymous.post(ACCEPT, json={"token": new, "password": NEW_PASSWORD}).status_code == 204
    assert sign_in(anonymous, email, NEW_PASSWORD).status_code == 200
    with direct.session() as session:
        actions = session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.resource_id == str(first.user_id))
            .order_by(AuditRecord.id)
        ).all()
    assert actions[:2] == ["admin.user.invite", "admin.user.reinvite"]


def test_invite_admin_refuses_an_invitation_that_never_expires(backends: Backends) -> None:
    with pytest.raises(InvalidInputError, match="valid for some time"):
        invite_admin(backends.owner_url, new_email(), "Grace", "a" * 64, valid_for=timedelta(0))


def test_the_operator_and_the_api_hash_a_token_alike() -> None:
    token, digest = enrollment_token()
    assert len(token) == 43  # 256 random bits, URL-safe: what the enrollment page accepts
    assert token_sha256(token) == digest
    assert ENROLL_PATH == "/enroll"  # the frontend's route (frontend/src/App.tsx)


# --- python -m health_platform.api.create_admin, the one-off task ---------------------------


def run_task(backends: Backends, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The task as ECS runs it: the database settings in its environment, as for migrations."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    env["DATABASE_URL"] = backends.owner_url
    return subprocess.run(
        [sys.executable, *CREATE_ADMIN_COMMAND[1:], *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_task_invites_and_prints_no_secret(
    backends: Backends, direct: Direct, anonymous: TestClient
) -> None:
    email, token = new_email(), new_token()
    digest = token_sha256(token)
    done = run_task(backends, "--email", email, "--name", "Grace", "--token-sha256", digest)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert digest not in output and token not in output
    with direct.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None and user.role == "admin" and user.password_hash is None
        user_id = str(user.id)
        invitation = session.get(AdminInvitation, user.id)
        assert invitation is not None and invitation.token_sha256 == digest
        expiry = invitation.expires_at.astimezone(UTC).isoformat(timespec="seconds")
    assert done.stdout.count("\n") == 1
    assert user_id in done.stdout and expiry in done.stdout
    assert (
        anonymous.post(ACCEPT, json={"token": token, "password": NEW_PASSWORD}).status_code == 204
    )


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--email", "not-an-email", "--name", "Grace"], "is not an email address"),
        (["--email", "ok@example.com", "--name", " "], "1 to 100 characters"),
        (["--email", "ok@example.com"], "arguments are required: --name"),
    ],
)
def test_the_task_explains_bad_input_in_one_sentence(
    backends: Backends, arguments: list[str], says: str
) -> None:
    digest = token_sha256(new_token())
    done = run_task(backends, *arguments, "--token-sha256", digest)
    assert done.returncode == 2
    assert done.stdout == ""
    assert says in done.stderr
    assert done.stderr.strip().count("\n") == 0 and done.stderr.strip().endswith(".")
    assert digest not in done.stderr


def test_the_task_refuses_a_malformed_digest_without_echoing_it(backends: Backends) -> None:
    digest = token_sha256(new_token()).upper()
    done = run_task(backends, "--email", new_email(), "--name", "G", "--token-sha256", digest)
    assert done.returncode == 2
    assert "64 lowercase hexadecimal" in done.stderr
    assert digest not in done.stdout + done.stderr
