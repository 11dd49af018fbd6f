"""The OpenAPI schema with the errors each operation can answer, in the one error shape.

FastAPI lists only the statuses a route declares; a client generated from that schema knew
of no 401, 413, 422, 429 or 503. Here every operation under /api gets the statuses any of
them can answer, the gated ones those of the gate too, and every error response the
`ErrorBody` schema, so the route-level descriptions (which say *when*) keep their words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from health_platform.api import examples
from health_platform.api.deps import CALLERS


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


def schema_with_errors(
    app: FastAPI, routers: Sequence[APIRouter], listed: Sequence[APIRouter]
) -> dict[str, Any]:
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        spec["paths"] = _in_order(spec["paths"], listed)
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        error_body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_body.pop("$defs"))
        schemas["ErrorBody"] = error_body
        gated = _signed_in_operations(routers)
        for path, operations in spec["paths"].items():
            if path.startswith("/api/"):
                for method, operation in operations.items():
                    _document_errors(operation, signed_in=(method.upper(), path) in gated)
        app.openapi_schema = spec
    return app.openapi_schema


def _signed_in_operations(routers: Sequence[APIRouter]) -> set[tuple[str, str]]:
    """(method, path) of every operation whose dependencies include the signed-in caller."""
    return {
        (method, route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and _needs(route.dependant, CALLERS)
        for method in route.methods or ()
    }


def _needs(dependant: Dependant, dependencies: Sequence[Callable[..., Any]]) -> bool:
    return any(
        sub.call in dependencies or _needs(sub, dependencies) for sub in dependant.dependencies
    )


def _document_errors(operation: dict[str, Any], *, signed_in: bool) -> None:
    responses = operation.setdefault("responses", {})
    for status, description in {**EVERY_OPERATION, **(SIGNED_IN if signed_in else {})}.items():
        responses.setdefault(status, {"description": description})
    for status, response in responses.items():
        if status[0] in "45":
            # FastAPI's own 422 schema is not the shape the API answers with.
            response["content"] = {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
            }


def _in_order(paths: dict[str, Any], listed: Sequence[APIRouter]) -> dict[str, Any]:
    """`paths` in the order of `listed`'s routes (the app matches its routes in another)."""
    position: dict[str, int] = {}
    for router in listed:
        for route in router.routes:
            position.setdefault(getattr(route, "path", ""), len(position))
    return dict(sorted(paths.items(), key=lambda item: position.get(item[0], len(position))))


def install(app: FastAPI, routers: Sequence[APIRouter], *, listed: Sequence[APIRouter]) -> None:
    """`routers`: those of the API's operations, whose routes tell who must be signed in;
    `listed`: every router, in the order the schema lists their operations."""
    app.openapi = lambda: schema_with_errors(app, routers, listed)  # type: ignore[method-assign]
