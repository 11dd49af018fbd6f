"""The busiest operations served without FastAPI's routing and dependency resolution, which
were 40% of a cached list's CPU at saturation (issue 18: 0.67-0.74 ms per request through
FastAPI, 0.41 ms without).

A direct route takes only the requests it can answer exactly as its FastAPI route would:
the same dependencies called in the same order (the gate, then the caller), the same route
function, its errors answered by the app's own exception handlers. Every other request (a
query parameter to check, a body that does not validate, another content type) goes to
FastAPI, which answers it as it always did; a body already read is handed over as it came.
The FastAPI routes stay the API's definition and its OpenAPI schema; tests send the same
requests to both ways and compare the bytes (tests/api/test_direct_routes.py).

Plain ASGI middleware, inside the request context and the body guard (app.py), so the
request id, the access line and the body's limits are theirs."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from health_platform.api.data.pages import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from health_platform.api.deps import gate, patient_caller, services, services_of
from health_platform.api.routes import observations

# Answers a request, or None: FastAPI's to answer.
Handler = Callable[[Request], Awaitable[Response | None]]

_NUMBER = re.compile(r"0|[1-9][0-9]{0,6}")  # a plain count: no sign, space or leading zero


def _page(query: bytes) -> tuple[int, int] | None:
    """`limit` and `offset` as the list route takes them, when the query has nothing else
    and both are plain numbers in range; None for anything FastAPI must check."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    found: dict[str, int] = {}
    for name, value in pairs:
        if name not in ("limit", "offset") or name in found or not _NUMBER.fullmatch(value):
            return None
        found[name] = int(value)
    limit, offset = found.get("limit", DEFAULT_LIMIT), found.get("offset", 0)
    if not (1 <= limit <= MAX_LIMIT and 0 <= offset <= MAX_OFFSET):
        return None
    return limit, offset


async def list_observations(request: Request) -> Response | None:
    page = _page(request.scope["query_string"])
    if page is None:
        return None
    limit, offset = page
    session = await gate(request)
    caller = await patient_caller(request, session)
    deps = services_of(request)
    return await observations.list_observations(caller, deps, limit=limit, offset=offset)  # type: ignore[no-any-return]


async def create_observation(request: Request) -> Response | None:
    if request.headers.get("content-type") != "application/json":
        return None
    try:
        body = observations.ObservationIn.model_validate_json(await request.body())
    except (ValidationError, ClientDisconnect):  # FastAPI's to answer (a client gone: 400)
        return None
    session = await gate(request)
    caller = await patient_caller(request, session)
    return await observations.create(body, caller, services_of(request))  # type: ignore[no-any-return]


# The dependencies the direct routes resolve themselves (the gate, the caller, services):
# a FastAPI route that gains another would be answered without it, so DirectRoutes
# refuses to start.
RESOLVED = frozenset({gate, patient_caller, services})

ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/api/observations"): list_observations,
    ("POST", "/api/observations"): create_observation,
}


class DirectRoutes:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: dict[tuple[str, str], Handler],
        routers: Sequence[APIRouter],
    ) -> None:
        """`routers`: the API's, whose routes the direct ones stand for."""
        self.app = app
        self.routes = routes
        self.api_routes = {
            (method, route.path): route
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute)
            for method in route.methods or ()
            if (method, route.path) in routes
        }
        missing = set(routes) - set(self.api_routes)
        if missing:
            raise RuntimeError(f"direct routes with no FastAPI route: {sorted(missing)}")
        for key, route in self.api_routes.items():
            if _dependencies(route.dependant) != RESOLVED:
                raise RuntimeError(f"the FastAPI route {key} has dependencies the direct one lacks")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = (scope["method"], scope["path"]) if scope["type"] == "http" else None
        handler = self.routes.get(key) if key else None
        if key is None or handler is None:
            await self.app(scope, receive, send)
            return
        # As FastAPI's routing would: the access line and the audit records name the route.
        scope["route"] = self.api_routes[key]
        received = _Received(receive)
        request = Request(scope, received)
        try:
            response = await handler(request)
        except Exception as error:  # answered by the app's handler of its kind, as FastAPI does
            response = await _answer(scope["app"], request, error)
        if response is None:
            await self.app(scope, received.replay, send)
            return
        await response(scope, receive, send)


def _dependencies(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.add(sub.call)
        found |= _dependencies(sub)
    return found


async def _answer(fastapi: FastAPI, request: Request, error: Exception) -> Response:
    """The answer of the app's handler for `error`'s kind, as FastAPI's exception middleware
    gives it; an error only the catch-all handler knows (a bug) goes on up, to be answered
    and its traceback logged as any other route's."""
    for kind in type(error).__mro__:
        if kind is Exception:
            break
        handler: Any = fastapi.exception_handlers.get(kind)
        if handler is not None:
            return await handler(request, error)  # type: ignore[no-any-return]
    raise error


class _Received:
    """A connection's `receive` that keeps what it delivered, so a request a direct route
    read (its body) can be handed to FastAPI as it came: `replay` gives those messages
    again, then the connection's own."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._delivered: deque[Message] = deque()

    async def __call__(self) -> Message:
        message = await self._receive()
        self._delivered.append(message)
        return message

    async def replay(self) -> Message:
        if self._delivered:
            return self._delivered.popleft()
        return await self._receive()
