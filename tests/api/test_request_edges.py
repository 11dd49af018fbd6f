"""The edges of a request: body size, the schema at the public entry point, 405's Allow, no
Host-built redirects, and dates that are dates."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from health_platform.api import server
from health_platform.contract import DOCS_PATH, MAX_BODY_BYTES, OPENAPI_PATH, ApiSettings
from tests.api.conftest import User, serve

CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def served(settings: ApiSettings) -> Iterator[str]:
    with serve(settings) as url:
        yield url


def raw_request(url: str, head: bytes, body: bytes = b"") -> bytes:
    """Send `head` (and `body`) on a fresh connection; the first 4 KB of the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + body)
        return connection.recv(4096)


def test_a_body_announced_too_large_is_refused_before_it_is_read(served: str) -> None:
    """60 MB announced, nothing sent: the answer comes at once, so nothing was waited for
    (the limit is not reached by reading)."""
    head = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: 62914560\r\n\r\n"
    )
    answer = raw_request(served, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"too_large"' in answer


def test_a_chunked_body_is_cut_at_the_limit(anonymous: TestClient) -> None:
    """Without a length, the body is read up to the limit and refused there."""

    def chunks() -> Iterator[bytes]:
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(8 * MAX_BODY_BYTES // CHUNK):
            yield b"x" * CHUNK

    refused = anonymous.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "too_large"


def test_an_upload_route_is_not_held_to_the_json_limit(patient: User) -> None:
    body = b"%PDF-1.7\n" + b"0" * (MAX_BODY_BYTES + 1024)
    stored = patient.client.post(
        "/api/documents",
        params={"filename": "scan.pdf"},
        content=body,
        headers=patient.headers(),
    )
    assert stored.status_code == 201, stored.text


def test_the_schema_and_docs_are_under_api(anonymous: TestClient) -> None:
    schema = anonymous.get(OPENAPI_PATH)
    assert schema.status_code == 200 and schema.json()["info"]["title"]
    assert anonymous.get(DOCS_PATH).status_code == 200
    assert anonymous.get("/openapi.json").status_code == 404


def test_every_operation_documents_its_errors(anonymous: TestClient) -> None:
    spec = anonymous.get(OPENAPI_PATH).json()
    login = spec["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"401", "413", "422", "429", "503"} <= login.keys()
    observations = spec["paths"]["/api/observations"]["get"]["responses"]
    assert {"401", "403", "422", "429", "503"} <= observations.keys()
    error = observations["403"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorBody"}
    assert "ErrorInfo" in spec["components"]["schemas"]
    # The gate's statuses only where a route needs a signed-in caller (read from its
    # dependencies): registering needs none.
    assert "403" not in spec["paths"]["/api/auth/register"]["post"]["responses"]


def test_a_wrong_method_names_the_right_ones(patient: User) -> None:
    wrong = patient.client.put("/api/observations/types", headers=patient.headers())
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET"
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_no_redirect_is_built_from_the_host_header(anonymous: TestClient) -> None:
    answer = anonymous.get(
        "/api/observations/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert answer.status_code == 404
    assert "location" not in answer.headers


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0, "YYYY-MM-DD"),
        ("2999-01-01", "in the past"),
        ("1850-05-01", "1900-01-01"),
        ("1985-12-10T00:00:00", "YYYY-MM-DD"),
    ],
)
def test_a_date_of_birth_must_be_a_plausible_date(
    patient: User, value: object, problem: str
) -> None:
    refused = patient.client.patch(
        "/api/profile", json={"date_of_birth": value}, headers=patient.headers()
    )
    assert refused.status_code == 422, refused.text
    [detail] = refused.json()["error"]["details"]
    assert detail["field"] == "date_of_birth" and problem in detail["problem"]


def test_a_date_of_birth_is_kept(patient: User) -> None:
    saved = patient.client.patch(
        "/api/profile", json={"date_of_birth": "1985-12-10"}, headers=patient.headers()
    )
    assert saved.status_code == 200 and saved.json()["date_of_birth"] == "1985-12-10"


def test_a_trickled_json_body_is_cut_too(settings: ApiSettings) -> None:
    """Not only uploads: a sign-in whose body comes a byte at a time is cut once a window
    passes without its quota (here 1 s and 512 bytes)."""
    paced = settings.model_copy(
        update={"body_read_window_seconds": 1.0, "body_min_bytes_per_second": 512}
    )
    with serve(paced) as url:
        host, port = url.removeprefix("http://").split(":")
        head = (
            b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"
        )
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(head)
            for _ in range(30):  # a byte every 0.2 s: 5 bytes a second, for 6 s at most
                try:
                    connection.sendall(b" ")
                except OSError:  # the API answered and closed
                    break
                time.sleep(0.2)
            answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 4


def test_a_trickled_header_is_cut_at_the_api_too(
    settings: ApiSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn has no header deadline of its own: the API's protocol closes a connection
    whose header is not whole within the deadline (1 s here) of its first byte."""
    monkeypatch.setattr(server, "REQUEST_HEADER_SECONDS", 1)
    with serve(settings) as url:
        host, port = url.removeprefix("http://").split(":")
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(b"GET /health HTTP/1.1\r\n")
            answer = b"open"
            for _ in range(30):  # a byte every 0.2 s, for 6 s at most
                try:
                    connection.sendall(b"X")
                    time.sleep(0.2)
                except OSError:  # closed by the API
                    answer = b""
                    break
            if answer:
                answer = connection.recv(4096)  # b"" once the API closed it
    assert answer == b""
    assert time.monotonic() - started < 4
