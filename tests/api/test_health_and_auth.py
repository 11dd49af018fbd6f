"""Liveness, readiness, accounts, sessions, CSRF, lockout — against real PostgreSQL and Redis."""

from __future__ import annotations

import dataclasses
import uuid

from fastapi.testclient import TestClient
from starlette.requests import Request

from health_platform.api.deps import client_address
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


def test_duplicate_email_is_409(anonymous: TestClient, patient: User) -> None:
    again = anonymous.post(
        "/api/auth/register",
        json={"email": patient.email, "password": PASSWORD, "display_name": "X"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "email_taken"


def test_five_failures_lock_the_account(anonymous: TestClient, patient: User) -> None:
    for _ in range(5):
        failed = anonymous.post(
            "/api/auth/login", json={"email": patient.email, "password": "wrong password"}
        )
        assert failed.status_code == 401
    locked = anonymous.post("/api/auth/login", json={"email": patient.email, "password": PASSWORD})
    assert locked.status_code == 423
    assert int(locked.headers["Retry-After"]) > 800


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

    def address(forwarded: str, hops: int) -> str | None:
        settings = services.settings.model_copy(update={"trusted_proxies": hops})
        app.state.services = dataclasses.replace(services, settings=settings)
        scope = {
            "type": "http",
            "headers": [(b"x-forwarded-for", forwarded.encode())],
            "client": ("10.0.0.9", 1),
            "app": app,
        }
        try:
            return client_address(Request(scope))
        finally:
            app.state.services = services

    assert address("6.6.6.6, 203.0.113.7", 1) == "203.0.113.7"  # seen by the local LB
    assert address("6.6.6.6, 203.0.113.7, 130.176.0.1", 2) == "203.0.113.7"  # CloudFront + ALB
    assert address("203.0.113.7", 0) == "10.0.0.9"


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
