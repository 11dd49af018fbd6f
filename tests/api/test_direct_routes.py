"""The direct routes (api/direct_routes.py) answer byte for byte as FastAPI's routes do: the
same requests, well-formed and not, sent to the API with them and without them (sharing
one database and Redis), get the same status, headers and body, ids aside."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from health_platform.api import direct_routes
from health_platform.api.app import create_app
from health_platform.api.sessions import CSRF_HEADER, SESSION_COOKIE
from health_platform.contract import MAX_BODY_BYTES, ApiSettings
from tests.api.conftest import HEART_RATE_BODY, User, client_for, sign_up
from tests.conftest import Direct

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQUEST_ID = re.compile(rb'"request_id":"[0-9a-f]{32}"')
PRESSURE = {
    "type": "blood_pressure",
    "components": {"systolic": 132, "diastolic": 82},
    "unit": "mm[Hg]",
    "effective_at": "2026-11-25T08:31:00Z",
}


@pytest.fixture(scope="module")
def through_fastapi(app: FastAPI, settings: ApiSettings, portal: BlockingPortal) -> FastAPI:
    """The API without direct routes, on the same services as `app`."""
    application = create_app(settings, direct_routes=False)
    application.state.services = app.state.services
    application.state.portal = portal
    return application


def answer(client: TestClient, method: str, url: str, **options: Any) -> tuple[Any, ...]:
    response = client.request(method, url, **options)
    headers = sorted(
        (name, value)
        for name, value in response.headers.items()
        if name not in ("x-request-id", "date", "server")
    )
    body = REQUEST_ID.sub(b'"request_id":"-"', UUID.sub(b"<id>", response.content))
    # A length stands for the body's: masked ids are the same length as the ids.
    return response.status_code, headers, body


class Both:
    """One caller's requests, sent to the API with direct routes and without."""

    def __init__(self, app: FastAPI, through_fastapi: FastAPI, user: User | None) -> None:
        cookies = {SESSION_COOKIE: user.client.cookies[SESSION_COOKIE]} if user else {}
        self.clients = [client_for(a) for a in (app, through_fastapi)]
        for client in self.clients:
            client.cookies.update(cookies)
        self.csrf = {CSRF_HEADER: user.csrf} if user else {}

    def same(self, method: str, url: str, **options: Any) -> tuple[Any, ...]:
        direct, fastapi = (answer(c, method, url, **options) for c in self.clients)
        assert direct == fastapi, (method, url, options)
        return direct

    def post(self, body: Any, *, content_type: str = "application/json", **headers: str) -> int:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {**self.csrf, "Content-Type": content_type, **headers}
        status: int = self.same("POST", "/api/observations", content=content, headers=sent)[0]
        return status


@pytest.fixture
def both(app: FastAPI, through_fastapi: FastAPI, patient: User) -> Iterator[Both]:
    yield Both(app, through_fastapi, patient)


@pytest.fixture
def answered_directly(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests the direct routes answered themselves (with a response or an error the
    app's handlers answer; not handed to FastAPI), as "METHOD path?query"."""
    answered: list[str] = []
    for key, handler in list(direct_routes.ROUTES.items()):

        async def spy(request: Request, handler: direct_routes.Handler = handler) -> Any:
            query = request.url.query
            seen = f"{request.method} {request.url.path}{'?' if query else ''}{query}"
            try:
                response = await handler(request)
            except Exception:
                answered.append(seen)
                raise
            if response is not None:
                answered.append(seen)
            return response

        monkeypatch.setitem(direct_routes.ROUTES, key, spy)
    return answered


LISTS = [
    "",
    "?limit=5",
    "?limit=5&offset=1",
    "?offset=0",
    "?limit=%35",
    "?limit=0",
    "?limit=201",
    "?limit=abc",
    "?limit=05",
    "?limit=-1",
    "?limit=5&limit=6",
    "?offset=1000001",
    "?type=heart_rate",
    "?type=nonsense",
    "?from=2026-11-25T00:00:00Z",
    "?other=1",
    "?limit",
]


def test_lists_answer_alike(both: Both) -> None:
    for body in (HEART_RATE_BODY, PRESSURE):
        assert both.clients[0].post("/api/observations", json=body, headers=both.csrf).is_success
    for query in LISTS:
        both.same("GET", f"/api/observations{query}")
        both.same("GET", f"/api/observations{query}")  # cached the second time


def test_creates_answer_alike(both: Both, answered_directly: list[str]) -> None:
    statuses = [
        both.post(HEART_RATE_BODY),
        both.post(PRESSURE),
        both.post({**HEART_RATE_BODY, "note": "resting"}),
        both.post(HEART_RATE_BODY, content_type="application/json; charset=utf-8"),
        both.post(HEART_RATE_BODY, content_type="text/plain"),
        both.post(b"{"),
        both.post(b""),
        both.post(
            b'{"type": "heart_rate", "value": NaN, "unit": "/min",'
            b' "effective_at": "2026-11-25T08:30:00Z"}'
        ),
        both.post({**HEART_RATE_BODY, "value": "62"}),
        both.post({**HEART_RATE_BODY, "extra": 1}),
        both.post({k: v for k, v in HEART_RATE_BODY.items() if k != "unit"}),
        both.post({**HEART_RATE_BODY, "effective_at": "2099-01-01T00:00:00Z"}),
        both.post({**HEART_RATE_BODY, "effective_at": "2026-11-25T08:30:00"}),
        both.post({**HEART_RATE_BODY, "type": "nonsense"}),
        both.post({**HEART_RATE_BODY, "unit": "kg"}),
        both.post({**HEART_RATE_BODY, "value": 9000}),
        both.post({**HEART_RATE_BODY, "note": "x" * 501}),
        both.post({**HEART_RATE_BODY, "note": "nul \u0000 in text"}),
        both.post([HEART_RATE_BODY]),
        both.post(HEART_RATE_BODY, **{CSRF_HEADER: "wrong"}),
    ]
    # Each kind of answer came up: created, refused as invalid, and the CSRF refusal.
    assert {201, 403, 422} <= set(statuses)
    # The direct route took the bodies that validate (nine: the route itself refuses an
    # unknown type, a wrong unit, an implausible value and a NUL character; the caller check
    # the wrong token), FastAPI everything else.
    assert len(answered_directly) == 9


def test_a_body_over_the_limit_is_refused_alike(both: Both) -> None:
    assert both.post(b"[" + b" " * MAX_BODY_BYTES + b"]") == 413  # announced: the guard's

    def chunks() -> Iterator[bytes]:  # no length given: refused while it is read
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    sent = {**both.csrf, "Content-Type": "application/json"}
    direct, fastapi = (
        answer(client, "POST", "/api/observations", content=chunks(), headers=sent)
        for client in both.clients
    )
    assert direct == fastapi and direct[0] == 413


def test_a_client_gone_mid_body_is_answered_alike(
    app: FastAPI, through_fastapi: FastAPI, patient: User, portal: BlockingPortal
) -> None:
    cookie = f"{SESSION_COOKIE}={patient.client.cookies[SESSION_COOKIE]}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/api/observations",
        "raw_path": b"/api/observations",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"200"),
            (b"cookie", cookie.encode()),
            (CSRF_HEADER.lower().encode(), patient.csrf.encode()),
        ],
        "client": ("testclient", 50000),
        "server": ("testserver", 443),
    }

    async def statuses(application: FastAPI) -> list[int]:
        incoming = iter([{"type": "http.request", "body": b'{"type": "hea', "more_body": True}])
        sent: list[int] = []

        async def receive() -> dict[str, Any]:
            return next(incoming, {"type": "http.disconnect"})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])

        await application(dict(scope), receive, send)
        return sent

    assert portal.call(statuses, app) == portal.call(statuses, through_fastapi) == [400]


def test_callers_who_may_not_are_refused_alike(
    app: FastAPI, through_fastapi: FastAPI, direct: Direct
) -> None:
    anonymous = Both(app, through_fastapi, None)
    assert anonymous.same("GET", "/api/observations")[0] == 401
    assert anonymous.post(HEART_RATE_BODY) == 401
    forged = Both(app, through_fastapi, None)
    for client in forged.clients:
        client.cookies.set(SESSION_COOKIE, "not.a.session")
    assert forged.same("GET", "/api/observations")[0] == 401
    admin = Both(app, through_fastapi, sign_up(app, role="admin", direct=direct))
    assert admin.same("GET", "/api/observations")[0] == 403
    assert admin.post(HEART_RATE_BODY) == 403
