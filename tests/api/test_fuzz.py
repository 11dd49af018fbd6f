"""Schema-driven fuzzing of the OpenAPI schema (schemathesis): whatever a client sends, the
API never answers 5xx. Runs signed in as a patient (with the CSRF token), so generated
requests reach the handlers instead of stopping at 401.

Served by uvicorn on 127.0.0.1 (see `serve`) and driven through hypothesis directly:
schemathesis's pytest plugin does not load under this pytest version."""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings

from health_platform.contract import OPENAPI_PATH, ApiSettings
from tests.api.conftest import PASSWORD, serve

EXAMPLES_PER_OPERATION = 20
# Ending the session would leave every later operation at 401; these take no input anyway.
SKIPPED = {"/api/auth/logout", "/api/account/sessions/sign-out-everywhere"}


def signed_in(base_url: str) -> tuple[dict[str, str], str]:
    """A new patient's session cookie and CSRF token."""
    with httpx.Client(base_url=base_url) as client:
        email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
        account = {"email": email, "password": PASSWORD}
        client.post("/api/auth/register", json={**account, "display_name": "Fuzz"})
        login = client.post("/api/auth/login", json=account)
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].split(";")[0].split("=", 1)
        return {cookie[0]: cookie[1]}, login.json()["csrf_token"]


def test_no_client_input_causes_a_server_error(settings: ApiSettings) -> None:
    # A real server on 127.0.0.1: the app's asyncio pools live on uvicorn's loop.
    with serve(settings) as base_url:
        fuzz(base_url)


def fuzz(base_url: str) -> None:
    cookies, csrf = signed_in(base_url)
    schema = schemathesis.openapi.from_url(base_url + OPENAPI_PATH)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers={"X-CSRF-Token": csrf}, cookies=cookies, base_url=base_url)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        exercise()
    assert operations >= 20
    # The session held: requests reached the handlers, not just the sign-in wall.
    assert sum(n for status, n in statuses.items() if status < 300) > 50, statuses
    assert not failures, "\n".join(failures[:10])
