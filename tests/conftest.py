"""Shared fixtures: a copy of the real environment files that a test may break; real
PostgreSQL 15 and Redis 7 on free ports of 127.0.0.1, run as the local platform runs them
(local.data_servers), started once per test session for the API's tests and the browser
tests, and stopped at the end."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
import yaml
from sqlalchemy import create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from health_platform.api.migrate import migrate
from health_platform.contract import ApiSettings
from health_platform.local.data_servers import DataServers, data_servers

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


def assert_refused_in_one_sentence(
    capsys: pytest.CaptureFixture[str], argv: list[str], sentence: str
) -> None:
    """`hp ARGV` exits 2 (invalid input) with `sentence` alone on stderr, no traceback."""
    from health_platform.cli import main
    from health_platform.errors import ExitCode

    assert main(argv) == ExitCode.INVALID_INPUT
    captured = capsys.readouterr()
    assert captured.err.strip() == f"error: {sentence}"
    assert "Traceback" not in captured.err


@pytest.fixture
def environment_files(tmp_path: Path) -> EnvironmentFiles:
    return EnvironmentFiles(tmp_path / "environments")


@dataclass
class Postgres:
    """The tests' PostgreSQL as its superuser (over TLS, with its password)."""

    servers: DataServers

    @property
    def port(self) -> int:
        return self.servers.config.postgres_port

    @property
    def log_file(self) -> Path:
        return self.servers.config.log_file("postgres")

    def url(self, database: str) -> str:
        """The superuser's SQLAlchemy URL to `database`."""
        superuser = make_url(self.servers.database_url("superuser"))
        return superuser.set(database=database).render_as_string(hide_password=False)

    def sql(self, statement: str, database: str = "postgres") -> None:
        libpq = self.url(database).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]


@dataclass
class Redis:
    url: str


@dataclass
class Backends:
    postgres: Postgres
    redis: Redis
    database_url: str  # the API's runtime role, as the API connects
    owner_url: str  # the database's owner, as migrations run
    runtime_password: str


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    root = Path(tempfile.mkdtemp(prefix="hp-api-tests-"))
    try:
        # The roles as `hp up` makes them: the owner runs the migrations, which grant the
        # runtime role.
        with data_servers(root) as servers:
            owner_url = servers.database_url("owner")
            migrate(owner_url)
            yield Backends(
                Postgres(servers),
                Redis(servers.redis_url),
                servers.database_url("runtime"),
                owner_url,
                servers.credentials.runtime,
            )
    finally:
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
        mail_dir=str(tmp_path_factory.mktemp("mail")),
        session_secret=secrets.token_hex(32),
        # Every test shares one client address; test_rate_limits.py checks the limits.
        rate_per_address=1_000_000,
        rate_per_user=1_000_000,
        login_rate=1_000_000,
    )
