"""The OpenAPI schema with the errors each operation can answer, in the one error shape.

FastAPI lists only the statuses a route declares; a client generated from that schema knew
of no 401, 413, 422, 429 or 503. Here every operation under /api gets the statuses any of
them can answer, the gated ones those of the gate too, and every error response the
`ErrorBody` schema, so the route-level descriptions (which say *when*) keep their words."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from health_platform.api import examples


class ErrorDetail(BaseModel):
    field: str
    problem: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]
    request_id: str | None


class ErrorBody(BaseModel):
    model_config = examples.example(
        {
            "error": {
                "code": "invalid_request",
                "message": "The request is not valid.",
                "details": [{"field": "email", "problem": "value is not a valid email address"}],
                "request_id": "5bb8a5fb923b41f083eb78876b719f58",
            }
        }
    )

    error: ErrorInfo


# What any operation of the API can answer, and what the gate adds to the routes behind it.
EVERY_OPERATION = {
    "413": "The request body is too large",
    "422": "The request is not valid (`details` names each field and its problem)",
    "429": "Too many requests; see Retry-After",
    "503": "A dependency is unavailable or the database is read-only; see Retry-After",
}
SIGNED_IN = {
    "401": "Not signed in, or the session expired",
    "403": "Not allowed: a missing or wrong CSRF token, or the wrong role",
}
# Operations a caller reaches without a session.
ANONYMOUS = {"/api/auth/register", "/api/auth/login", "/api/auth/invitations/accept"}


def schema_with_errors(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        error_body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_body.pop("$defs"))
        schemas["ErrorBody"] = error_body
        for path, operations in spec["paths"].items():
            if path.startswith("/api/"):
                for operation in operations.values():
                    _document_errors(operation, path in ANONYMOUS)
        app.openapi_schema = spec
    return app.openapi_schema


def _document_errors(operation: dict[str, Any], anonymous: bool) -> None:
    responses = operation.setdefault("responses", {})
    for status, description in {**EVERY_OPERATION, **({} if anonymous else SIGNED_IN)}.items():
        responses.setdefault(status, {"description": description})
    for status, response in responses.items():
        if status[0] in "45":
            # FastAPI's own 422 schema is not the shape the API answers with.
            response["content"] = {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
            }


def install(app: FastAPI) -> None:
    app.openapi = lambda: schema_with_errors(app)  # type: ignore[method-assign]
