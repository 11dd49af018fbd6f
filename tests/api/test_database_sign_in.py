"""IAM database authentication's shape: each new connection, through SQLAlchemy or the
plain pool, asks for a fresh password (a token lives 15 minutes), and the token is made
locally from the task role's credentials for the runtime role."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from health_platform.api.db import Database
from health_platform.api.iam_auth import password_source
from health_platform.contract import RUNTIME_ROLE, database_settings_from_environment
from tests.conftest import Backends


def test_every_new_connection_asks_for_its_password(backends: Backends) -> None:
    asked: list[int] = []

    def password() -> str:
        asked.append(1)
        return backends.runtime_password

    async def use_both_ways() -> None:
        database = Database(backends.database_url, password=password)
        try:
            async with database.session() as session:
                assert (await session.execute(text("SELECT current_user"))).scalar() == RUNTIME_ROLE
            async with database.connection() as connection:
                await connection.execute("SELECT 1")
        finally:
            await database.close()

    asyncio.run(use_both_ways())
    assert len(asked) >= 2  # one for the engine, the pool's own connections too


def test_an_iam_token_is_signed_for_the_runtime_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = database_settings_from_environment(
        {
            "DATABASE_HOST": "db.example.internal",
            "DATABASE_USERNAME": RUNTIME_ROLE,
            "DATABASE_AUTH": "iam",
            "AWS_REGION": "eu-west-1",
        }
    )
    token = password_source(settings)
    assert token is not None
    signed = urlparse("https://" + token())
    query = parse_qs(signed.query)
    assert signed.hostname == "db.example.internal" and signed.port == 5432
    assert query["Action"] == ["connect"] and query["DBUser"] == [RUNTIME_ROLE]
    assert "eu-west-1/rds-db/aws4_request" in query["X-Amz-Credential"][0]
    assert query["X-Amz-Expires"] == ["900"]
    # A password sign-in has none: the URL carries it.
    assert password_source(database_settings_from_environment({"DATABASE_URL": "x"})) is None
