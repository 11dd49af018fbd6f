"""A patient's export of their own record (HIPAA's right of access): a FHIR R4 Bundle that
a FHIR library validates, and CSV; each export on record, nobody else's data in it."""

from __future__ import annotations

import csv
import io

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from health_platform.api import vocabulary
from health_platform.api.models import AuditRecord
from health_platform.contract import ApiSettings
from tests.api.conftest import Direct, User

PDF = b"%PDF-1.4\n" + b"0" * 256


def _record(patient: User, kind: str, value: float, at: str, note: str | None = None) -> None:
    body = {"type": kind, "value": value, "unit": vocabulary.TYPES[kind].unit, "effective_at": at}
    created = patient.client.post(
        "/api/observations", json={**body, "note": note}, headers=patient.headers()
    )
    assert created.status_code == 201, created.text


def _fill(patient: User) -> None:
    _record(patient, "heart_rate", 62, "2026-11-25T08:30:00Z", "resting")
    _record(patient, "body_temperature", 36.6, "2026-11-25T08:31:00Z")
    _record(patient, "blood_glucose", 95.5, "2026-11-24T07:00:00Z")
    uploaded = patient.client.post(
        "/api/documents", params={"filename": "lab.pdf"}, content=PDF, headers=patient.headers()
    )
    assert uploaded.status_code == 201, uploaded.text


def test_the_fhir_export_is_a_valid_bundle_of_the_whole_record(
    patient: User, other_patient: User, direct: Direct, settings: ApiSettings
) -> None:
    _fill(patient)
    _record(other_patient, "heart_rate", 99, "2026-11-25T09:00:00Z")
    answer = patient.client.get("/api/export/fhir", headers={"Host": "evil.example"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/fhir+json"
    assert "attachment" in answer.headers["content-disposition"]
    bundle = Bundle.model_validate_json(answer.content)  # FHIR's own rules, by the library
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry]
    kinds = [r.get_resource_type() for r in resources]
    assert kinds == ["Patient", "Observation", "Observation", "Observation", "DocumentReference"]
    (patient_entry, *_) = bundle.entry
    assert patient_entry.resource.id == patient.id
    assert patient_entry.resource.telecom[0].value == patient.email
    observations = [r for r in resources if r.get_resource_type() == "Observation"]
    # Oldest first; LOINC codes and UCUM quantities; every one the patient's.
    assert [o.code.coding[0].code for o in observations] == ["2339-0", "8867-4", "8310-5"]
    temperature = observations[2].valueQuantity
    assert (float(temperature.value), temperature.code, temperature.system) == (
        36.6,
        "Cel",
        "http://unitsofmeasure.org",
    )
    assert observations[0].category[0].coding[0].code == "laboratory"
    assert observations[1].note[0].text == "resting"
    assert {o.subject.reference for o in observations} == {patient_entry.fullUrl}
    (document,) = [r for r in resources if r.get_resource_type() == "DocumentReference"]
    attachment = document.content[0].attachment
    assert (attachment.contentType, attachment.title, attachment.size) == (
        "application/pdf",
        "lab.pdf",
        len(PDF),
    )
    # The settings' address, whatever Host the request named.
    assert attachment.url == f"{settings.public_url}/api/documents/{document.id}/content"
    assert 99 not in [o.valueQuantity.value for o in observations]  # the other patient's
    with direct.session() as session:
        (detail,) = session.scalars(
            select(AuditRecord.detail).where(
                AuditRecord.actor_id == patient.id, AuditRecord.action == "export.fhir"
            )
        )
    assert detail == {"observations": 3, "documents": 1}


def test_the_csv_export_lists_the_measurements_oldest_first(patient: User) -> None:
    _fill(patient)
    answer = patient.client.get("/api/export/csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["type"] for r in rows] == ["blood_glucose", "heart_rate", "body_temperature"]
    assert rows[1] == {
        "effective_at": "2026-11-25T08:30:00+00:00",
        "type": "heart_rate",
        "loinc": "8867-4",
        "value": "62.000",
        "unit": "/min",
        "note": "resting",
    }


def test_an_export_needs_a_signed_in_patient(anonymous) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/export/fhir", "/api/export/csv"):
        assert anonymous.get(path).status_code == 401


def test_a_note_that_looks_like_a_formula_is_text_in_the_csv(patient: User) -> None:
    _record(patient, "heart_rate", 70, "2026-11-25T10:00:00Z", '=HYPERLINK("http://x","y")')
    rows = list(csv.DictReader(io.StringIO(patient.client.get("/api/export/csv").text)))
    assert rows[0]["note"] == '\'=HYPERLINK("http://x","y")'
