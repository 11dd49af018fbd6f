"""Examples for the OpenAPI schema: one per request and response body, so the documentation
(/docs) shows a real-looking exchange for every operation."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

USER_ID = "5f0c6a4e-8a43-4c1e-9d8a-2f4b1e7c9a10"
OBSERVATION = {
    "id": "0b7e4c1a-3d52-4f7e-a0c4-6f1d9e2b8c35",
    "type": "heart_rate",
    "loinc": "8867-4",
    "value": 62.0,
    "components": None,
    "unit": "/min",
    "effective_at": "2026-11-25T08:30:00Z",
    "note": "resting",
}
DOCUMENT = {
    "id": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
    "filename": "blood-panel-2026-11.pdf",
    "content_type": "application/pdf",
    "size_bytes": 184_320,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "created_at": "2026-11-25T09:12:44Z",
}
USER = {
    "id": USER_ID,
    "email": "ada@example.com",
    "display_name": "Ada",
    "role": "patient",
    "mfa_enabled": False,
    "email_verified": True,
    "units": {"mass": "kg", "temperature": "C", "glucose": "mg/dL"},
    "deletion_due_at": None,
}
ADMIN_USER_VIEW = {
    **USER,
    "locked": False,
    "created_at": "2026-11-01T10:00:00Z",
    "last_sign_in_at": "2026-11-25T08:29:41Z",
}
AUDIT_RECORD = {
    "id": 4711,
    "at": "2026-11-25T09:13:02Z",
    "actor_id": USER_ID,
    "action": "observation.read",
    "resource_type": "observation",
    "resource_id": OBSERVATION["id"],
    "outcome": "success",
    "client_address": "203.0.113.7",
    "request_id": "4f9a1c0e8b7d4e2a9c3f5b6d7e8f9a0b",
    "actor_email": USER["email"],
    "actor_name": USER["display_name"],
    "what": "Read a measurement",
    "subject_name": USER["display_name"],
    "subject_email": USER["email"],
}


def example(
    value: dict[str, Any], *, forbid_extra: bool = False, strip_whitespace: bool = False
) -> ConfigDict:
    """A model's config with `value` as its schema example."""
    config = ConfigDict(json_schema_extra={"examples": [value]})
    if forbid_extra:
        config["extra"] = "forbid"
    if strip_whitespace:
        config["str_strip_whitespace"] = True
    return config


def json_response(value: Any) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that returns plain JSON rather than a model."""
    return {200: {"content": {"application/json": {"example": value}}}}
