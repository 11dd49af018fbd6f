"""The local PostgreSQL, as `hp up` runs it (the API's tests run the same component): TLS
only, and nothing a patient typed in its log."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.conftest import Backends


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_connection_without_tls_is_refused(backends: Backends) -> None:
    plain = libpq(backends.database_url).replace("sslmode=require", "sslmode=disable")
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain, connect_timeout=5)
    with psycopg.connect(libpq(backends.database_url), connect_timeout=5) as secure:
        assert secure.execute("SHOW ssl").fetchone() == ("on",)


def test_a_unique_violation_leaves_no_email_in_the_log(backends: Backends) -> None:
    email = f"patient-{uuid.uuid4().hex[:10]}@example.com"
    insert = "INSERT INTO unique_emails (email) VALUES (%s)"
    with psycopg.connect(libpq(backends.owner_url), autocommit=True) as connection:
        connection.execute("CREATE TEMPORARY TABLE unique_emails (email text UNIQUE)")
        connection.execute(insert, (email,))
        with pytest.raises(psycopg.errors.UniqueViolation):
            connection.execute(insert, (email,))
    log = backends.postgres.log_file.read_text()
    assert "duplicate key value violates unique constraint" in log  # logged, but not who
    assert email not in log
