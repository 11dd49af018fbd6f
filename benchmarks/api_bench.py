"""`make bench-api`: the API with production settings against local PostgreSQL and Redis (run
as the local platform runs them, local.data_servers),
as two processes the way two ECS tasks run behind the load balancer, driven open-loop at a
fixed offered rate (see loadgen.py). Prints throughput, latency percentiles and CPU per
request (the servers' and the generator's) for each scenario, and the API's peak memory
during a 100 MB upload."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import uvloop

from benchmarks.loadgen import HEADER, Client, Response, open_loop
from benchmarks.saturation import CONNECTIONS, Scenario, saturate, wrk_binary
from benchmarks.saturation import HEADER as SATURATION_HEADER
from benchmarks.saturation import SECONDS as SATURATION_SECONDS
from health_platform.api.migrate import migrate
from health_platform.contract import API_HTTP_PROTOCOL
from health_platform.local.data_servers import DataServers, data_servers
from health_platform.local.ports import free_port

RATE = 200  # requests per second offered
# Argon2id is deliberately expensive: about 0.13 s of CPU per sign-in here, so 2 cores
# top out near 15 sign-ins/s; offered well below that, the latency is the hash's.
LOGIN_RATE = 5
DURATION = 10  # seconds per scenario
SETTLE_SECONDS = 3  # pause before each scenario
WARMUP_SECONDS = 2  # then this long at the scenario's rate, not measured
API_PROCESSES = 2  # like two ECS tasks behind the load balancer: one per core here
WARM_CONNECTIONS = 8  # per API process, opened before the first scenario
UPLOAD_BYTES = 100 * 1024 * 1024
OVERSIZED_BYTES = 60 * 1024 * 1024  # the campaign's sign-in bodies
OVERSIZED_AT_ONCE = 6
PASSWORD = "benchmark password 1234"  # noqa: S105 - a throwaway account


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss // 1024
        except psutil.NoSuchProcess:
            continue
    return total


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


async def measured(
    pids: list[int], name: str, rate: float, send: Callable[[int], Awaitable[Response]]
) -> str:
    """One scenario's row, with the servers' CPU per request appended. It starts after a
    pause, so the work one scenario leaves behind (PostgreSQL's autovacuum of thousands of
    new rows, for one) does not land in the next, and after a warm-up at the same rate that
    is not measured (connection pools fill, statements get prepared)."""
    await asyncio.sleep(SETTLE_SECONDS)
    await open_loop(name, rate, WARMUP_SECONDS, send)
    before = cpu_seconds(pids)
    result = await open_loop(name, rate, DURATION, send)
    server_ms = (cpu_seconds(pids) - before) * 1000 / max(result.sent, 1)
    return f"{result.row()} {server_ms:>9.2f}"


async def scenarios(client: Client, pids: list[int]) -> tuple[list[str], list[str]]:
    await client.open(WARM_CONNECTIONS)
    email = f"bench-{secrets.token_hex(4)}@example.com"
    account = {"email": email, "password": PASSWORD}
    await client.request("POST", "/api/auth/register", json_body={**account, "display_name": "B"})
    login = await client.request("POST", "/api/auth/login", json_body=account)
    cookie = login.headers["set-cookie"].split(";")[0]
    auth = {"Cookie": cookie, "X-CSRF-Token": login.json()["csrf_token"]}
    body = {
        "type": "heart_rate",
        "value": 62,
        "unit": "/min",
        "effective_at": "2026-11-25T08:30:00Z",
    }
    for _ in range(100):
        await client.request("POST", "/api/observations", json_body=body, headers=auth)

    def page(i: int) -> Awaitable[Response]:  # a different page each time: never cached
        path = f"/api/observations?offset={i % 97 + 1}&limit={20 + i % 50}"
        return client.request("GET", path, headers=auth)

    plan: list[tuple[str, float, Callable[[int], Awaitable[Response]]]] = [
        (
            "observations list, cached",
            RATE,
            lambda i: client.request("GET", "/api/observations", headers=auth),
        ),
        ("observations list, uncached", RATE, page),
        (
            "observation create",
            RATE,
            lambda i: client.request("POST", "/api/observations", json_body=body, headers=auth),
        ),
        (
            "login",
            LOGIN_RATE,
            lambda i: client.request("POST", "/api/auth/login", json_body=account),
        ),
    ]
    rows = [await measured(pids, name, rate, send) for name, rate, send in plan]
    rows.append(await upload(client, auth, pids))
    client.close()
    return rows, saturated(client.ports, pids, auth, body)


def saturated(
    ports: list[int], pids: list[int], auth: dict[str, str], body: dict[str, object]
) -> list[str]:
    """The cached list, an uncached list and a create, closed loop (saturation.py)."""
    plan = [
        Scenario("observations list, cached", "GET", "/api/observations", auth),
        Scenario(
            "observations list, uncached",
            "GET",
            '"/api/observations?offset=" .. (sent % 97 + 1) .. "&limit=" .. (20 + sent % 50)',
            auth,
            varying=True,
        ),
        Scenario(
            "observation create",
            "POST",
            "/api/observations",
            {**auth, "Content-Type": "application/json"},
            body=json.dumps(body),
        ),
    ]
    rows = []
    for scenario in plan:
        time.sleep(SETTLE_SECONDS)
        rows.append(saturate(scenario, ports, lambda: cpu_seconds(pids)).row(scenario.name))
    return rows


@dataclass
class Memory:
    """Resident memory of some processes (KiB): before a piece of work, and its peak."""

    baseline: int
    peak: int

    def line(self) -> str:
        return (
            f"API RSS {self.baseline / 1024:.0f} MiB before, {self.peak / 1024:.0f} MiB peak:"
            f" +{(self.peak - self.baseline) / 1024:.1f} MiB"
        )


@contextmanager
def peak_memory(pids: list[int]) -> Iterator[Memory]:
    """`pids`' resident memory sampled every 10 ms while the block runs."""
    memory = Memory(rss_kib(pids), rss_kib(pids))
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            memory.peak = max(memory.peak, rss_kib(pids))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield memory
    finally:
        done.set()
        sampler.join()


async def upload(client: Client, auth: dict[str, str], pids: list[int]) -> str:
    """One 100 MB document, streamed; the API's resident memory sampled every 10 ms."""

    async def chunks() -> AsyncIterator[bytes]:
        block = b"%PDF-1.7\n" + os.urandom(1024 * 1024 - 9)
        yield block
        filler = os.urandom(1024 * 1024)
        for _ in range(UPLOAD_BYTES // len(filler) - 1):
            yield filler

    started = time.perf_counter()
    with peak_memory(pids) as memory:
        response: Response = await client.request(
            "POST",
            "/api/documents?filename=big.pdf",
            headers={**auth, "Content-Type": "application/octet-stream"},
            stream=chunks(),
            length=UPLOAD_BYTES,
        )
    seconds = time.perf_counter() - started
    return (
        f"100 MB upload: HTTP {response.status}, {seconds:.2f} s "
        f"({UPLOAD_BYTES / seconds / 1e6:.0f} MB/s); {memory.line()}"
    )


async def oversized_bodies(base_url: str, pids: list[int]) -> str:
    """OVERSIZED_AT_ONCE sign-ins of OVERSIZED_BYTES each, sent at once without a length
    (chunked: the API cannot refuse them by their header), the API's memory sampled every
    10 ms: the body limit must cut each at 1 MB, leaving memory flat (unbounded, six 60 MB
    sign-ins took a worker from 240 to 554 MB)."""

    async def body() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "password": "'
        chunk = b"x" * (64 * 1024)
        for _ in range(OVERSIZED_BYTES // len(chunk)):
            yield chunk

    async def send(client: httpx.AsyncClient) -> str:
        try:
            response = await client.post(
                "/api/auth/login", content=body(), headers={"Content-Type": "application/json"}
            )
            return str(response.status_code)
        except httpx.HTTPError as cut:  # the API answered and closed while we still sent
            return type(cut).__name__

    with peak_memory(pids) as memory:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            answers = await asyncio.gather(*(send(client) for _ in range(OVERSIZED_AT_ONCE)))
    return (
        f"{OVERSIZED_AT_ONCE} x {OVERSIZED_BYTES // 2**20} MB chunked sign-ins at once: answers"
        f" {sorted(answers)}; {memory.line()}"
    )


def api_environment(backing: DataServers, root: Path) -> dict[str, str]:
    """The API's settings against `backing`, its limits out of the way of the load."""
    return {
        **os.environ,
        "ENVIRONMENT": "bench",
        "DATABASE_URL": backing.database_url("runtime"),
        "REDIS_URL": backing.redis_url,
        "SESSION_SECRET": secrets.token_hex(32),
        "STORAGE_PATH": str(root / "uploads"),
        "COOKIE_SECURE": "false",  # plain HTTP on loopback; production keeps it true
        "RATE_PER_ADDRESS": "100000000",
        "RATE_PER_USER": "100000000",
        "LOGIN_RATE": "100000000",
    }


def start_api(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """One API process as the container runs it (one uvicorn worker per ECS task)."""
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "uvicorn",
            "health_platform.api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            API_HTTP_PROTOCOL,  # as the container runs it
            "--no-proxy-headers",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the API on port {port} did not become ready")


def main() -> int:
    wrk_binary()  # before anything starts: the saturation scenarios need it
    root = Path(tempfile.mkdtemp(prefix="hp-bench-"))
    ports = [free_port() for _ in range(API_PROCESSES)]
    servers: list[subprocess.Popen[bytes]] = []
    stack = ExitStack()  # PostgreSQL and Redis: stopped after the API processes
    try:
        backing = stack.enter_context(data_servers(root))
        migrate(backing.database_url("owner"))
        env = api_environment(backing, root)
        servers = [start_api(port, env) for port in ports]
        for port in ports:
            wait_ready(port)
        client = Client("127.0.0.1", ports)
        rows, saturated_rows = uvloop.run(scenarios(client, [server.pid for server in servers]))
        print(
            f"API benchmark: {API_PROCESSES} API processes (uvicorn, 1 worker each, as ECS"
            f" tasks), requests spread over them in turn; {os.cpu_count()} cores shared with"
            f" PostgreSQL, Redis and the generator; {DURATION} s per scenario, open loop."
            " CPU columns: ms per request."
        )
        print(f"{HEADER} {'server ms':>9}")
        for row in rows:
            print(row)
        print(
            f"\nAt saturation: wrk, {CONNECTIONS} connections spread over the {API_PROCESSES}"
            f" processes, {SATURATION_SECONDS} s after a warm-up; latency: the slower process's."
        )
        print(SATURATION_HEADER)
        for row in saturated_rows:
            print(row)
        api = [servers[0].pid]
        print(uvloop.run(oversized_bodies(f"http://127.0.0.1:{ports[0]}", api)))
        return 0
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
        stack.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
