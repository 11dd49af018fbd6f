"""A patient's measurements: create, list (paginated, by type and time), read, update,
delete. Reads are cached in Redis per user and invalidated by every write; every access,
cached or not, leaves an audit record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from health_platform.api import examples, vocabulary
from health_platform.api.audit import Audit
from health_platform.api.data.observations import RESOURCE, Filters, Observations
from health_platform.api.data.pages import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Page
from health_platform.api.deps import DbSession, PatientCaller, Services, ServicesDep
from health_platform.api.errors import ApiError

router = APIRouter(prefix="/api/observations", tags=["observations"])


# A measurement's time may run this far ahead of the server's clock (a phone's clock drifts);
# beyond it the time is a mistake, refused.
CLOCK_SKEW = timedelta(minutes=5)


def _not_in_the_future(value: datetime) -> datetime:
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("cannot be in the future")
    return value


MeasuredAt = Annotated[AwareDatetime, AfterValidator(_not_in_the_future)]


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
    # One value, or, for a reading of several (blood_pressure), its components by name.
    value: Annotated[float | None, Field(allow_inf_nan=False)] = None
    components: dict[str, Annotated[float, Field(allow_inf_nan=False)]] | None = None
    unit: str
    effective_at: MeasuredAt
    note: Annotated[str | None, Field(max_length=500)] = None


class ObservationPatch(BaseModel):
    model_config = examples.example({"value": 64, "note": "after stairs"}, forbid_extra=True)

    value: Annotated[float | None, Field(allow_inf_nan=False)] = None
    components: dict[str, Annotated[float, Field(allow_inf_nan=False)]] | None = None
    unit: str | None = None
    effective_at: MeasuredAt | None = None
    note: Annotated[str | None, Field(max_length=500)] = None


class ObservationOut(BaseModel):
    model_config = examples.example(examples.OBSERVATION)

    id: str
    type: str
    loinc: str
    value: float
    # A reading of several values (blood pressure: systolic, diastolic); None for one value.
    components: dict[str, float] | None
    unit: str
    effective_at: datetime
    note: str | None

    @classmethod
    def of(cls, row: Any) -> ObservationOut:
        """From an Observation, or a row of the data layer's COLUMNS."""
        # model_construct: the values come from our own database, already valid; checking
        # them again was a third of an uncached list's time.
        return cls.model_construct(
            id=str(row.id),
            type=row.type,
            loinc=vocabulary.TYPES[row.type].loinc,
            value=float(row.value),
            components=row.components,
            unit=row.unit,
            effective_at=row.effective_at,
            note=row.note,
        )


class ObservationPage(BaseModel):
    model_config = examples.example(
        {"items": [examples.OBSERVATION], "total": 1, "limit": 50, "offset": 0}
    )

    items: list[ObservationOut]
    total: int
    limit: int
    offset: int


def _observations(deps: Services, audit: Audit) -> Observations:
    return Observations(deps.database, deps.redis_batch, deps.observation_writes, audit)


def _json(body: bytes, status: int = 200) -> Response:
    return Response(content=body, status_code=status, media_type="application/json")


def _check(
    type_code: str,
    value: float | None,
    unit: str,
    components: dict[str, float] | None,
    *,
    new: bool = True,
) -> None:
    found = vocabulary.problems(type_code, value, unit, components, new=new)
    if found:
        raise ApiError(
            422, "invalid_observation", found[0]["problem"].capitalize() + ".", details=found
        )


@router.get(
    "/types",
    summary="The observation vocabulary: codes, LOINC, units, ranges",
    responses=examples.json_response([vars(vocabulary.TYPES["heart_rate"])]),
)
async def types() -> list[dict[str, Any]]:
    return [vars(t) for t in vocabulary.TYPES.values()]


@router.get(
    "/latest",
    response_model=list[ObservationOut],
    summary="The newest measurement of each type (the dashboard's summary)",
    responses=examples.json_response([examples.OBSERVATION]),
)
async def latest(caller: PatientCaller, deps: ServicesDep) -> Any:
    audit = Audit.of(deps.audit_trail, caller)
    rows = await _observations(deps, audit).latest()
    await audit.read("observation.latest", RESOURCE, detail={"count": len(rows)})
    return [ObservationOut.of(r) for r in rows]


@router.post("", status_code=201, response_model=ObservationOut, summary="Record a measurement")
async def create(body: ObservationIn, caller: PatientCaller, deps: ServicesDep) -> Any:
    _check(body.type, body.value, body.unit, body.components)
    fields = body.model_dump()
    fields["value"] = vocabulary.value_of(vocabulary.TYPES[body.type], body.value, body.components)
    row = await _observations(deps, Audit.of(deps.audit_trail, caller)).create(fields)
    return _json(ObservationOut.of(SimpleNamespace(**row)).model_dump_json().encode(), 201)


def _render_page(page: Page) -> bytes:
    items = [ObservationOut.of(r) for r in page.rows]
    shaped = ObservationPage.model_construct(
        items=items, total=page.total, limit=page.limit, offset=page.offset
    )
    return shaped.model_dump_json().encode()


def _render_item(row: Any) -> bytes:
    return ObservationOut.of(row).model_dump_json().encode()


@router.get("", response_model=ObservationPage, summary="List measurements (newest first)")
async def list_observations(
    caller: PatientCaller,
    deps: ServicesDep,
    type: Annotated[str | None, Query(description="One vocabulary code")] = None,
    since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Any:
    if type is not None and type not in vocabulary.TYPES:
        raise ApiError(
            422,
            "invalid_request",
            f"Unknown type {type!r}.",
            details=[{"field": "type", "problem": f"use one of {', '.join(vocabulary.TYPES)}"}],
        )
    audit = Audit.of(deps.audit_trail, caller)
    filters = Filters(type=type, since=since, until=until)
    page = await _observations(deps, audit).page(filters, limit, offset, _render_page)
    await audit.read("observation.list", RESOURCE, detail={"count": page.count})
    return _json(page.body)


@router.get("/{observation_id}", response_model=ObservationOut, summary="Read one measurement")
async def read(
    observation_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> Any:
    audit = Audit.of(deps.audit_trail, caller)
    item = await _observations(deps, audit).item(db, observation_id, _render_item)
    await audit.read("observation.read", RESOURCE, observation_id)
    return _json(item)


@router.patch("/{observation_id}", response_model=ObservationOut, summary="Correct a measurement")
async def update(
    observation_id: uuid.UUID,
    body: ObservationPatch,
    caller: PatientCaller,
    db: DbSession,
    deps: ServicesDep,
) -> ObservationOut:
    observations = _observations(deps, Audit.of(deps.audit_trail, caller))
    row = await observations.owned(db, observation_id, "observation.update")
    changes = body.model_dump(exclude_unset=True)
    kind = vocabulary.TYPES[row.type]
    components = changes.get("components", row.components)
    value = None if kind.components else changes.get("value", float(row.value))
    unit = changes.get("unit", row.unit)
    if (
        (value is None and not kind.components)
        or unit is None
        or ("effective_at" in changes and changes["effective_at"] is None)
    ):
        raise ApiError(422, "invalid_request", "value, unit and effective_at cannot be null.")
    if kind.components and "value" in changes:
        # A panel's value is its first component's: a lone value would be dropped unsaid.
        names = " and ".join(c.display.lower() for c in kind.components)
        raise ApiError(
            422,
            "invalid_observation",
            f"{kind.display} is corrected through its values ({names}).",
            details=[{"field": "value", "problem": f"takes its values ({names}), not one"}],
        )
    _check(row.type, value, unit, components, new=False)
    if kind.components and "components" in changes:
        # A panel's value is its first component's.
        changes["value"] = vocabulary.value_of(kind, None, components)
    await observations.update(db, row, changes)
    return ObservationOut.of(row)


@router.delete("/{observation_id}", status_code=204, summary="Delete a measurement")
async def delete(
    observation_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> Response:
    observations = _observations(deps, Audit.of(deps.audit_trail, caller))
    await observations.delete(
        db, await observations.owned(db, observation_id, "observation.delete")
    )
    return Response(status_code=204)
