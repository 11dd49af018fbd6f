"""The API against real PostgreSQL 15 and Redis 7, started once per test session on free
ports of 127.0.0.1 in a temporary folder, and stopped at the end."""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from health_platform.api.app import build_services, create_app
from health_platform.api.config import ApiSettings
from health_platform.api.deps import Services
from health_platform.api.migrate import migrate
from health_platform.local.postgres import Postgres
from health_platform.local.redis_server import RedisServer

HEART_RATE_BODY = {
    "type": "heart_rate",
    "value": 62,
    "unit": "/min",
    "effective_at": "2026-11-25T08:30:00Z",
}
PASSWORD = "correct horse battery staple"  # noqa: S105 - a test account's password


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Backends:
    postgres: Postgres
    redis: RedisServer
    database_url: str


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    root = Path(tempfile.mkdtemp(prefix="hp-api-tests-"))
    root.chmod(0o755)  # the postgres user must reach its cluster inside
    postgres = Postgres(root / "postgres" / "data", free_port())
    redis_server = RedisServer(root / "redis", free_port(), secrets.token_hex(16))
    postgres.init()
    postgres.start()
    try:
        postgres.sql("CREATE DATABASE health_platform")
        redis_server.start(persistent=False)
        url = postgres.url("health_platform")
        migrate(url)
        yield Backends(postgres, redis_server, url)
    finally:
        redis_server.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> ApiSettings:
    return ApiSettings(
        database_url=backends.database_url,
        redis_url=backends.redis.url,
        storage_path=str(tmp_path_factory.mktemp("uploads")),
        # Every test shares one client address; test_rate_limits.py checks the limits.
        rate_per_address=1_000_000,
        rate_per_user=1_000_000,
        login_rate=1_000_000,
    )


@pytest.fixture(scope="session")
def services(settings: ApiSettings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.database.engine.dispose()


@pytest.fixture(scope="session")
def app(settings: ApiSettings, services: Services):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    application.state.services = services  # shared; each client below has its own cookies
    return application


@dataclass
class User:
    client: TestClient
    id: str
    email: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}


@pytest.fixture
def anonymous(app) -> TestClient:  # type: ignore[no-untyped-def]
    # https: the session cookie is Secure and would not be sent over plain http.
    return TestClient(app, base_url="https://testserver")


def sign_up(app, *, role: str = "patient", services: Services | None = None) -> User:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="https://testserver")
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    created = client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Test"}
    )
    assert created.status_code == 201, created.text
    if role != "patient":
        assert services is not None
        with services.database.session() as session:
            from health_platform.api.models import User as UserRow

            session.get(UserRow, uuid.UUID(created.json()["id"])).role = role  # type: ignore[union-attr]
    signed_in = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return User(client, created.json()["id"], email, signed_in.json()["csrf_token"])


@pytest.fixture
def patient(app) -> User:  # type: ignore[no-untyped-def]
    return sign_up(app)


@pytest.fixture
def other_patient(app) -> User:  # type: ignore[no-untyped-def]
    return sign_up(app)
