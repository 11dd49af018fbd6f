"""Liveness, readiness, accounts, sessions, CSRF, sign-in delays, against real PostgreSQL and
Redis."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request

from health_platform.api.deps import client_address
from health_platform.api.mail import open_maildir
from health_platform.api.models import AuditRecord
from health_platform.api.models import User as UserRow
from health_platform.api.sign_in_guard import ACCOUNT_ALLOWANCE_FACTOR, SignInGuard, source_of
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD, User, client_for, sign_up


def test_liveness_and_readiness(anonymous: TestClient) -> None:
    assert anonymous.get("/health").json() == {"status": "ok"}
    ready = anonymous.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "storage": "ok"}


def test_register_login_me_logout(anonymous: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    user = sign_up(app)
    me = user.client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["email"] == user.email
    assert me.json()["role"] == "patient"
    cookie = user.client.cookies.get("hp_session")
    assert cookie and len(cookie) >= 40
    out = user.client.post("/api/auth/logout", headers=user.headers())
    assert out.status_code == 204
    assert user.client.get("/api/auth/me").status_code == 401


def test_session_cookie_is_httponly_secure_strict(app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app)
    email = "cookie-check-" + __import__("uuid").uuid4().hex[:8] + "@example.com"
    client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "C"}
    )
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    header = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("hp_session=")
    )
    lowered = header.lower()
    assert "httponly" in lowered and "secure" in lowered and "samesite=strict" in lowered


def test_login_rotates_the_session(app) -> None:  # type: ignore[no-untyped-def]
    user = sign_up(app)
    first = user.client.cookies.get("hp_session")
    again = user.client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert again.status_code == 200
    assert user.client.cookies.get("hp_session") != first


def test_unsafe_methods_need_the_csrf_token(patient: User) -> None:
    missing = patient.client.post("/api/auth/logout")
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf"
    wrong = patient.client.post("/api/auth/logout", headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    non_ascii = patient.client.post(
        "/api/auth/logout", headers={"X-CSRF-Token": "jeton-\u00e9".encode("latin-1")}
    )
    assert non_ascii.status_code == 403


def test_a_garbled_session_cookie_is_a_401(anonymous: TestClient) -> None:
    for cookie in ("hp_session=garbage", "hp_session=u.t.sign\u00e9", "hp_session=\u00e9.t.s"):
        response = anonymous.get("/api/auth/me", headers={"Cookie": cookie.encode("latin-1")})
        assert response.status_code == 401, cookie


def mail_to(settings: ApiSettings, email: str, expected: int = 1) -> list[str]:
    """The subjects of the messages the API sent `email` (the Maildir of the tests), once
    `expected` have arrived (they are sent beside the response) or after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        box = open_maildir(Path(settings.mail_dir))
        subjects = [message["Subject"] for message in box if message["To"] == email]
        if len(subjects) >= expected or time.monotonic() > deadline:
            return sorted(subjects)
        time.sleep(0.05)


def test_a_taken_email_is_answered_like_a_new_one(  # type: ignore[no-untyped-def]
    anonymous: TestClient, patient: User, settings: ApiSettings, direct
) -> None:
    """Registration tells no one whether an email has an account: both answers are the
    same; only the address's owner learns, by email, which it was."""
    new_email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    answers = [
        anonymous.post(
            "/api/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": "X"},
        )
        for email in (new_email, patient.email)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json().keys() == answers[1].json().keys()
    assert answers[0].json()["message"] == answers[1].json()["message"]
    assert mail_to(settings, new_email) == ["Your health-platform account"]
    assert mail_to(settings, patient.email, expected=2) == [
        "Someone tried to register with your email",
        "Your health-platform account",  # when the account was made
    ]
    signed_in = anonymous.post("/api/auth/login", json={"email": new_email, "password": PASSWORD})
    assert signed_in.status_code == 200  # a new account signs in at once
    with direct.session() as session:
        refused = session.execute(
            select(AuditRecord.detail).where(
                AuditRecord.action == "account.register",
                AuditRecord.resource_id == patient.id,
                AuditRecord.outcome == "refused",
            )
        ).scalar_one()
    assert refused == {"reason": "email_taken"}


def wrong_sign_in(client: TestClient, email: str) -> int:
    return client.post(
        "/api/auth/login", json={"email": email, "password": "wrong guess"}
    ).status_code


@pytest.fixture
def minute_waits(monkeypatch: pytest.MonkeyPatch) -> int:
    """Each wait a minute long, so a loaded machine cannot outlast the first (1 s) wait
    between two requests; the doubling itself is test_the_waits_double_up_to_the_longest's."""
    monkeypatch.setattr(
        SignInGuard, "delay_after", lambda self, n: 60 if n >= self.failures_before_delay else 0
    )
    return 60


def test_failed_sign_ins_slow_the_guesser_not_the_owner(  # type: ignore[no-untyped-def]
    app, patient: User, settings: ApiSettings, minute_waits: int
) -> None:
    """Five wrong passwords from one address make that address wait; the owner, elsewhere,
    signs in as usual and is told of the attempts by email."""
    attacker = client_for(app, address="203.0.113.66")
    statuses = [
        wrong_sign_in(attacker, patient.email) for _ in range(settings.failures_before_delay)
    ]
    assert statuses == [401] * settings.failures_before_delay
    waiting = attacker.post("/api/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert waiting.status_code == 429 and waiting.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(waiting.headers["Retry-After"]) <= minute_waits
    owner = client_for(app, address="198.51.100.7")
    signed_in = owner.post("/api/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert signed_in.status_code == 200
    assert "Failed sign-ins to your health-platform account" in mail_to(
        settings, patient.email, expected=2
    )


def test_the_waits_double_up_to_the_longest() -> None:
    guard = SignInGuard(redis=None, failures_before_delay=5, longest_delay=900)  # type: ignore[arg-type]
    assert [guard.delay_after(n) for n in (1, 4, 5, 6, 7, 20)] == [0, 0, 1, 2, 4, 900]


def test_unknown_emails_meet_the_same_wait(  # type: ignore[no-untyped-def]
    app, settings: ApiSettings, minute_waits: int
) -> None:
    """No 423 or other answer tells who has an account: an email without one is slowed
    alike."""
    attacker = client_for(app, address="203.0.113.67")
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    statuses = [wrong_sign_in(attacker, nobody) for _ in range(settings.failures_before_delay + 1)]
    assert statuses == [401] * settings.failures_before_delay + [429]


def test_one_ipv6_host_is_one_source() -> None:
    assert source_of("2001:db8:1:2::1") == source_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("203.0.113.7") == "203.0.113.7"


def test_many_sources_slow_every_stranger_but_not_the_owner(  # type: ignore[no-untyped-def]
    app, patient: User, settings: ApiSettings, minute_waits: int
) -> None:
    """A botnet's one guess per address: past the account's allowance, a source that never
    signed in to it waits from its first attempt; the owner's source does not."""
    owner = client_for(app, address="198.51.100.8")
    assert (
        owner.post(
            "/api/auth/login", json={"email": patient.email, "password": PASSWORD}
        ).status_code
        == 200
    )
    allowance = settings.failures_before_delay * ACCOUNT_ALLOWANCE_FACTOR
    for n in range(allowance + 1):
        assert wrong_sign_in(client_for(app, address=f"192.0.2.{n + 1}"), patient.email) == 401
    stranger = client_for(app, address="203.0.113.99")
    assert wrong_sign_in(stranger, patient.email) == 429
    assert (
        owner.post(
            "/api/auth/login", json={"email": patient.email, "password": PASSWORD}
        ).status_code
        == 200
    )
    assert "Failed sign-ins to your health-platform account" in mail_to(
        settings, patient.email, expected=2
    )


def test_a_locked_account_answers_its_right_password_as_a_wrong_one(  # type: ignore[no-untyped-def]
    anonymous: TestClient, patient: User, direct, settings: ApiSettings
) -> None:
    """No one learns a locked account's password by the answer; its owner is told by email."""
    with direct.session() as session:
        session.get(UserRow, uuid.UUID(patient.id)).locked_until = datetime.now(UTC) + timedelta(  # type: ignore[union-attr]
            days=1
        )
    answers = [
        anonymous.post("/api/auth/login", json={"email": patient.email, "password": password})
        for password in ("wrong guess", PASSWORD)
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json()["error"]["message"] == answers[1].json()["error"]["message"]
    assert "Your health-platform account is locked" in mail_to(settings, patient.email, expected=2)


@pytest.mark.parametrize(
    "password",
    ["password1234", "aaaaaaaaaaaa", "{email}", "qwertyuiopasdf", "adalovelace2026"],
)
def test_guessable_passwords_are_refused(anonymous: TestClient, password: str) -> None:
    email = f"weak-{uuid.uuid4().hex[:8]}@example.com"
    refused = anonymous.post(
        "/api/auth/register",
        json={
            "email": email,
            "password": password.format(email=email),
            "display_name": "Ada Lovelace",
        },
    )
    assert refused.status_code == 422, refused.text
    [detail] = refused.json()["error"]["details"]
    assert detail["field"] == "password" and "too easy to guess" in detail["problem"]


def test_a_password_is_taken_with_its_spaces(anonymous: TestClient) -> None:
    email = f"spaces-{uuid.uuid4().hex[:8]}@example.com"
    spaced = f"  {PASSWORD}  "
    registered = anonymous.post(
        "/api/auth/register", json={"email": email, "password": spaced, "display_name": "S"}
    )
    assert registered.status_code == 201
    stripped = anonymous.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert stripped.status_code == 401
    exact = anonymous.post("/api/auth/login", json={"email": email, "password": spaced})
    assert exact.status_code == 200


def test_bad_bodies_are_422_with_the_field(anonymous: TestClient) -> None:
    cases = [
        ({"email": "x@example.com", "password": "short", "display_name": "A"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD, "display_name": "A"}, "email"),
        (
            {"email": "x@example.com", "password": PASSWORD, "display_name": "A", "admin": True},
            "admin",
        ),
    ]
    for body, field in cases:
        response = anonymous.post("/api/auth/register", json=body)
        assert response.status_code == 422, response.text
        assert field in [d["field"] for d in response.json()["error"]["details"]]
    malformed = anonymous.post(
        "/api/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["request_id"]


def test_client_address_ignores_what_the_client_forged(app) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services

    def address(forwarded: str, hops: int, peer: str = "10.0.0.9") -> str | None:
        settings = services.settings.model_copy(
            update={"trusted_proxies": hops, "trusted_proxy_networks": "10.0.0.0/24, ::1/128"}
        )
        app.state.services = dataclasses.replace(services, settings=settings)
        scope = {
            "type": "http",
            "headers": [(b"x-forwarded-for", forwarded.encode())],
            "client": (peer, 1),
            "app": app,
        }
        try:
            return client_address(Request(scope))
        finally:
            app.state.services = services

    assert address("6.6.6.6, 203.0.113.7", 1) == "203.0.113.7"  # seen by the local LB
    assert address("6.6.6.6, 203.0.113.7, 130.176.0.1", 2) == "203.0.113.7"  # CloudFront + ALB
    assert address("203.0.113.7", 0) == "10.0.0.9"
    # A client that reaches the API directly is no proxy: what it forwards is its own word.
    assert address("203.0.113.7", 1, peer="127.0.0.1") == "127.0.0.1"
    assert address("203.0.113.7", 1, peer="10.0.1.9") == "10.0.1.9"
    assert address("203.0.113.7", 1, peer="::1") == "203.0.113.7"


def test_text_postgres_cannot_store_is_a_422(anonymous: TestClient) -> None:
    response = anonymous.post(
        "/api/auth/register",
        json={"email": "nul@example.com", "password": PASSWORD, "display_name": "\x00"},
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_an_unknown_email_costs_the_same_password_check_as_a_known_one(  # type: ignore[no-untyped-def]
    anonymous: TestClient, patient, monkeypatch
) -> None:
    """Sign-in time must not tell whether an email has an account: an unknown email is
    checked against a dummy hash, as a wrong password is against the real one."""
    from health_platform.api import passwords

    checked: list[bool] = []
    real = passwords._verify

    def counted(password_hash: str | None, password: str) -> bool:
        checked.append(password_hash is None)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "_verify", counted)
    for email in (f"nobody-{uuid.uuid4().hex[:8]}@example.com", patient.email):
        refused = anonymous.post(
            "/api/auth/login", json={"email": email, "password": "not the password"}
        )
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_credentials"
    assert checked == [True, False]  # one Argon2 verification each, the dummy for the unknown
