"""Rows that many requests write, stored together (group commit): each request waits until
its row is committed, and rows that arrive while a write is in flight go together in the
next one: under load one statement, one commit, one round trip for many requests; idle, a
row is written at once.

Each write that wakes a waiting PostgreSQL backend costs the sender a syscall's worth of
CPU (py-spy: psycopg's _send_query_prepared, 17% of a create's CPU at saturation, issue
18), and each commit a WAL flush; a batch pays them once.

A batch is one statement, so it commits whole or not at all. A batch that fails for an
error of `apart_on` (a row PostgreSQL cannot store, say) is written again in halves, and
those halves that fail again in halves, so only the request whose row it is fails, for a
few statements more (about twice log2 of the batch's size for one bad row, not one a
row); any other error fails every request in it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import psycopg
from sqlalchemy import UUID, DateTime, Numeric, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from health_platform.api.db import Database

Row = TypeVar("Row")
Connection = psycopg.AsyncConnection[Any]


class GroupCommit(Generic[Row]):
    def __init__(
        self,
        database: Database,
        write: Callable[[Connection, list[Row]], Awaitable[object]],
        *,
        apart_on: tuple[type[Exception], ...] = (),
        skip_cancelled: bool = False,
    ) -> None:
        """`write` stores rows in one statement on the connection it is given.
        `skip_cancelled`: a row whose request was cancelled before its batch went is not
        written (a change nobody will be told of); otherwise it is (a read's audit record)."""
        self._database = database
        self._write = write
        self._apart_on = apart_on
        self._skip_cancelled = skip_cancelled
        self._waiting: list[tuple[Row, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, row: Row) -> None:
        """Store `row`; returns once it is committed, raises psycopg's error if it could not
        be."""
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((row, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        await stored

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            if self._skip_cancelled:
                batch = [(row, stored) for row, stored in batch if not stored.cancelled()]
            try:
                await self._write_batch(batch)
            except BaseException as broken:  # cancelled, or a bug here: no request left waiting
                _settle(batch, broken)
                raise

    async def _write_batch(self, batch: list[tuple[Row, asyncio.Future[None]]]) -> None:
        if not batch:
            return
        try:
            await self._store([row for row, _ in batch])
        except self._apart_on as failed:
            if len(batch) == 1:
                _settle(batch, failed)
                return
            middle = len(batch) // 2  # in halves: only the bad row's request fails
            await self._write_batch(batch[:middle])
            await self._write_batch(batch[middle:])
            return
        except Exception as failed:
            _settle(batch, failed)
            return
        _settle(batch, None)

    async def _store(self, rows: list[Row]) -> None:
        async with self._database.connection() as connection:
            await self._write(connection, rows)

    async def close(self) -> None:
        """Let the rows in flight finish."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)


def _settle(batch: list[tuple[Any, asyncio.Future[None]]], failed: BaseException | None) -> None:
    for _, stored in batch:
        if stored.done():  # settled already, or its request was cancelled
            continue
        if failed is None:
            stored.set_result(None)
        elif isinstance(failed, Exception):
            stored.set_exception(failed)
        else:
            stored.cancel()


def insert_many(table: Table, columns: Sequence[str]) -> str:
    """`INSERT INTO table (a, b) SELECT a, b FROM unnest(%s::T[], %s::U[]) ...`: rows given as
    one array per column (`as_arrays`), from names in code. Text, not VARCHAR(n): a cast to
    VARCHAR(n) would silently cut what the column's own length check refuses. JSON travels
    as text too, cast once it is a column."""
    names = list(columns)
    selected = ", ".join(f"{n}::jsonb" if _is_json(table, n) else n for n in names)
    arrays = ", ".join(f"%s::{_array_type(table, n)}" for n in names)
    return (
        f"INSERT INTO {table.name} ({', '.join(names)})"  # noqa: S608 - names from code
        f" SELECT {selected} FROM unnest({arrays}) AS batch({', '.join(names)})"
    )


def _is_json(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, JSONB)


# The array each column's values travel in, by the column's type; without a length or a
# scale: the column's own checks apply when the row is stored.
_ARRAY_TYPES: tuple[tuple[type[Any], str], ...] = (
    (JSONB, "TEXT[]"),
    (UUID, "UUID[]"),
    (Numeric, "NUMERIC[]"),
    (DateTime, "TIMESTAMPTZ[]"),
    (String, "TEXT[]"),
)


def _array_type(table: Table, name: str) -> str:
    column_type = table.c[name].type
    if isinstance(column_type, DateTime) and not column_type.timezone:
        return "TIMESTAMP[]"
    for kind, array in _ARRAY_TYPES:
        if isinstance(column_type, kind):
            return array
    raise TypeError(f"no array type for {table.name}.{name} ({column_type})")


def as_arrays(table: Table, columns: Sequence[str], rows: list[dict[str, Any]]) -> list[list[Any]]:
    """One array per column, as `insert_many` takes them (JSON values as text)."""
    json_columns = {n for n in columns if _is_json(table, n)}
    arrays: list[list[Any]] = [[] for _ in columns]
    for row in rows:
        for array, name in zip(arrays, columns, strict=True):
            value = row[name]
            if name in json_columns and value is not None:
                value = json.dumps(value)
            array.append(value)
    return arrays
