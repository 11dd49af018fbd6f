"""A patient's own record, whole, to take elsewhere (HIPAA's right of access): as a FHIR R4
Bundle, or the measurements as CSV. Each export is an audit record, with what it held."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Response

from health_platform.api import rate_limit, vocabulary
from health_platform.api.audit import Audit
from health_platform.api.csv_cells import csv_download
from health_platform.api.data.export import record_of
from health_platform.api.deps import PatientCaller, ServicesDep

router = APIRouter(prefix="/api/export", tags=["export"])
# A blood pressure reading's value is written as people read it: "132/82".
CSV_COLUMNS = ("effective_at", "type", "loinc", "value", "unit", "note")


@router.get(
    "/fhir",
    summary="One's whole record as a FHIR R4 Bundle (Patient, Observations, DocumentReferences)",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}},
)
async def fhir(caller: PatientCaller, deps: ServicesDep) -> Response:
    # Imported here: FHIR's models are large, and only an export needs them.
    from health_platform.api.fhir_export import MEDIA_TYPE, bundle_json

    await _limit(deps, caller)
    record = await record_of(deps.database, caller.user_id)
    counts = {"observations": len(record.observations), "documents": len(record.documents)}
    await Audit.of(deps.audit_trail, caller).read("export.fhir", "record", detail=counts)
    # Seconds of CPU for a long record: in a thread, so the worker's other requests (its
    # health checks among them) go on meanwhile.
    body = await to_thread.run_sync(bundle_json, record, deps.settings.public_url)
    return Response(
        content=body,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="health-record.fhir.json"'},
    )


async def _limit(deps: ServicesDep, caller: PatientCaller) -> None:
    """An export reads the whole record: a few a minute per patient (as sign-ins are)."""
    await rate_limit.enforce(deps.redis, deps.settings.login_rate, ("export", str(caller.user_id)))


@router.get(
    "/csv",
    summary="One's measurements as CSV (oldest first)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def measurements_csv(caller: PatientCaller, deps: ServicesDep) -> Response:
    await _limit(deps, caller)
    record = await record_of(deps.database, caller.user_id)
    detail = {"observations": len(record.observations)}
    await Audit.of(deps.audit_trail, caller).read("export.csv", "record", detail=detail)
    rows = (
        (
            row.effective_at.isoformat(),
            row.type,
            vocabulary.TYPES[row.type].loinc,
            _written(row),
            row.unit,
            row.note or "",
        )
        for row in record.observations
    )
    return csv_download("measurements.csv", CSV_COLUMNS, rows)


def _written(row: Any) -> str:
    """The value, or a reading's components over one another ("132/82")."""
    kind = vocabulary.TYPES[row.type]
    if kind.components and row.components:
        return "/".join(f"{row.components[part.code]:g}" for part in kind.components)
    return f"{row.value:g}" if isinstance(row.value, float) else str(row.value)
