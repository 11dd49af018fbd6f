"""A patient's measurements: create, list (paginated, by type and time), read, update,
delete. Reads are cached in Redis per user and invalidated by every write; every access,
cached or not, leaves an audit record."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from health_platform.api import audit, vocabulary
from health_platform.api.deps import DbSession, PatientCaller, ServicesDep
from health_platform.api.errors import ApiError
from health_platform.api.models import Observation
from health_platform.api.ownership import owned

router = APIRouter(prefix="/api/observations", tags=["observations"])
CACHE_SECONDS = 300


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
    model_config = ConfigDict(extra="forbid")

    value: Annotated[float | None, Field(allow_inf_nan=False)] = None
    unit: str | None = None
    effective_at: AwareDatetime | None = None
    note: Annotated[str | None, Field(max_length=500)] = None


class ObservationOut(BaseModel):
    id: str
    type: str
    loinc: str
    value: float
    unit: str
    effective_at: datetime
    note: str | None

    @classmethod
    def of(cls, row: Observation) -> ObservationOut:
        return cls(
            id=str(row.id),
            type=row.type,
            loinc=vocabulary.TYPES[row.type].loinc,
            value=float(row.value),
            unit=row.unit,
            effective_at=row.effective_at,
            note=row.note,
        )


class ObservationPage(BaseModel):
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


class Cache:
    """Per-user entries under a version number; a write bumps the version, which orphans
    every cached entry of that user at once (they expire on their own)."""

    def __init__(self, deps: ServicesDep, user_id: uuid.UUID) -> None:
        self.redis = deps.redis
        self.version_key = f"obs_version:{user_id}"
        self.user_id = user_id

    def key(self, *parts: str) -> str:
        version = int(self.redis.get(self.version_key) or 0)
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
        return f"obs:{self.user_id}:{version}:{digest}"

    def get(self, key: str) -> Any | None:
        raw = self.redis.get(key)
        return json.loads(raw) if raw is not None else None

    def put(self, key: str, value: Any) -> None:
        self.redis.set(key, json.dumps(value, default=str), ex=CACHE_SECONDS)

    def invalidate(self) -> None:
        self.redis.incr(self.version_key)


def _owned(
    db: DbSession, caller: PatientCaller, observation_id: uuid.UUID, action: str
) -> Observation:
    return owned(db, caller, Observation, observation_id, action=action, resource="observation")


@router.get("/types", summary="The observation vocabulary: codes, LOINC, units, ranges")
def types() -> list[dict[str, Any]]:
    return [vars(t) for t in vocabulary.TYPES.values()]


@router.post("", status_code=201, response_model=ObservationOut, summary="Record a measurement")
def create(
    body: ObservationIn, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> ObservationOut:
    _check(body.type, body.value, body.unit)
    row = Observation(
        user_id=caller.user_id,
        type=body.type,
        value=Decimal(str(body.value)),
        unit=body.unit,
        effective_at=body.effective_at,
        note=body.note,
    )
    db.add(row)
    db.flush()
    audit.by(db, caller, "observation.create", "observation", row.id)
    db.commit()  # then invalidate: a read in between must not cache the old state
    Cache(deps, caller.user_id).invalidate()
    return ObservationOut.of(row)


@router.get("", response_model=ObservationPage, summary="List measurements (newest first)")
def list_observations(
    caller: PatientCaller,
    db: DbSession,
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
    key = cache.key("list", str(type), str(since), str(until), str(limit), str(offset))
    page = cache.get(key)
    if page is None:
        query = select(Observation).where(Observation.user_id == caller.user_id)
        if type:
            query = query.where(Observation.type == type)
        if since:
            query = query.where(Observation.effective_at >= since)
        if until:
            query = query.where(Observation.effective_at <= until)
        total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = db.scalars(
            query.order_by(Observation.effective_at.desc(), Observation.id)
            .limit(limit)
            .offset(offset)
        )
        page = ObservationPage(
            items=[ObservationOut.of(r) for r in rows], total=total, limit=limit, offset=offset
        ).model_dump(mode="json")
        cache.put(key, page)
    audit.by(db, caller, "observation.list", "observation", detail={"count": len(page["items"])})
    return page


@router.get("/{observation_id}", response_model=ObservationOut, summary="Read one measurement")
def read(observation_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep) -> Any:
    cache = Cache(deps, caller.user_id)
    key = cache.key("item", str(observation_id))
    item = cache.get(key)
    if item is None:
        item = ObservationOut.of(_owned(db, caller, observation_id, "observation.read")).model_dump(
            mode="json"
        )
        cache.put(key, item)
    audit.by(db, caller, "observation.read", "observation", observation_id)
    return item


@router.patch("/{observation_id}", response_model=ObservationOut, summary="Correct a measurement")
def update(
    observation_id: uuid.UUID,
    body: ObservationPatch,
    caller: PatientCaller,
    db: DbSession,
    deps: ServicesDep,
) -> ObservationOut:
    row = _owned(db, caller, observation_id, "observation.update")
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
    row.value, row.unit = Decimal(str(value)), unit
    if "effective_at" in changes:
        row.effective_at = changes["effective_at"]
    if "note" in changes:
        row.note = changes["note"]
    db.flush()
    audit.by(
        db, caller, "observation.update", "observation", row.id, detail={"fields": sorted(changes)}
    )
    db.commit()  # then invalidate: a read in between must not cache the old state
    Cache(deps, caller.user_id).invalidate()
    return ObservationOut.of(row)


@router.delete("/{observation_id}", status_code=204, summary="Delete a measurement")
def delete(
    observation_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> Response:
    row = _owned(db, caller, observation_id, "observation.delete")
    db.delete(row)
    audit.by(db, caller, "observation.delete", "observation", observation_id)
    db.commit()  # then invalidate: a read in between must not cache the old state
    Cache(deps, caller.user_id).invalidate()
    return Response(status_code=204)
