"""Audit records that stand on their own, such as a read's (nothing to commit them with),
written many at a time (group_commit.py): each request waits until its record is stored,
so nothing is disclosed without a record; under load one INSERT, one commit, one round
trip for many requests; idle, a record is written at once. A failure is reported to every
request whose record was in the batch."""

from __future__ import annotations

import uuid
from typing import Any

from health_platform.api.db import Database, insert_statement
from health_platform.api.group_commit import Connection, GroupCommit, as_arrays, insert_many
from health_platform.api.models import AuditRecord
from health_platform.api.request_context import request_id

TABLE = AuditRecord.metadata.tables[AuditRecord.__tablename__]
# What a caller supplies; `id` and `at` are the database's.
COLUMNS = tuple(c.name for c in TABLE.columns if c.name not in ("id", "at"))

INSERT_ONE = insert_statement(TABLE.name, COLUMNS)
INSERT_MANY = insert_many(TABLE, COLUMNS)


def record_values(
    actor_id: uuid.UUID | str | None,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None,
    outcome: str,
    client_address: str | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    """A record's values by COLUMNS, in the current request (its id)."""
    return {
        "actor_id": _as_uuid(actor_id) if actor_id else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": str(resource_id) if resource_id else None,
        "outcome": outcome,
        "client_address": client_address,
        "request_id": request_id.get(),
        "detail": detail,
    }


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


async def insert_records(connection: Connection, rows: list[dict[str, Any]]) -> None:
    await connection.execute(INSERT_MANY, as_arrays(TABLE, COLUMNS, rows))


class AuditTrail:
    def __init__(self, database: Database) -> None:
        self._records: GroupCommit[dict[str, Any]] = GroupCommit(database, insert_records)

    async def write(self, values: dict[str, Any]) -> None:
        """Store one record (`values` by COLUMNS; `detail` a dict or None); returns once it
        is committed, raises psycopg's error if it could not be."""
        await self._records.write(values)

    async def close(self) -> None:
        """Let the records in flight finish."""
        await self._records.close()
