"""`python -m health_platform.api.verify_restore` on the real PostgreSQL of the API's tests:
what `hp dr drill` reads from its verification task's log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from health_platform.api.migrate import head_revision, migrate
from health_platform.api.verify_restore import main
from health_platform.errors import ExitCode
from health_platform.local.ports import free_port
from tests.conftest import Backends

DATABASE = "verify_restore_check"


@pytest.fixture
def restored(backends: Backends) -> Iterator[str]:
    """A migrated database with three audit records: a restored copy, as far as a check sees."""
    backends.postgres.sql(f"DROP DATABASE IF EXISTS {DATABASE}")
    backends.postgres.sql(f"CREATE DATABASE {DATABASE}")
    migrate(backends.postgres.url(DATABASE))
    for _ in range(3):
        backends.postgres.sql(
            "INSERT INTO audit_records (action, resource_type, outcome)"
            " VALUES ('test', 'x', 'success')",
            DATABASE,
        )
    yield DATABASE
    backends.postgres.sql(f"DROP DATABASE IF EXISTS {DATABASE}")


def as_migration_task(backends: Backends, database: str) -> dict[str, str]:
    """The environment the migration's task definition gives its container (host = primary)."""
    return {
        "DATABASE_HOST": "health-platform-prod-db.abc123.us-east-1.rds.amazonaws.com",
        "DATABASE_PORT": str(backends.postgres.port),
        "DATABASE_NAME": database,
        "DATABASE_USERNAME": "postgres",
        "DATABASE_PASSWORD": backends.postgres.servers.credentials.postgres_superuser,
        "DATABASE_SSL": "require",
    }


def test_it_prints_the_schema_version_and_every_tables_rows_on_one_line(
    backends: Backends, restored: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--host", "127.0.0.1"], as_migration_task(backends, restored))

    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert out.count("\n") == 1  # one line: the drill finds it in the task's log
    report = json.loads(out)
    assert report["schema_version"] == report["head_revision"] == head_revision()
    assert report["schema_known"] is True
    assert report["tables"]["audit_records"] == 3
    assert report["tables"]["alembic_version"] == 1
    assert report["tables"]["users"] == 0
    assert {"users", "observations", "documents", "admin_invitations"} <= set(report["tables"])


def test_a_database_url_takes_the_new_host_too(
    backends: Backends, restored: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = backends.postgres.url(restored).replace("127.0.0.1", "primary.invalid")
    assert main(["--host", "127.0.0.1"], {"DATABASE_URL": url}) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["tables"]["audit_records"] == 3


def test_a_database_never_migrated_has_no_schema_version(
    backends: Backends, capsys: pytest.CaptureFixture[str]
) -> None:
    backends.postgres.sql("DROP DATABASE IF EXISTS verify_restore_empty")
    backends.postgres.sql("CREATE DATABASE verify_restore_empty")
    try:
        code = main(["--host", "127.0.0.1"], as_migration_task(backends, "verify_restore_empty"))
    finally:
        backends.postgres.sql("DROP DATABASE IF EXISTS verify_restore_empty")
    report = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    assert report["schema_version"] is None and report["schema_known"] is False
    assert report["tables"] == {}


def test_a_database_it_cannot_reach_exits_1_with_the_reason_and_no_password(
    backends: Backends, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = {**as_migration_task(backends, DATABASE), "DATABASE_PORT": str(free_port())}

    code = main(["--host", "127.0.0.1"], environment)

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""  # no report line: the drill says the task failed
    assert captured.err.startswith("verification failed: OperationalError")
    assert environment["DATABASE_PASSWORD"] not in captured.err


def test_iam_authentication_is_refused_in_one_sentence(
    backends: Backends, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = {
        **as_migration_task(backends, DATABASE),
        "DATABASE_AUTH": "iam",
        "AWS_REGION": "us-east-1",
    }
    assert main(["--host", "127.0.0.1"], environment) == ExitCode.INVALID_INPUT
    assert "IAM tokens are good only for the primary instance" in capsys.readouterr().err
