"""The local PostgreSQL, as `hp up` runs it (the API's tests run the same component): TLS
only, the server proven by its certificate, and nothing a patient typed in its log."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from health_platform.local.tls import ensure_certificate
from tests.conftest import Backends


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_connection_without_tls_is_refused(backends: Backends) -> None:
    plain = re.sub(r"sslmode=[a-z-]+", "sslmode=disable", libpq(backends.database_url))
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain, connect_timeout=5)
    with psycopg.connect(libpq(backends.database_url), connect_timeout=5) as secure:
        assert secure.execute("SHOW ssl").fetchone() == ("on",)


def test_the_client_proves_the_server_by_its_authority(backends: Backends, tmp_path: Path) -> None:
    """As the API does on AWS with RDS's bundle (verify-full): the local certificate is the
    authority here, and a server another authority vouches for is refused."""
    url = libpq(backends.database_url)
    assert "sslmode=verify-full" in url
    stranger = ensure_certificate(tmp_path)[0]
    foreign = re.sub(r"sslrootcert=[^&]+", f"sslrootcert={quote(str(stranger))}", url)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(foreign, connect_timeout=5)


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
