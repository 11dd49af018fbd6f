"""PostgreSQL or Redis going away: requests fail fast with 503, and the service recovers by
itself when they return, with no acknowledged write lost. Uses backends of its own, so the
other tests' backends stay up."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal

from health_platform.api.migrate import migrate
from health_platform.contract import ApiSettings
from health_platform.local.ports import free_ports
from health_platform.local.postgres import Postgres
from health_platform.local.redis_server import RedisServer
from tests.api.conftest import HEART_RATE_BODY, User, make_app, sign_up


@pytest.fixture
def fragile(portal: BlockingPortal) -> Iterator[tuple[Postgres, RedisServer, User]]:
    root = Path(tempfile.mkdtemp(prefix="hp-outage-"))
    root.chmod(0o755)
    postgres_port, redis_port = free_ports(2)
    postgres = Postgres(root / "postgres" / "data", postgres_port)
    redis_server = RedisServer(root / "redis", redis_port, secrets.token_hex(8))
    postgres.init()
    postgres.start()
    postgres.sql("CREATE DATABASE health_platform")
    redis_server.start()
    migrate(postgres.url("health_platform"))
    settings = ApiSettings(
        database_url=postgres.url("health_platform"),
        redis_url=redis_server.url,
        storage_path=str(root / "uploads"),
        session_secret=secrets.token_hex(32),
    )
    app = make_app(settings, portal)
    try:
        yield postgres, redis_server, sign_up(app)
    finally:
        portal.call(app.state.services.close)
        redis_server.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_database_down_is_a_fast_503_and_recovers(fragile) -> None:  # type: ignore[no-untyped-def]
    postgres, _, user = fragile
    saved = user.client.post("/api/observations", json=HEART_RATE_BODY, headers=user.headers())
    assert saved.status_code == 201
    postgres.stop()
    refused, seconds = timed(
        lambda: user.client.post("/api/observations", json=HEART_RATE_BODY, headers=user.headers())
    )
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable"
    assert refused.headers["Retry-After"]
    assert seconds < 5
    assert user.client.get("/health").status_code == 200  # alive, just not ready
    assert user.client.get("/health/ready").status_code == 503
    postgres.start()
    # The first statement on each stale pooled connection fails and SQLAlchemy then drops
    # the whole pool: at most one more 503, then every request is served again.
    after = [user.client.get("/api/observations") for _ in range(4)]
    assert [r.status_code for r in after[1:]] == [200, 200, 200], [r.text for r in after]
    recovered = after[-1]
    assert [i["id"] for i in recovered.json()["items"]] == [saved.json()["id"]]  # nothing lost


def test_redis_down_is_a_fast_503_and_recovers(fragile) -> None:  # type: ignore[no-untyped-def]
    _, redis_server, user = fragile
    redis_server.stop()
    response, seconds = timed(lambda: user.client.get("/api/observations"))
    assert response.status_code == 503 and seconds < 5
    ready = user.client.get("/health/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("failed")
    redis_server.start()  # append-only file: the sessions come back too
    assert user.client.get("/api/observations").status_code == 200
