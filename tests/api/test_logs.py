"""Logs are JSON lines with a request id, and never carry health data or secrets."""

from __future__ import annotations

import json
import logging

import pytest

from health_platform.api.logs import configure_logging
from tests.api.conftest import HEART_RATE_BODY, PASSWORD, sign_up


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    configure_logging()
    yield capsys
    logging.getLogger().handlers.clear()


def test_logs_carry_request_ids_and_no_secrets_or_health_data(app, json_logs) -> None:  # type: ignore[no-untyped-def]
    user = sign_up(app)
    note = "private symptom description"
    created = user.client.post(
        "/api/observations",
        json={**HEART_RATE_BODY, "value": 173, "note": note},
        headers=user.headers(),
    )
    user.client.post("/api/auth/login", json={"email": user.email, "password": "wrong password"})
    output = json_logs.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [line for line in lines if line.get("message") == "request"]
    assert access and all(line["request_id"] for line in access)
    assert {line["path"] for line in access} >= {"/api/observations", "/api/auth/login"}
    assert any(line.get("event") == "login.failed" for line in lines)  # the security event
    assert any("_aws" in line for line in lines)  # EMF metrics
    for secret in (
        PASSWORD,
        user.email,
        user.csrf,
        user.client.cookies.get("hp_session"),
        note,
        created.json()["id"],
    ):
        assert secret not in output, f"{secret!r} leaked into the logs"
    # The measured value (173) must not be a field of any line. (Its digits alone may well
    # appear in a timestamp or a duration.)
    assert not [
        line
        for line in lines
        if "value" in line or any(v == 173 and type(v) is int for v in line.values())
    ]
