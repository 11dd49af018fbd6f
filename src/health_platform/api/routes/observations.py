"""A patient's measurements: create, list (paginated, by type and time), read, update,
delete. Reads are cached in Redis per user and invalidated by every write; every access,
cached or not, leaves an audit record."""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Query, Response
from psycopg.rows import class_row, namedtuple_row
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from health_platform.api import audit, examples, vocabulary
from health_platform.api.db import insert_statement
from health_platform.api.deps import DbSession, PatientCaller, ServicesDep
from health_platform.api.errors import ApiError
from health_platform.api.models import Observation
from health_platform.api.ownership import owned

router = APIRouter(prefix="/api/observations", tags=["observations"])
CACHE_SECONDS = 300
STORED_PRECISION = Decimal("0.001")  # the column is NUMERIC(10, 3)


class ObservationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "heart_rate",
                    "value": 62,
                    "unit": "/min",
                    "effective_at": "2026-11-25T08:30:00Z",
                    "note": "resting",
                }
            ]
        },
    )

    type: str
    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: str
    effective_at: AwareDatetime
    note: Annotated[str | None, Field(max_length=500)] = None


class ObservationPatch(BaseModel):
    model_config = examples.example({"value": 64, "note": "after stairs"}, forbid_extra=True)

    value: Annotated[float | None, Field(allow_inf_nan=False)] = None
    unit: str | None = None
    effective_at: AwareDatetime | None = None
    note: Annotated[str | None, Field(max_length=500)] = None


class ObservationOut(BaseModel):
    model_config = examples.example(examples.OBSERVATION)

    id: str
    type: str
    loinc: str
    value: float
    unit: str
    effective_at: datetime
    note: str | None

    @classmethod
    def of(cls, row: Any) -> ObservationOut:
        """From an Observation, or a row with its PAGE_COLUMNS."""
        # model_construct: the values come from our own database, already valid; checking
        # them again was a third of an uncached list's time.
        return cls.model_construct(
            id=str(row.id),
            type=row.type,
            loinc=vocabulary.TYPES[row.type].loinc,
            value=float(row.value),
            unit=row.unit,
            effective_at=row.effective_at,
            note=row.note,
        )


class PageRow(NamedTuple):
    """A row of the list query: an observation's columns, and the total matching."""

    id: uuid.UUID
    type: str
    value: Decimal
    unit: str
    effective_at: datetime
    note: str | None
    total: int


PAGE_COLUMNS = PageRow._fields[:-1]


class ObservationPage(BaseModel):
    model_config = examples.example(
        {"items": [examples.OBSERVATION], "total": 1, "limit": 50, "offset": 0}
    )

    items: list[ObservationOut]
    total: int
    limit: int
    offset: int


def _check(type_code: str, value: float, unit: str) -> None:
    found = vocabulary.problems(type_code, value, unit)
    if found:
        raise ApiError(
            422, "invalid_observation", found[0]["problem"].capitalize() + ".", details=found
        )


@dataclass
class Cached:
    key: str
    version: int
    count: int = 0
    body: bytes | None = None  # None: a miss


class Cache:
    """Per-user response bodies (JSON, as sent), each stored with the user's cache version
    at the time it was computed; a write bumps the version, so every older entry stops
    matching at once (they expire on their own). The version and the entry come back in
    one round trip. A read that raced a write stores its entry under the old version, so
    it is never served."""

    def __init__(self, deps: ServicesDep, user_id: uuid.UUID) -> None:
        self.redis = deps.redis
        self.version_key = f"obs_version:{user_id}"
        self.user_id = user_id

    async def lookup(self, *parts: str) -> Cached:
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
        key = f"obs:{self.user_id}:{digest}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.version_key)
        pipe.get(key)
        version_raw, entry = await pipe.execute()
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
        await self.redis.set(miss.key, entry, ex=CACHE_SECONDS)

    async def invalidate(self) -> None:
        await self.redis.incr(self.version_key)


_CREATE = audit.recorded(
    insert_statement(
        Observation.__tablename__,
        ("id", "user_id", "type", "value", "unit", "effective_at", "note"),
    )
)


@functools.cache
def _list_queries(by_type: bool, since: bool, until: bool) -> tuple[str, str]:
    """The page query (with the total alongside each row) and the count query for one
    combination of filters, for psycopg; built from names in code, no input in them."""
    matching = ["user_id = %(user_id)s"]
    if by_type:
        matching.append("type = %(type)s")
    if since:
        matching.append("effective_at >= %(since)s")
    if until:
        matching.append("effective_at <= %(until)s")
    where = " AND ".join(matching)
    table = Observation.__tablename__
    page = (
        f"SELECT {', '.join(PAGE_COLUMNS)}, count(*) OVER () AS total"  # noqa: S608
        f" FROM {table} WHERE {where}"
        " ORDER BY effective_at DESC, id LIMIT %(limit)s OFFSET %(offset)s"
    )
    return page, f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608


def _json(body: bytes, status: int = 200) -> Response:
    return Response(content=body, status_code=status, media_type="application/json")


async def _owned(
    db: DbSession, caller: PatientCaller, observation_id: uuid.UUID, action: str
) -> Observation:
    return await owned(
        db, caller, Observation, observation_id, action=action, resource="observation"
    )


@router.get(
    "/types",
    summary="The observation vocabulary: codes, LOINC, units, ranges",
    responses=examples.json_response([vars(vocabulary.TYPES["heart_rate"])]),
)
async def types() -> list[dict[str, Any]]:
    return [vars(t) for t in vocabulary.TYPES.values()]


# The newest of each type, read through the (user_id, type, effective_at) index.
_LATEST = (
    f"SELECT DISTINCT ON (type) {', '.join(PAGE_COLUMNS)}"  # noqa: S608
    f" FROM {Observation.__tablename__} WHERE user_id = %(user_id)s"
    " ORDER BY type, effective_at DESC, id"
)


@router.get(
    "/latest",
    response_model=list[ObservationOut],
    summary="The newest measurement of each type (the dashboard's summary)",
    responses=examples.json_response([examples.OBSERVATION]),
)
async def latest(caller: PatientCaller, deps: ServicesDep) -> Any:
    async with deps.database.connection() as connection:
        cursor = connection.cursor(row_factory=namedtuple_row)
        rows = await (await cursor.execute(_LATEST, {"user_id": caller.user_id})).fetchall()
    await audit.read(
        deps.audit_trail, caller, "observation.latest", "observation", detail={"count": len(rows)}
    )
    return [ObservationOut.of(r) for r in rows]


@router.post("", status_code=201, response_model=ObservationOut, summary="Record a measurement")
async def create(body: ObservationIn, caller: PatientCaller, deps: ServicesDep) -> Any:
    _check(body.type, body.value, body.unit)
    # A plain INSERT (no ORM object to track), with its audit record in the same
    # statement: creating is the API's busiest write.
    observation_id = uuid.uuid4()
    row = {
        "id": observation_id,
        "user_id": caller.user_id,
        "type": body.type,
        "value": Decimal(str(body.value)).quantize(STORED_PRECISION),
        "unit": body.unit,
        "effective_at": body.effective_at,
        "note": body.note,
    }
    await audit.run_recorded(
        deps.database, _CREATE, row, caller, "observation.create", "observation", observation_id
    )
    # Committed; now invalidate: a read in between must not cache the old state.
    await Cache(deps, caller.user_id).invalidate()
    return _json(ObservationOut.of(SimpleNamespace(**row)).model_dump_json().encode(), 201)


@router.get("", response_model=ObservationPage, summary="List measurements (newest first)")
async def list_observations(
    caller: PatientCaller,
    deps: ServicesDep,
    type: Annotated[str | None, Query(description="One vocabulary code")] = None,
    since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    if type is not None and type not in vocabulary.TYPES:
        raise ApiError(
            422,
            "invalid_request",
            f"Unknown type {type!r}.",
            details=[{"field": "type", "problem": f"use one of {', '.join(vocabulary.TYPES)}"}],
        )
    cache = Cache(deps, caller.user_id)
    cached = await cache.lookup("list", str(type), str(since), str(until), str(limit), str(offset))
    count, page = cached.count, cached.body
    if page is None:
        page_query, count_query = _list_queries(
            type is not None, since is not None, until is not None
        )
        params = {
            "user_id": caller.user_id,
            "type": type,
            "since": since,
            "until": until,
            "limit": limit,
            "offset": offset,
        }
        async with deps.database.connection() as connection:  # only on a miss
            cursor = connection.cursor(row_factory=class_row(PageRow))
            rows = await (await cursor.execute(page_query, params)).fetchall()
            if rows:
                total = rows[0].total
            else:  # past the end the window saw no rows, so the count runs on its own
                counted = await connection.execute(count_query, params)
                total = (await counted.fetchone() or (0,))[0]
        count = len(rows)
        items = [ObservationOut.of(r) for r in rows]
        page = (
            ObservationPage.model_construct(items=items, total=total, limit=limit, offset=offset)
            .model_dump_json()
            .encode()
        )
        await cache.put(cached, count, page)
    await audit.read(
        deps.audit_trail, caller, "observation.list", "observation", detail={"count": count}
    )
    return _json(page)


@router.get("/{observation_id}", response_model=ObservationOut, summary="Read one measurement")
async def read(
    observation_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> Any:
    cache = Cache(deps, caller.user_id)
    cached = await cache.lookup("item", str(observation_id))
    item = cached.body
    if item is None:
        row = await _owned(db, caller, observation_id, "observation.read")
        item = ObservationOut.of(row).model_dump_json().encode()
        await cache.put(cached, 1, item)
    await audit.read(deps.audit_trail, caller, "observation.read", "observation", observation_id)
    return _json(item)


@router.patch("/{observation_id}", response_model=ObservationOut, summary="Correct a measurement")
async def update(
    observation_id: uuid.UUID,
    body: ObservationPatch,
    caller: PatientCaller,
    db: DbSession,
    deps: ServicesDep,
) -> ObservationOut:
    row = await _owned(db, caller, observation_id, "observation.update")
    changes = body.model_dump(exclude_unset=True)
    value = changes.get("value", float(row.value))
    unit = changes.get("unit", row.unit)
    if (
        value is None
        or unit is None
        or ("effective_at" in changes and changes["effective_at"] is None)
    ):
        raise ApiError(422, "invalid_request", "value, unit and effective_at cannot be null.")
    _check(row.type, value, unit)
    row.value, row.unit = Decimal(str(value)).quantize(STORED_PRECISION), unit
    if "effective_at" in changes:
        row.effective_at = changes["effective_at"]
    if "note" in changes:
        row.note = changes["note"]
    await db.flush()
    await audit.by(
        db, caller, "observation.update", "observation", row.id, detail={"fields": sorted(changes)}
    )
    await db.commit()  # then invalidate: a read in between must not cache the old state
    await Cache(deps, caller.user_id).invalidate()
    return ObservationOut.of(row)


@router.delete("/{observation_id}", status_code=204, summary="Delete a measurement")
async def delete(
    observation_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> Response:
    row = await _owned(db, caller, observation_id, "observation.delete")
    await db.delete(row)
    await audit.by(db, caller, "observation.delete", "observation", observation_id)
    await db.commit()  # then invalidate: a read in between must not cache the old state
    await Cache(deps, caller.user_id).invalidate()
    return Response(status_code=204)
