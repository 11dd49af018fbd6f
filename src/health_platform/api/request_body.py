"""What a request body may be, as plain ASGI middleware around `receive`: not too large, and
not too slow.

**Size.** Every route but the upload takes JSON, and FastAPI reads a JSON body whole before a
route runs: unbounded, six 60 MB sign-ins grew a worker from 240 to 554 MB (a development
task has 512). A body announced larger than the limit (Content-Length) is refused with 413
before a byte of it is read; one sent without a length (chunked) as soon as what arrived
passes the limit. The upload routes (contract.LARGE_BODY_ROUTES) stream to storage under
their own limit, and discard what they stored when refused (api/routes/documents.py).
(FastAPI's own `max_body_size` answers in plain text, past the API's error handlers.)

**Pace.** The ALB's idle timeout restarts with every byte, so a client trickling a byte every
few seconds would hold a connection, a task and an open upload as long as it liked. Every
body, an upload's too, must bring `min_bytes_per_second` times `window_seconds` in each
window (a stall and a trickle alike), or is cut with 408. A window starts when the previous
one's quota is met, so a fast start earns no slack for a later stall.

Both refusals are raised inside the route's body read, where the error handlers answer them
(api/errors.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from health_platform.api.errors import ApiError, error_response


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"The request body may be at most {limit // 1024} KB.",
        headers={"Connection": "close"},  # the rest of the body is never read
    )


def too_slow(window_seconds: float, min_bytes_per_second: int) -> ApiError:
    return ApiError(
        408,
        "too_slow",
        f"The request body arrived too slowly (under {min_bytes_per_second} bytes a second"
        f" over {window_seconds:g} s); send it again.",
        headers={"Connection": "close"},
    )


class RequestBodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        exempt: Collection[tuple[str, str]],
        window_seconds: float,
        min_bytes_per_second: int,
    ) -> None:
        self.app = app
        self.limit = limit
        self.exempt = frozenset(exempt)
        self.window_seconds = window_seconds
        self.min_bytes_per_second = min_bytes_per_second

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = None if (scope["method"], scope["path"]) in self.exempt else self.limit
        announced = _content_length(scope)
        if limit is not None and announced is not None and announced > limit:
            refusal = too_large(limit)
            response = error_response(
                refusal.status, refusal.code, refusal.message, headers=refusal.headers
            )
            await response(scope, receive, send)
            return
        await self.app(scope, self._guarded(receive, limit), send)

    def _guarded(self, receive: Receive, limit: int | None) -> Receive:
        loop = asyncio.get_running_loop()
        quota = self.window_seconds * self.min_bytes_per_second
        deadline = loop.time() + self.window_seconds
        in_window = total = 0
        body_done = False

        async def guarded() -> Message:
            nonlocal deadline, in_window, total, body_done
            if body_done:  # after the body, receive waits for a disconnect: no pace to keep
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise too_slow(self.window_seconds, self.min_bytes_per_second) from None
            if message["type"] != "http.request":
                return message
            size = len(message.get("body", b""))
            total += size
            in_window += size
            body_done = not message.get("more_body", False)
            if limit is not None and total > limit:
                raise too_large(limit)
            if in_window >= quota:
                deadline, in_window = loop.time() + self.window_seconds, 0
            return message

        return guarded


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None
