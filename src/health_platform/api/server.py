"""uvicorn's HTTP protocol (httptools) with a deadline for each request's header: uvicorn has
none, so a client that trickles a header a byte every few seconds held a connection for as
long as it liked. The whole header must arrive within REQUEST_HEADER_SECONDS of its first
byte, or the connection is closed, as nginx's client_header_timeout does at the balancer.
(A body's pace is the API's own, api/request_body.py.)

uvicorn loads it by import string (`--http`, contract.API_HTTP_PROTOCOL), in the container's
command, the local platform's and the tests' servers."""

from __future__ import annotations

from asyncio import TimerHandle

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from health_platform.contract import REQUEST_HEADER_SECONDS


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _header_deadline: TimerHandle | None = None

    def on_message_begin(self) -> None:
        # A request's first byte (on a new connection or a kept-alive one): the clock starts.
        super().on_message_begin()
        self._disarm()
        self._header_deadline = self.loop.call_later(REQUEST_HEADER_SECONDS, self._too_slow)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        self.logger.info("closed a connection whose request header came too slowly")
        self.transport.close()
