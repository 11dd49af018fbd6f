"""Audit records that stand on their own, such as a read's (nothing to commit them with),
written many at a time.

Each request waits until its record is stored, so nothing is disclosed without a record;
records that arrive while a write is in flight go together in the next one (group commit):
under load one INSERT, one commit, one round trip for many requests; idle, a record is
written at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy import UUID

from health_platform.api.db import Database, insert_statement
from health_platform.api.models import AuditRecord
from health_platform.api.request_context import request_id

_TABLE = AuditRecord.metadata.tables[AuditRecord.__tablename__]
# What a caller supplies; `id` and `at` are the database's.
COLUMNS = tuple(c.name for c in _TABLE.columns if c.name not in ("id", "at"))

INSERT_ONE = insert_statement(_TABLE.name, COLUMNS)


def _array_type(name: str) -> str:
    # Text, not VARCHAR(n): a cast to VARCHAR(n) would silently cut what the column's own
    # length check refuses. JSON travels as text too, cast once it is a column.
    return "UUID[]" if isinstance(_TABLE.c[name].type, UUID) else "TEXT[]"


# Built from the model's column names at import: no input in it.
INSERT_MANY = (
    f"INSERT INTO {_TABLE.name} ({', '.join(COLUMNS)})"  # noqa: S608
    f" SELECT {', '.join(n + '::jsonb' if n == 'detail' else n for n in COLUMNS)}"
    f" FROM unnest({', '.join(f'%s::{_array_type(n)}' for n in COLUMNS)})"
    f" AS batch({', '.join(COLUMNS)})"
)


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


class AuditTrail:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, values: dict[str, Any]) -> None:
        """Store one record (`values` by COLUMNS; `detail` a dict or None); returns once it
        is committed, raises psycopg's error if it could not be."""
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((values, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        await stored

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self._database.connection() as connection:
                    rows = [values for values, _ in batch]
                    await connection.execute(INSERT_MANY, _as_arrays(rows))
            except Exception as failed:
                for _, stored in batch:
                    if not stored.done():  # its request may have been cancelled
                        stored.set_exception(failed)
                continue
            for _, stored in batch:
                if not stored.done():
                    stored.set_result(None)

    async def close(self) -> None:
        """Let the records in flight finish."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)


def _as_arrays(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """One array per column, as unnest takes them."""
    arrays: list[list[Any]] = [[] for _ in COLUMNS]
    for row in rows:
        for array, name in zip(arrays, COLUMNS, strict=True):
            value = row[name]
            array.append(json.dumps(value) if name == "detail" and value is not None else value)
    return arrays
