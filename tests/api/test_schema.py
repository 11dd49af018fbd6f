"""Migrations, the audit table's guarantees and the commit's timing, on the real database."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from health_platform.api.migrate import head_revision, migrate
from health_platform.api.models import User
from health_platform.contract import ApiSettings
from tests.api.conftest import PASSWORD, Direct, serve
from tests.conftest import Backends


def test_migrations_run_on_an_empty_database_and_again(backends: Backends) -> None:
    backends.postgres.sql("DROP DATABASE IF EXISTS migrate_check")
    backends.postgres.sql("CREATE DATABASE migrate_check")
    url = backends.postgres.url("migrate_check")
    migrate(url)
    migrate(url)  # idempotent
    engine = create_engine(url)
    with engine.connect() as connection:
        tables = set(
            connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        columns = set(
            connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
                )
            ).scalars()
        )
        indexes = set(
            connection.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_records'")
            ).scalars()
        )
    engine.dispose()
    assert {
        "users",
        "observations",
        "documents",
        "audit_records",
        "admin_invitations",
        "alembic_version",
    } <= tables
    assert version == head_revision() is not None
    # What the later migrations add, there.
    assert {"email_verified_at", "recovery_codes"} <= columns
    assert "ix_audit_sign_ins" in indexes


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET outcome = 'forged'",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
    ],
)
def test_the_audit_table_is_append_only(backends: Backends, statement: str) -> None:
    # Even for its owner: the trigger refuses, whoever asks.
    engine = create_engine(backends.owner_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_records (action, resource_type, outcome)"
                " VALUES ('test', 'x', 'success')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET outcome = 'forged'",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
        "ALTER TABLE audit_records DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_records_no_update_delete ON audit_records",
        "ALTER TABLE users ADD COLUMN backdoor text",
        "CREATE TABLE stash (id int)",
        "SELECT * FROM alembic_version",
        # Only the owner's one-off task invites an administrator (api/create_admin.py).
        "INSERT INTO admin_invitations (user_id, token_sha256, expires_at)"
        " VALUES (gen_random_uuid(), repeat('a', 64), now())",
        "DELETE FROM admin_invitations",
    ],
)
def test_the_runtime_role_cannot_touch_the_audit_trail_or_the_schema(
    backends: Backends, statement: str
) -> None:
    engine = create_engine(backends.database_url)  # as the API connects
    refused = r"permission denied|must be owner"
    with pytest.raises(DBAPIError, match=refused), engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def test_the_runtime_role_owns_nothing_and_only_appends_to_the_audit_trail(
    backends: Backends,
) -> None:
    engine = create_engine(backends.database_url)
    with engine.begin() as connection:
        owned = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE tableowner = current_user")
        ).all()
        audit_rights = {
            privilege
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            if connection.execute(
                text("SELECT has_table_privilege('audit_records', :p)"), {"p": privilege}
            ).scalar()
        }
        superuser = connection.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    engine.dispose()
    assert owned == []
    assert audit_rights == {"SELECT", "INSERT"}
    assert superuser is False


def test_a_write_is_committed_before_its_response_is_sent(
    settings: ApiSettings, direct: Direct
) -> None:
    # Over real HTTP: the response leaves before FastAPI's request-scoped cleanup runs, so
    # a commit there would let the client see 201 for a write not (yet) in the database.
    with serve(settings) as base_url, httpx.Client(base_url=base_url) as client:
        for _ in range(10):
            email = f"{uuid.uuid4().hex[:12]}@example.com"
            created = client.post(
                "/api/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": "C"},
            )
            assert created.status_code == 201
            with direct.session() as session:
                assert session.scalar(select(User).where(User.email == email)) is not None
