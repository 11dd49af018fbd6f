"""A patient's record as a FHIR R4 Bundle: the Patient, an Observation per measurement
(LOINC code, UCUM quantity, time) and a DocumentReference per document, built with the
fhir.resources models (R4B, FHIR 4.3: R4's Patient, Observation and DocumentReference), so
every resource is checked against FHIR's own definitions as it is made."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from health_platform.api import vocabulary
from health_platform.api.data.export import Record

MEDIA_TYPE = "application/fhir+json"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORIES = "http://terminology.hl7.org/CodeSystem/observation-category"


def _urn(resource_id: Any) -> str:
    return f"urn:uuid:{resource_id}"


def _patient(account: Any) -> Patient:
    return Patient(
        id=str(account.id),
        name=[{"text": account.display_name}],
        telecom=[{"system": "email", "value": account.email}],
        birthDate=account.date_of_birth,
    )


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _observation(row: Any, patient: str) -> Observation:
    """One value as valueQuantity; a reading of several (blood pressure, LOINC 85354-9) as
    FHIR's panel: no value of its own, a component per value with its own code."""
    kind = vocabulary.TYPES[row.type]  # the unit is the row's (UCUM, as stored)
    components = row.components or {}
    return Observation(
        id=str(row.id),
        status="final",
        category=[{"coding": [{"system": CATEGORIES, "code": kind.category}]}],
        code={"coding": [{"system": LOINC, "code": kind.loinc, "display": kind.display}]},
        subject={"reference": patient},
        effectiveDateTime=row.effective_at,
        valueQuantity=None if kind.components else _quantity(row.value, row.unit),
        component=[
            {
                "code": {
                    "coding": [{"system": LOINC, "code": part.loinc, "display": part.display}]
                },
                "valueQuantity": _quantity(components[part.code], row.unit),
            }
            for part in kind.components
        ]
        or None,
        note=[{"text": row.note}] if row.note else None,
    )


def _document(row: Any, patient: str, public_url: str) -> DocumentReference:
    return DocumentReference(
        id=str(row.id),
        status="current",
        subject={"reference": patient},
        date=row.created_at,
        content=[
            {
                "attachment": {
                    "contentType": row.content_type,
                    "title": row.filename,
                    "size": row.size_bytes,
                    "url": f"{public_url}/api/documents/{row.id}/content",
                    "creation": row.created_at,
                }
            }
        ],
    )


def bundle_of(record: Record, public_url: str) -> Bundle:
    """The record as a `collection` Bundle; entries refer to the Patient by its urn, the
    documents' bytes by their address at `public_url` (the settings', never a request's
    Host header)."""
    patient = _urn(record.account.id)
    entries: list[dict[str, Any]] = [{"fullUrl": patient, "resource": _patient(record.account)}]
    entries += [
        {"fullUrl": _urn(row.id), "resource": _observation(row, patient)}
        for row in record.observations
    ]
    entries += [
        {"fullUrl": _urn(row.id), "resource": _document(row, patient, public_url)}
        for row in record.documents
    ]
    return Bundle(type="collection", timestamp=datetime.now(UTC), entry=entries)


def bundle_json(record: Record, public_url: str) -> str:
    """The Bundle as its JSON (what a request thread-offloads: building and dumping)."""
    return bundle_of(record, public_url).model_dump_json(exclude_none=True)
