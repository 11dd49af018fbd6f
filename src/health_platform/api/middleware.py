"""Per-request context as plain ASGI middleware (no per-request task or body copy): the
request id, the request's line (access log and per-route metrics, see metrics.py), and
no-store on API responses."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from health_platform.api import metrics
from health_platform.api.request_context import request_id

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContext:
    def __init__(self, app: ASGIApp, *, environment: str) -> None:
        self.app = app
        self.environment = environment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode() for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(16)
        token = request_id.set(rid)
        is_api = scope["path"].startswith("/api")
        status = 500
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                if is_api:
                    headers["Cache-Control"] = "no-store"  # health data is never cached downstream
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route: Any = scope.get("route")
            metrics.request_line(
                environment=self.environment,
                request_id=rid,
                method=scope["method"],
                route=getattr(route, "path", "unmatched"),  # the template: no ids in logs
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                with_metrics=is_api,
            )
            request_id.reset(token)
