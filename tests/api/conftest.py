"""The API against real PostgreSQL 15 and Redis 7, started once per test session on free
ports of 127.0.0.1 in a temporary folder, and stopped at the end.

The API is asyncio throughout, and its PostgreSQL and Redis pools belong to the event loop
that opened their connections; a TestClient would start a loop per request. So every
TestClient here runs on one shared loop (`app.state.portal`). Tests look at the database
and Redis behind the API's back through plain synchronous clients (`Direct`)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from fastapi.testclient import TestClient

from health_platform.api.app import build_services, create_app
from health_platform.contract import API_HTTP_PROTOCOL, ApiSettings
from health_platform.local.ports import free_port
from tests.conftest import Direct

HEART_RATE_BODY = {
    "type": "heart_rate",
    "value": 62,
    "unit": "/min",
    "effective_at": "2026-11-25T08:30:00Z",
}
PASSWORD = "correct horse battery staple"  # noqa: S105 - a test account's password


@pytest.fixture(scope="session")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal(backend_options={"use_uvloop": True}) as shared:
        yield shared


def make_app(settings: ApiSettings, portal: BlockingPortal) -> FastAPI:
    """The API with its services built (no lifespan runs under TestClient) and the loop
    its clients share."""
    application = create_app(settings)
    application.state.services = build_services(settings)
    application.state.portal = portal
    return application


@pytest.fixture(scope="session")
def app(settings: ApiSettings, portal: BlockingPortal) -> Iterator[FastAPI]:
    application = make_app(settings, portal)  # shared; each client has its own cookies
    yield application
    portal.call(application.state.services.close)


def client_for(app: FastAPI, *, address: str = "testclient", **headers: str) -> TestClient:
    """A client of `app` whose requests come from `address` (the TCP peer the API sees)."""
    client = TestClient(
        app, base_url="https://testserver", headers=headers or None, client=(address, 50000)
    )
    client.portal = app.state.portal  # the shared loop (see the module's docstring)
    return client


@dataclass
class User:
    client: TestClient
    id: str
    email: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}


@contextmanager
def serve(settings: ApiSettings) -> Iterator[str]:
    """The API served by uvicorn on a free port of 127.0.0.1, in a thread with its own
    loop (its lifespan builds the services); yields the base URL."""
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=free_port(),
        log_level="warning",
        http=API_HTTP_PROTOCOL,  # as the container and the local platform run it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def anonymous(app: FastAPI) -> TestClient:
    # https: the session cookie is Secure and would not be sent over plain http.
    return client_for(app)


def sign_up(app: FastAPI, *, role: str = "patient", direct: Direct | None = None) -> User:
    client = client_for(app)
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    created = client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Test"}
    )
    assert created.status_code == 201, created.text
    signed_in = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    user_id = signed_in.json()["user"]["id"]
    if role != "patient":
        assert direct is not None
        with direct.session() as session:
            from health_platform.api.models import User as UserRow

            session.get(UserRow, uuid.UUID(user_id)).role = role  # type: ignore[union-attr]
        signed_in = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
    return User(client, user_id, email, signed_in.json()["csrf_token"])


@pytest.fixture
def patient(app: FastAPI) -> User:
    return sign_up(app)


@pytest.fixture
def other_patient(app: FastAPI) -> User:
    return sign_up(app)
