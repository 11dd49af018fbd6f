"""The audit trail for reads: every record stored before `write` returns, records that
arrive together stored together, a failure reported to every waiter."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from health_platform.api.audit_trail import AuditTrail
from health_platform.api.db import Database
from health_platform.api.models import AuditRecord
from tests.conftest import Backends, Direct


def record(action: str, n: int) -> dict[str, Any]:
    return {
        "actor_id": uuid.uuid4(),
        "action": action,
        "resource_type": "observation",
        "resource_id": str(n),
        "outcome": "success",
        "client_address": "127.0.0.1",
        "request_id": f"trail-{n:04d}",
        "detail": {"count": n} if n % 2 else None,
    }


def stored(direct: Direct, action: str) -> list[AuditRecord]:
    with direct.session() as session:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.action == action)).all()
        session.expunge_all()
        return list(rows)


def test_concurrent_records_are_all_stored_and_share_writes(
    backends: Backends, direct: Direct
) -> None:
    action = f"test.trail.{uuid.uuid4().hex[:8]}"
    sent = [record(action, n) for n in range(60)]

    async def write_all() -> None:
        database = Database(backends.database_url)
        trail = AuditTrail(database)
        try:
            await asyncio.gather(*(trail.write(values) for values in sent))
        finally:
            await trail.close()
            await database.close()

    asyncio.run(write_all())
    rows = {row.request_id: row for row in stored(direct, action)}
    assert len(rows) == len(sent)
    for values in sent:
        row = rows[values["request_id"]]
        assert (row.actor_id, row.resource_id, row.detail) == (
            values["actor_id"],
            values["resource_id"],
            values["detail"],
        )
    # One transaction per write, and now() is its start: the 60 came in a few writes.
    assert len({row.at for row in rows.values()}) < len(sent) / 4


def test_a_failed_write_fails_each_of_its_waiters_and_the_next_write_goes_on(
    backends: Backends, direct: Direct
) -> None:
    action = f"test.trail.{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        database = Database(backends.database_url)
        trail = AuditTrail(database)
        try:
            await trail.write(record(action, 1))
            too_long = {**record(action, 2), "action": "x" * 61}  # the column holds 60
            results = await asyncio.gather(
                trail.write(too_long), trail.write(record(action, 3)), return_exceptions=True
            )
            assert all(isinstance(r, psycopg.Error) for r in results), results
            await trail.write(record(action, 4))
        finally:
            await trail.close()
            await database.close()

    asyncio.run(scenario())
    assert sorted(row.request_id for row in stored(direct, action)) == [
        "trail-0001",
        "trail-0004",
    ]


def test_an_unreachable_database_is_an_operational_error(backends: Backends) -> None:
    unreachable = backends.database_url.replace(
        f":{backends.postgres.port}/", f":{backends.postgres.port + 1}/"
    )

    async def scenario() -> None:
        database = Database(unreachable)
        trail = AuditTrail(database)
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            await trail.write(record("test.trail.unreachable", 1))
        assert time.monotonic() - started < 10  # the pool's wait, not a hang
        await trail.close()
        await database.close()

    asyncio.run(scenario())
