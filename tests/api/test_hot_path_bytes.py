"""The hot paths' responses, byte for byte, as uvicorn sends them: the observation list
(uncached, then cached), one observation (uncached, then cached), a create, and the gate's
refusals. The CPU work of issue 18 (batched Redis commands, fewer dependency resolutions,
route order) must not change a byte: the expected responses below were recorded from the
commit before it (92d18f1), with the values that differ on every run (ids, request ids,
the date) put in angle brackets."""

from __future__ import annotations

import re
from typing import Any

import httpx

from health_platform.api.sessions import SESSION_COOKIE
from health_platform.contract import ApiSettings
from tests.api.conftest import User, serve

READING = {
    "type": "heart_rate",
    "value": 62,
    "unit": "/min",
    "effective_at": "2026-11-25T08:30:00Z",
    "note": "resting",
}
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQUEST_ID = re.compile(rb'"request_id":"[0-9a-f]{32}"')
ITEM = (
    b'{"id":"<id>","type":"heart_rate","loinc":"8867-4","value":62.0,"components":null,'
    b'"unit":"/min","effective_at":"2026-11-25T08:30:00Z","note":"resting"}'
)
PAGE = b'{"items":[' + ITEM + b'],"total":1,"limit":50,"offset":0}'
JSON_HEADERS = [
    ("content-length", None),
    ("content-type", "application/json"),
    ("x-request-id", "<request id>"),
    ("cache-control", "no-store"),
]


def shown(response: httpx.Response) -> tuple[int, list[tuple[str, Any]], bytes]:
    headers = [
        (
            name.decode().lower(),
            "<request id>" if name.lower() == b"x-request-id" else value.decode(),
        )
        for name, value in response.headers.raw
        if name.lower() not in (b"date", b"server")
    ]
    body = REQUEST_ID.sub(b'"request_id":"<request id>"', UUID.sub(b"<id>", response.content))
    return response.status_code, headers, body


def expected(status: int, body: bytes, *extra: tuple[str, str]) -> tuple[int, list[Any], bytes]:
    headers: list[tuple[str, Any]] = [
        (name, str(len(_unmasked(body))) if name == "content-length" else value)
        for name, value in JSON_HEADERS
    ]
    return status, [*headers[:2], *extra, *headers[2:]], body


def _unmasked(body: bytes) -> bytes:
    """The body's length as sent: the masks stand for values of a known length."""
    return body.replace(b"<id>", b"x" * 36).replace(b"<request id>", b"x" * 32)


def test_the_hot_paths_answer_byte_for_byte_as_before(settings: ApiSettings, patient: User) -> None:
    cookie = f"{SESSION_COOKIE}={patient.client.cookies[SESSION_COOKIE]}"
    signed_in = {"Cookie": cookie, "X-CSRF-Token": patient.csrf}
    with serve(settings) as base, httpx.Client(base_url=base, timeout=10) as http:
        created = http.post("/api/observations", json=READING, headers=signed_in)
        assert shown(created) == expected(201, ITEM)
        (item_id,) = UUID.findall(created.content)
        for _ in ("uncached", "cached"):
            assert shown(http.get("/api/observations", headers=signed_in)) == expected(200, PAGE)
            one = http.get(f"/api/observations/{item_id.decode()}", headers=signed_in)
            assert shown(one) == expected(200, ITEM)

        unauthenticated = http.get("/api/observations")
        assert shown(unauthenticated) == expected(
            401,
            b'{"error":{"code":"unauthenticated","message":"Sign in first (the session is'
            b' missing or expired).","details":[],"request_id":"<request id>"}}',
        )
        no_csrf = http.post("/api/observations", json=READING, headers={"Cookie": cookie})
        assert shown(no_csrf) == expected(
            403,
            b'{"error":{"code":"csrf","message":"Missing or wrong X-CSRF-Token header.",'
            b'"details":[],"request_id":"<request id>"}}',
        )
