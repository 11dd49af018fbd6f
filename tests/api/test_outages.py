"""PostgreSQL or Redis going away: requests fail fast with 503, and the service recovers by
itself when they return, with no acknowledged write lost. Uses backends of its own, so the
other tests' backends stay up."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal

from health_platform.api.migrate import migrate
from health_platform.contract import ApiSettings
from health_platform.local.data_servers import DataServers, data_servers
from tests.api.conftest import HEART_RATE_BODY, User, make_app, sign_up


@pytest.fixture
def fragile(portal: BlockingPortal) -> Iterator[tuple[DataServers, User]]:
    root = Path(tempfile.mkdtemp(prefix="hp-outage-"))
    try:
        with data_servers(root) as servers:
            migrate(servers.database_url("owner"))
            settings = ApiSettings(
                database_url=servers.database_url("runtime"),
                redis_url=servers.redis_url,
                storage_path=str(root / "uploads"),
                session_secret=secrets.token_hex(32),
            )
            app = make_app(settings, portal)
            try:
                yield servers, sign_up(app)
            finally:
                portal.call(app.state.services.close)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_database_down_is_a_fast_503_and_recovers(fragile) -> None:  # type: ignore[no-untyped-def]
    servers, user = fragile
    saved = user.client.post("/api/observations", json=HEART_RATE_BODY, headers=user.headers())
    assert saved.status_code == 201
    servers.stop("postgres")
    refused, seconds = timed(
        lambda: user.client.post("/api/observations", json=HEART_RATE_BODY, headers=user.headers())
    )
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable"
    assert refused.headers["Retry-After"]
    assert seconds < 5
    assert user.client.get("/health").status_code == 200  # alive, just not ready
    assert user.client.get("/health/ready").status_code == 503
    servers.start("postgres")
    # The first statement on each stale pooled connection fails and SQLAlchemy then drops
    # the whole pool: at most one more 503, then every request is served again.
    after = [user.client.get("/api/observations") for _ in range(4)]
    assert [r.status_code for r in after[1:]] == [200, 200, 200], [r.text for r in after]
    recovered = after[-1]
    assert [i["id"] for i in recovered.json()["items"]] == [saved.json()["id"]]  # nothing lost


def test_redis_down_is_a_fast_503_and_recovers(fragile) -> None:  # type: ignore[no-untyped-def]
    servers, user = fragile
    servers.stop("redis")
    response, seconds = timed(lambda: user.client.get("/api/observations"))
    assert response.status_code == 503 and seconds < 5
    ready = user.client.get("/health/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("failed")
    servers.start("redis")  # append-only file: the sessions come back too
    assert user.client.get("/api/observations").status_code == 200


def test_after_a_redis_restart_no_request_fails(fragile) -> None:  # type: ignore[no-untyped-def]
    """Connections opened before a restart are stale after it: each is retried on a new
    connection, not answered with a stray 503 (which went on for minutes)."""
    servers, user = fragile
    with ThreadPoolExecutor(8) as pool:  # several pooled connections in use
        warm = list(pool.map(lambda _: user.client.get("/api/observations"), range(32)))
        assert {r.status_code for r in warm} == {200}
        servers.stop("redis")
        servers.start("redis")
        after = list(pool.map(lambda _: user.client.get("/api/observations"), range(64)))
    assert [r.status_code for r in after if r.status_code != 200] == []


def test_more_requests_than_redis_connections_wait_their_turn(
    settings: ApiSettings, portal: BlockingPortal
) -> None:
    """Two connections for sixteen requests at once: the others wait briefly for one, as
    they should, instead of an immediate 503."""
    app = make_app(settings.model_copy(update={"redis_connections": 2}), portal)
    try:
        user = sign_up(app)
        with ThreadPoolExecutor(16) as pool:
            statuses = list(
                pool.map(lambda _: user.client.get("/api/auth/me").status_code, range(64))
            )
        assert set(statuses) == {200}
    finally:
        portal.call(app.state.services.close)
