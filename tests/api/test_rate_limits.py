"""Rate limits: per address, per user, and stricter on sign-in; 429 with Retry-After."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from anyio.from_thread import BlockingPortal
from fastapi.testclient import TestClient

from health_platform.api.rate_limit import WINDOW_KEY_SECONDS, WINDOW_SECONDS, window_key
from health_platform.api.sessions import SESSION_COOKIE
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD, client_for, make_app
from tests.conftest import Backends


def away_from_a_window_edge() -> None:
    """Counts reset each minute; start where the whole test fits in one window."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < 10:
        time.sleep(left + 0.1)


@pytest.fixture
def strict_client(settings: ApiSettings, portal: BlockingPortal) -> TestClient:
    away_from_a_window_edge()
    strict = settings.model_copy(
        update={"login_rate": 3, "rate_per_user": 5, "rate_per_address": 8}
    )
    app = make_app(strict, portal)
    # A client address of its own, so no other test's requests count against it.
    address = f"198.51.100.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    return client_for(app, address=address)


def assert_limited(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_sign_in_is_limited_first(strict_client: TestClient) -> None:
    body = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "wrong password"}
    for _ in range(3):
        assert strict_client.post("/api/auth/login", json=body).status_code == 401
    assert_limited(strict_client.post("/api/auth/login", json=body))


def test_requests_are_limited_per_address(strict_client: TestClient) -> None:
    for _ in range(8):
        assert strict_client.get("/api/auth/me").status_code == 401
    assert_limited(strict_client.get("/api/auth/me"))
    assert strict_client.get("/health").status_code == 200  # health checks are never limited


def test_requests_are_limited_per_user(strict_client: TestClient) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    strict_client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "R"}
    )
    assert (
        strict_client.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        ).status_code
        == 200
    )
    statuses = [strict_client.get("/api/auth/me").status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429


def test_forged_session_cookies_do_not_spend_a_users_limit(
    strict_client: TestClient, settings: ApiSettings, portal: BlockingPortal
) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    strict_client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "V"}
    )
    signed_in = strict_client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    victim_id = signed_in.json()["user"]["id"]
    attacker = client_for(
        make_app(settings.model_copy(update={"rate_per_user": 5}), portal),
        address=f"203.0.113.{uuid.uuid4().int % 250}",
    )
    for forged in range(8):  # the victim's user id, a made-up token and signature
        attacker.cookies.set(SESSION_COOKIE, f"{victim_id}.token{forged}.c2lnbmF0dXJl")
        assert attacker.get("/api/auth/me").status_code == 401
    assert [strict_client.get("/api/auth/me").status_code for _ in range(5)] == [200] * 5


def test_registration_is_limited_like_sign_in(strict_client: TestClient) -> None:
    """Each registration costs an Argon2 hash: the general limit would let one address
    keep a worker's CPU busy."""
    for _ in range(3):
        body = {
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
            "display_name": "Sink",
        }
        assert strict_client.post("/api/auth/register", json=body).status_code == 201
    assert_limited(
        strict_client.post("/api/auth/register", json={**body, "email": "x@example.com"})
    )


def test_a_windows_counter_expires(
    settings: ApiSettings, portal: BlockingPortal, backends: Backends
) -> None:
    # The gate counts with INCR alone and sets a new counter's time to live with the next
    # batch (api/redis_batch.py): no counter may stay for good.
    away_from_a_window_edge()
    address = f"198.51.100.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    client = client_for(make_app(settings, portal), address=address)
    for _ in range(3):
        assert client.get("/api/auth/me").status_code == 401
    key = window_key("address", address)
    store = redis.Redis.from_url(backends.redis.url)
    try:
        assert int(store.get(key) or 0) == 3
        assert 0 < store.ttl(key) <= WINDOW_KEY_SECONDS
    finally:
        store.close()
