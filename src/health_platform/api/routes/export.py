"""A patient's own record, whole, to take elsewhere (HIPAA's right of access): as a FHIR R4
Bundle, or the measurements as CSV. Each export is an audit record, with what it held."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request, Response

from health_platform.api import vocabulary
from health_platform.api.audit import Audit
from health_platform.api.data.export import record_of
from health_platform.api.deps import PatientCaller, ServicesDep

router = APIRouter(prefix="/api/export", tags=["export"])
CSV_COLUMNS = ("effective_at", "type", "loinc", "value", "unit", "note")


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get(
    "/fhir",
    summary="One's whole record as a FHIR R4 Bundle (Patient, Observations, DocumentReferences)",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}},
)
async def fhir(request: Request, caller: PatientCaller, deps: ServicesDep) -> Response:
    # Imported here: FHIR's models are large, and only an export needs them.
    from health_platform.api.fhir_export import MEDIA_TYPE, bundle_of

    record = await record_of(deps.database, caller.user_id)
    counts = {"observations": len(record.observations), "documents": len(record.documents)}
    await Audit.of(deps.audit_trail, caller).read("export.fhir", "record", detail=counts)
    bundle = bundle_of(record, str(request.base_url))
    return Response(
        content=bundle.model_dump_json(exclude_none=True),
        media_type=MEDIA_TYPE,
        headers=_attachment("health-record.fhir.json"),
    )


@router.get(
    "/csv",
    summary="One's measurements as CSV (oldest first)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def measurements_csv(caller: PatientCaller, deps: ServicesDep) -> Response:
    record = await record_of(deps.database, caller.user_id)
    detail = {"observations": len(record.observations)}
    await Audit.of(deps.audit_trail, caller).read("export.csv", "record", detail=detail)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in record.observations:
        kind = vocabulary.TYPES[row.type]
        when = row.effective_at.isoformat()
        writer.writerow((when, row.type, kind.loinc, row.value, kind.unit, row.note or ""))
    return Response(
        content=out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("measurements.csv"),
    )
