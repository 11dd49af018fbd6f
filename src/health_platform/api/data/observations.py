"""A patient's measurements: their queries, and their reads cached in Redis per patient.

Reads are cached as the response bodies the routes render (JSON, as sent): a cached read
costs one Redis round trip and no JSON encoding. Every write invalidates the patient's
entries once it is committed. Creating is the API's busiest write: no ORM object, and one
statement for the new rows of many requests with their audit records
(`observation_writes`)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api.audit import Audit, Recorded, recorded_many
from health_platform.api.data.pages import ListQuery, Page, read_page, set_filters
from health_platform.api.db import Database
from health_platform.api.group_commit import GroupCommit
from health_platform.api.models import Observation
from health_platform.api.ownership import owned
from health_platform.api.redis_batch import RedisBatch

CACHE_SECONDS = 300
STORED_PRECISION = Decimal("0.001")  # the column is NUMERIC(10, 3)
RESOURCE = "observation"

TABLE = Observation.__tablename__
COLUMNS = ("id", "type", "value", "components", "unit", "effective_at", "note")
LIST = ListQuery(TABLE, COLUMNS, "effective_at DESC, id")
# The newest of each type, read through the (user_id, type, effective_at) index.
LATEST = (
    f"SELECT DISTINCT ON (type) {', '.join(COLUMNS)}"  # noqa: S608
    f" FROM {TABLE} WHERE user_id = %(user_id)s"
    " ORDER BY type, effective_at DESC, id"
)
CREATED_COLUMNS = ("user_id", *COLUMNS)


def observation_writes(database: Database) -> GroupCommit[Recorded]:
    """The process's writer of new measurements, with their audit records (group commit).
    A batch PostgreSQL refuses for one row's value (a DataError) or its owner gone (an
    IntegrityError) is written again in halves: only that row's request fails. A create
    cancelled before its batch went is not written."""
    return GroupCommit(
        database,
        recorded_many(Observation.metadata.tables[TABLE], CREATED_COLUMNS),
        apart_on=(psycopg.DataError, psycopg.IntegrityError),
        skip_cancelled=True,
    )


def stored(value: float) -> Decimal:
    """A value as the column keeps it."""
    return Decimal(str(value)).quantize(STORED_PRECISION)


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> tuple[str, ...]:
        """The page's WHERE, from which filters are set (their values are parameters)."""
        return (
            "user_id = %(user_id)s",
            *set_filters(
                {
                    "type = %(type)s": self.type,
                    "effective_at >= %(since)s": self.since,
                    "effective_at <= %(until)s": self.until,
                }
            ),
        )


@dataclass
class Cached:
    key: str
    version: int
    count: int = 0
    body: bytes | None = None  # None: a miss


class Cache:
    """Per-patient response bodies, each stored with the patient's cache version at the time
    it was computed; a write bumps the version, so every older entry stops matching at once
    (they expire on their own). The version and the entry come back in one round trip,
    shared with concurrent requests (redis_batch.py). A read that raced a write stores its
    entry under the old version, so it is never served."""

    def __init__(self, batch: RedisBatch, user_id: uuid.UUID) -> None:
        self.batch = batch
        self.version_key = f"obs_version:{user_id}"
        self.user_id = user_id

    async def lookup(self, *parts: str) -> Cached:
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
        key = f"obs:{self.user_id}:{digest}"

        def queue(pipe: Any) -> None:
            pipe.get(self.version_key)
            pipe.get(key)

        version_raw, entry = await self.batch.run(queue)
        version = int(version_raw or 0)
        if entry is not None:
            # "<version> <item count>\n<body>": the count lets the audit record say how
            # many were disclosed without parsing the body.
            head, _, body = entry.partition(b"\n")
            stored_version, count = (int(n) for n in head.split())
            if stored_version == version:
                return Cached(key, version, count, body)
        return Cached(key, version)

    async def put(self, miss: Cached, count: int, body: bytes) -> None:
        entry = b"%d %d\n%s" % (miss.version, count, body)
        await self.batch.run(lambda pipe: pipe.set(miss.key, entry, ex=CACHE_SECONDS))

    async def invalidate(self) -> None:
        await self.batch.run(lambda pipe: pipe.incr(self.version_key))


@dataclass(frozen=True)
class Rendered:
    """A body as sent, and how many measurements it discloses (for the audit record)."""

    body: bytes
    count: int


class Observations:
    """One patient's measurements, as `audit`'s actor."""

    def __init__(
        self,
        database: Database,
        batch: RedisBatch,
        writes: GroupCommit[Recorded],
        audit: Audit,
    ) -> None:
        assert isinstance(audit.actor_id, uuid.UUID)
        self.database = database
        self.writes = writes
        self.audit = audit
        self.user_id = audit.actor_id
        self.cache = Cache(batch, self.user_id)

    async def latest(self) -> list[Any]:
        """The newest measurement of each type (named tuples of COLUMNS)."""
        async with self.database.connection() as connection:
            cursor = connection.cursor(row_factory=namedtuple_row)
            return await (await cursor.execute(LATEST, {"user_id": self.user_id})).fetchall()

    async def create(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Store a new measurement with its audit record; the row as stored."""
        row = {**fields, "id": uuid.uuid4(), "value": stored(fields["value"])}
        change = {**row, "user_id": self.user_id}
        await self.audit.with_change(self.writes, change, f"{RESOURCE}.create", RESOURCE, row["id"])
        # Committed; now invalidate: a read in between must not cache the old state.
        await self.cache.invalidate()
        return row

    async def page(
        self, filters: Filters, limit: int, offset: int, render: Callable[[Page], bytes]
    ) -> Rendered:
        """A page of measurements, newest first, as `render` makes it (cached)."""
        key = ("list", *(str(v) for v in (filters.type, filters.since, filters.until)))
        cached = await self.cache.lookup(*key, str(limit), str(offset))
        if cached.body is not None:
            return Rendered(cached.body, cached.count)
        params = {**vars(filters), "user_id": self.user_id}
        async with self.database.connection() as connection:  # only on a miss
            page = await read_page(
                connection, LIST, filters.conditions(), params, limit=limit, offset=offset
            )
        body = render(page)
        await self.cache.put(cached, len(page.rows), body)
        return Rendered(body, len(page.rows))

    async def item(
        self,
        session: AsyncSession,
        observation_id: uuid.UUID,
        render: Callable[[Observation], bytes],
    ) -> bytes:
        """One of the patient's measurements, as `render` makes it (cached); anyone else's
        is not found, and the attempt recorded."""
        cached = await self.cache.lookup("item", str(observation_id))
        if cached.body is not None:
            return cached.body
        body = render(await self.owned(session, observation_id, f"{RESOURCE}.read"))
        await self.cache.put(cached, 1, body)
        return body

    async def owned(
        self, session: AsyncSession, observation_id: uuid.UUID, action: str
    ) -> Observation:
        return await owned(
            session, self.audit, Observation, observation_id, action=action, resource=RESOURCE
        )

    async def update(
        self, session: AsyncSession, row: Observation, changes: Mapping[str, Any]
    ) -> None:
        """Apply `changes` (value, unit, effective_at, note) to the patient's `row`."""
        for name, value in changes.items():
            setattr(row, name, stored(value) if name == "value" else value)
        await session.flush()
        detail = {"fields": sorted(changes)}
        await self.audit.change(session, f"{RESOURCE}.update", RESOURCE, row.id, detail=detail)
        await self._commit_then_invalidate(session)

    async def delete(self, session: AsyncSession, row: Observation) -> None:
        await session.delete(row)
        await self.audit.change(session, f"{RESOURCE}.delete", RESOURCE, row.id)
        await self._commit_then_invalidate(session)

    async def _commit_then_invalidate(self, session: AsyncSession) -> None:
        # In this order: a read in between must not cache the old state.
        await session.commit()
        await self.cache.invalidate()
