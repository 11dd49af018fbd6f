"""New measurements written many at a time with their audit records (group commit), against
real PostgreSQL: concurrent creates share statements, and a batch PostgreSQL refuses for
one row is written again a row at a time, so only that row's request fails."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import select

from health_platform.api.audit import Audit, Recorded, recorded_many
from health_platform.api.audit_trail import AuditTrail
from health_platform.api.data.observations import CREATED_COLUMNS, observation_writes
from health_platform.api.db import Database
from health_platform.api.group_commit import Connection, GroupCommit
from health_platform.api.models import AuditRecord, Observation
from tests.api.conftest import User
from tests.conftest import Backends, Direct


def reading(user_id: uuid.UUID, value: str, note: str | None = None) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "id": uuid.uuid4(),
        "type": "heart_rate",
        "value": Decimal(value),
        "components": None,
        "unit": "/min",
        "effective_at": datetime(2026, 11, 25, 8, 30, tzinfo=UTC),
        "note": note,
    }


def create_all(
    backends: Backends,
    user_id: uuid.UUID,
    rows: list[dict[str, Any]],
    writer: Callable[[Database], GroupCommit[Recorded]] = observation_writes,
) -> list[Any]:
    """Create `rows` at once through `writer`, as concurrent requests would; each one's
    outcome."""

    async def scenario() -> list[Any]:
        database = Database(backends.database_url)
        trail = AuditTrail(database)
        written = writer(database)
        audit = Audit(trail, user_id, "127.0.0.1")
        try:
            return await asyncio.gather(
                *(
                    audit.with_change(written, row, "observation.create", "observation", row["id"])
                    for row in rows
                ),
                return_exceptions=True,
            )
        finally:
            await written.close()
            await trail.close()
            await database.close()

    return asyncio.run(scenario())


def stored(direct: Direct, user_id: uuid.UUID) -> tuple[set[uuid.UUID], set[str | None]]:
    with direct.session() as session:
        rows = session.scalars(select(Observation.id).where(Observation.user_id == user_id))
        return set(rows), _records(direct, user_id)


def _records(direct: Direct, user_id: uuid.UUID) -> set[str | None]:
    with direct.session() as session:
        records = session.scalars(
            select(AuditRecord.resource_id).where(
                AuditRecord.actor_id == user_id, AuditRecord.action == "observation.create"
            )
        )
        return set(records)


def transactions(direct: Direct, user_id: uuid.UUID) -> int:
    """How many transactions stored the user's measurements (now() is a transaction's)."""
    with direct.session() as session:
        times = session.scalars(
            select(Observation.created_at).where(Observation.user_id == user_id)
        )
        return len(set(times))


def test_concurrent_creates_are_stored_with_their_records(
    backends: Backends, direct: Direct, patient: User
) -> None:
    user_id = uuid.UUID(patient.id)
    rows = [reading(user_id, str(60 + n)) for n in range(40)]
    assert create_all(backends, user_id, rows) == [None] * 40
    ids, records = stored(direct, user_id)
    assert ids == {row["id"] for row in rows}
    assert records == {str(row["id"]) for row in rows}
    assert transactions(direct, user_id) < len(rows) / 4  # written together


def test_a_row_postgresql_refuses_fails_only_its_own_request(
    backends: Backends, direct: Direct, patient: User
) -> None:
    user_id = uuid.UUID(patient.id)
    # NUMERIC(10, 3) holds less than 10^7: PostgreSQL refuses the batch this row is in.
    rows = [reading(user_id, "61"), reading(user_id, "99999999"), reading(user_id, "63")]
    outcomes = create_all(backends, user_id, rows)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], psycopg.errors.NumericValueOutOfRange)
    ids, records = stored(direct, user_id)
    assert ids == {rows[0]["id"], rows[2]["id"]}
    assert records == {str(rows[0]["id"]), str(rows[2]["id"])}


def test_a_bad_row_costs_a_few_statements_not_one_a_row(
    backends: Backends, direct: Direct, patient: User
) -> None:
    user_id = uuid.UUID(patient.id)
    rows = [reading(user_id, str(60 + n)) for n in range(16)]
    rows[11] = reading(user_id, "99999999")  # refused by PostgreSQL
    statements: list[int] = []
    write = recorded_many(Observation.metadata.tables["observations"], CREATED_COLUMNS)

    async def counted(connection: Connection, batch: list[Recorded]) -> None:
        statements.append(len(batch))
        await write(connection, batch)

    def writer(database: Database) -> GroupCommit[Recorded]:
        return GroupCommit(database, counted, apart_on=(psycopg.DataError,))

    outcomes = create_all(backends, user_id, rows, writer)
    assert [type(o).__name__ for o in outcomes].count("NumericValueOutOfRange") == 1
    assert outcomes.count(None) == 15
    # All 16, then halves down to the bad row (rows 8-15, 8-11, 10-11, 11), each good half
    # at once: 9 statements (one a row would be 17).
    assert statements == [16, 8, 8, 4, 2, 2, 1, 1, 4]
    assert stored(direct, user_id)[0] == {row["id"] for n, row in enumerate(rows) if n != 11}


def test_a_create_cancelled_before_its_batch_went_is_not_written(
    backends: Backends, direct: Direct, patient: User
) -> None:
    user_id = uuid.UUID(patient.id)
    kept, cancelled = reading(user_id, "61"), reading(user_id, "62")

    async def scenario() -> None:
        database = Database(backends.database_url)
        writes: GroupCommit[Recorded] = observation_writes(database)
        audit = Audit(AuditTrail(database), user_id, "127.0.0.1")
        try:
            first = asyncio.create_task(
                audit.with_change(writes, kept, "observation.create", "observation", kept["id"])
            )
            await asyncio.sleep(0)  # the first batch is on its way
            second = asyncio.create_task(
                audit.with_change(
                    writes, cancelled, "observation.create", "observation", cancelled["id"]
                )
            )
            await asyncio.sleep(0)  # queued behind it
            second.cancel()
            await first
        finally:
            await writes.close()
            await database.close()

    asyncio.run(scenario())
    assert stored(direct, user_id)[0] == {kept["id"]}
