"""Shared fixtures: a copy of the real environment files that a test may break; real
PostgreSQL 15 and Redis 7 on free ports of 127.0.0.1, started once per test session for the
API's tests and the browser tests, and stopped at the end."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import yaml
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from health_platform.api.migrate import migrate
from health_platform.contract import DATABASE_NAME, LOCAL_OWNER_ROLE, RUNTIME_ROLE, ApiSettings
from health_platform.local.ports import free_ports
from health_platform.local.postgres import Postgres
from health_platform.local.redis_server import RedisServer

REPO = Path(__file__).resolve().parents[1]
ENVIRONMENTS = REPO / "environments"
REMOVE = object()


class EnvironmentFiles:
    """The three environment files in a temporary folder, editable one key at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        shutil.copytree(ENVIRONMENTS, directory)

    def edit(self, name: str, dotted_key: str, value: object = REMOVE) -> None:
        """Set `dotted_key` (e.g. "rds.backup_retention_days") in `name`'s file, or delete it."""
        path = self.directory / f"{name}.yaml"
        data = yaml.safe_load(path.read_text())
        *parents, leaf = dotted_key.split(".")
        node = data
        for key in parents:
            node = node[key]
        if value is REMOVE:
            del node[leaf]
        else:
            node[leaf] = value
        path.write_text(yaml.safe_dump(data))


@pytest.fixture
def environment_files(tmp_path: Path) -> EnvironmentFiles:
    return EnvironmentFiles(tmp_path / "environments")


@dataclass
class Backends:
    postgres: Postgres
    redis: RedisServer
    database_url: str  # the API's runtime role, as the API connects
    owner_url: str  # the database's owner, as migrations run


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    root = Path(tempfile.mkdtemp(prefix="hp-api-tests-"))
    root.chmod(0o755)  # the postgres user must reach its cluster inside
    postgres_port, redis_port = free_ports(2)
    postgres = Postgres(root / "postgres" / "data", postgres_port)
    redis_server = RedisServer(root / "redis", redis_port, secrets.token_hex(16))
    postgres.init()
    postgres.start()
    try:
        # The roles as on AWS: an owner runs the migrations, which grant the runtime role.
        # On RDS the owner (the master user) may create roles; locally the superuser
        # makes the runtime role first, as `hp up` does.
        postgres.sql(f"CREATE ROLE {LOCAL_OWNER_ROLE} LOGIN")
        postgres.sql(f"CREATE ROLE {RUNTIME_ROLE} LOGIN")
        postgres.sql(f"CREATE DATABASE {DATABASE_NAME} OWNER {LOCAL_OWNER_ROLE}")
        redis_server.start(persistent=False)
        owner_url = postgres.url(DATABASE_NAME, user=LOCAL_OWNER_ROLE)
        migrate(owner_url)
        runtime_url = postgres.url(DATABASE_NAME, user=RUNTIME_ROLE)
        yield Backends(postgres, redis_server, runtime_url, owner_url)
    finally:
        redis_server.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Direct:
    """Synchronous access to the API's database and Redis, for a test's own checks."""

    sessions: sessionmaker[Session]
    redis: redis.Redis

    def session(self) -> AbstractContextManager[Session]:
        """A transaction, committed at the end of the block."""
        return self.sessions.begin()


@pytest.fixture(scope="session")
def direct(backends: Backends) -> Iterator[Direct]:
    engine = create_engine(backends.owner_url)
    client = redis.Redis.from_url(backends.redis.url)
    yield Direct(sessionmaker(engine), client)
    client.close()
    engine.dispose()


@pytest.fixture(scope="session")
def settings(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> ApiSettings:
    return ApiSettings(
        database_url=backends.database_url,
        redis_url=backends.redis.url,
        storage_path=str(tmp_path_factory.mktemp("uploads")),
        session_secret=secrets.token_hex(32),
        # Every test shares one client address; test_rate_limits.py checks the limits.
        rate_per_address=1_000_000,
        rate_per_user=1_000_000,
        login_rate=1_000_000,
    )
