"""A small open-loop HTTP/1.1 load generator on asyncio streams and uvloop.

Why not httpx: on this 2-core machine its client spends about 4 ms of CPU per request,
so at 200 requests/s it took most of a core from the server it was measuring. This one
writes a prepared request and reads the response by Content-Length over keep-alive
connections: well under a millisecond per request, and it reports its own CPU so the
reader can see it is not the bottleneck.

Open loop: requests start on schedule whether or not earlier ones finished, and latency
is measured from the scheduled start, so a slow server cannot hide its queueing (no
coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """Keep-alive connections to a set of servers (ports of one host), as a load balancer
    keeps them to its targets: new connections go to the targets in turn, and a request
    takes the longest-idle connection (or opens one when none is idle), so requests are
    spread evenly over the targets."""

    host: str
    ports: list[int]
    idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=deque)
    opened: int = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        json_body: Any = None,
        stream: AsyncIterator[bytes] | None = None,
        length: int | None = None,
    ) -> Response:
        sent = {"Host": self.host, **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        sent["Content-Length"] = str(length if stream is not None else len(body))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in sent.items())
        request = head.encode() + b"\r\n" + body
        # A streamed body cannot be sent twice, so it never risks a stale connection.
        reused = bool(self.idle) and stream is None
        reader, writer = await (self._connection() if stream is None else self._new_connection())
        try:
            response = await _exchange(reader, writer, request, stream)
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            if not reused:
                raise
            # The server closed an idle keep-alive connection: retry once on a new one, as
            # any HTTP client does (only bodies we can send again).
            reader, writer = await self._new_connection()
            response = await _exchange(reader, writer, request, None)
        except BaseException:
            writer.close()
            raise
        if response.headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer))
        return response

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle:
            return self.idle.popleft()
        return await self._new_connection()

    async def _new_connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        port = self.ports[self.opened % len(self.ports)]
        self.opened += 1
        return await asyncio.open_connection(self.host, port)

    async def open(self, per_target: int) -> None:
        """Open connections up front, as a load balancer's warm pool would have."""
        for _ in range(per_target * len(self.ports)):
            self.idle.append(await self._new_connection())

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: bytes,
    stream: AsyncIterator[bytes] | None,
) -> Response:
    writer.write(request)
    if stream is not None:
        async for chunk in stream:
            writer.write(chunk)
            await writer.drain()
    return await _read_response(reader)


async def _read_response(reader: asyncio.StreamReader) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            # Several Set-Cookie lines: keep them all, joined as a browser would list them.
            headers[key] = f"{headers[key]}\n{value.strip()}" if key in headers else value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Response(int(status_line.split()[1]), headers, body)


@dataclass
class Result:
    name: str
    offered: float
    sent: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    generator_cpu_ms: float

    def row(self) -> str:
        lat = sorted(self.latencies_ms) or [0.0]
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (
            f"{self.name:<28} {self.offered:>7.0f} {self.ok / self.seconds:>7.1f} "
            f"{p50:>7.2f} {p99:>8.2f} {self.errors:>6d} {self.generator_cpu_ms:>8.2f}"
        )


HEADER = (
    f"{'scenario':<28} {'offered':>7} {'ok/s':>7} {'p50 ms':>7} {'p99 ms':>8} {'errors':>6}"
    f" {'gen ms':>8}"
)


async def open_loop(name: str, rate: float, seconds: float, send: Callable[[int], Any]) -> Result:
    """Start `send(i)` at `rate` per second for `seconds`; `send` returns a Response."""
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    total = int(rate * seconds)
    cpu_before = time.process_time()
    start = time.perf_counter()

    async def one(index: int, scheduled: float) -> None:
        try:
            good = (await send(index)).status < 400
        except (OSError, asyncio.IncompleteReadError, ValueError):
            good = False
        latencies.append((time.perf_counter() - scheduled) * 1000)
        counts["ok" if good else "errors"] += 1

    # Each request is started when its time comes. (Creating every request's task up front
    # cost the generator tens of milliseconds in the first loop turn, which the first
    # requests' latencies then carried.)
    in_flight = []
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        in_flight.append(asyncio.create_task(one(index, scheduled)))
    await asyncio.gather(*in_flight)
    elapsed = time.perf_counter() - start
    generator_ms = (time.process_time() - cpu_before) * 1000 / max(total, 1)
    return Result(
        name, rate, total, counts["ok"], counts["errors"], elapsed, latencies, generator_ms
    )
