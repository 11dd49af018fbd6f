"""Documents: streamed upload checked by content, download byte-identical, soft delete."""

from __future__ import annotations

import hashlib
import os

import pytest
from anyio.from_thread import BlockingPortal
from fastapi.testclient import TestClient

from health_platform.contract import ApiSettings
from tests.api.conftest import Direct, User, make_app, sign_up

PDF = b"%PDF-1.7\n" + os.urandom(300_000) + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(1000)
DICOM = b"\x00" * 128 + b"DICM" + os.urandom(500)


def upload(user: User, body: bytes, filename: str = "report.pdf", **headers: str):  # type: ignore[no-untyped-def]
    return user.client.post(
        "/api/documents",
        params={"filename": filename},
        content=body,
        headers={**user.headers(), "Content-Type": "application/octet-stream", **headers},
    )


def test_upload_download_identical_list_delete(patient: User) -> None:
    created = upload(patient, PDF)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["content_type"] == "application/pdf"
    assert document["size_bytes"] == len(PDF)
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    content = patient.client.get(f"/api/documents/{document['id']}/content")
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert "attachment" in content.headers["content-disposition"]
    listed = patient.client.get("/api/documents").json()
    assert [d["id"] for d in listed["items"]] == [document["id"]]
    assert (
        patient.client.delete(
            f"/api/documents/{document['id']}", headers=patient.headers()
        ).status_code
        == 204
    )
    assert patient.client.get(f"/api/documents/{document['id']}").status_code == 404
    assert patient.client.get("/api/documents").json()["total"] == 0


def test_type_comes_from_the_bytes_not_the_header(patient: User) -> None:
    png = upload(patient, PNG, "scan.pdf", **{"Content-Type": "application/pdf"})
    assert png.status_code == 201 and png.json()["content_type"] == "image/png"
    dicom = upload(patient, DICOM, "ct.dcm")
    assert dicom.status_code == 201 and dicom.json()["content_type"] == "application/dicom"
    jpeg = upload(patient, b"\xff\xd8\xff\xe0" + os.urandom(200), "photo.jpg")
    assert jpeg.json()["content_type"] == "image/jpeg"
    script = upload(patient, b"#!/bin/sh\nrm -rf /\n" * 20, "report.pdf")
    assert script.status_code == 415 and script.json()["error"]["code"] == "unsupported_type"


def test_empty_and_nameless_uploads_are_refused(patient: User) -> None:
    empty = upload(patient, b"")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_upload"
    nameless = patient.client.post("/api/documents", content=PDF, headers=patient.headers())
    assert nameless.status_code == 422


def test_filenames_are_sanitized(patient: User) -> None:
    created = upload(patient, PDF, "../../etc/<script>pass wd.pdf")
    assert created.json()["filename"] == "_script_pass wd.pdf"


@pytest.fixture
def small_limit_user(settings: ApiSettings, portal: BlockingPortal) -> User:
    strict = settings.model_copy(update={"max_upload_bytes": 1024})
    return sign_up(make_app(strict, portal))


def test_limits_tell_the_deployments_own_size_and_types(small_limit_user: User) -> None:
    limits = small_limit_user.client.get("/api/documents/limits")
    assert limits.status_code == 200, limits.text
    assert limits.json() == {
        "max_bytes": 1024,
        "accepted_types": ["application/pdf", "image/png", "image/jpeg", "application/dicom"],
    }


def test_oversized_uploads_are_413(small_limit_user: User) -> None:
    declared = upload(small_limit_user, PDF)  # Content-Length says too much: refused at once
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

    def chunks():  # type: ignore[no-untyped-def]
        yield PDF[:600]
        yield PDF[600:1400]

    streamed = small_limit_user.client.post(  # no Content-Length: counted while streaming
        "/api/documents",
        params={"filename": "x.pdf"},
        content=chunks(),
        headers=small_limit_user.headers(),
    )
    assert streamed.status_code == 413
    assert small_limit_user.client.get("/api/documents").json()["total"] == 0


def test_another_patients_document_is_404(patient: User, other_patient: User) -> None:
    document = upload(patient, PDF).json()
    for path in (f"/api/documents/{document['id']}", f"/api/documents/{document['id']}/content"):
        assert other_patient.client.get(path).status_code == 404
    assert (
        other_patient.client.delete(
            f"/api/documents/{document['id']}", headers=other_patient.headers()
        ).status_code
        == 404
    )
    assert patient.client.get(f"/api/documents/{document['id']}").status_code == 200


def test_admins_cannot_read_documents(app, direct: Direct, anonymous: TestClient) -> None:  # type: ignore[no-untyped-def]
    admin = sign_up(app, role="admin", direct=direct)
    for path in ("/api/documents", "/api/documents/limits"):
        assert admin.client.get(path).status_code == 403
        assert anonymous.get(path).status_code == 401
