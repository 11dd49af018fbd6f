"""`make bench-api`: the API with production settings (uvicorn, 2 workers) against local
PostgreSQL and Redis, driven open-loop at a fixed offered rate; prints throughput and
latency percentiles per scenario, and the API's peak memory during a 100 MB upload.

Open loop: requests start on schedule whether or not earlier ones finished, and latency is
measured from the scheduled start, so a slow server cannot hide its queueing (no
coordinated omission). The generator is asyncio + httpx in one process; at 200 requests/s
it spends well under a core, so the server is what is measured.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from health_platform.api.migrate import migrate
from health_platform.local.postgres import Postgres
from health_platform.local.redis_server import RedisServer

RATE = 200  # requests per second offered
DURATION = 10  # seconds per scenario
UPLOAD_BYTES = 100 * 1024 * 1024
PASSWORD = "benchmark password 1234"  # noqa: S105 - a throwaway account


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Result:
    name: str
    offered: float
    sent: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def row(self) -> str:
        lat = sorted(self.latencies_ms) or [0.0]
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (
            f"{self.name:<28} {self.offered:>7.0f} {self.ok / self.seconds:>9.1f} "
            f"{p50:>8.2f} {p99:>8.2f} {self.errors:>7d}"
        )


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total


def server_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    found = [parent]
    if children.exists():
        for child in children.read_text().split():
            found += server_pids(int(child))
    return found


async def open_loop(name: str, client: httpx.AsyncClient, rate: float, make_request) -> Result:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    start = time.perf_counter()
    total = int(rate * DURATION)

    async def one(index: int) -> None:
        scheduled = start + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        try:
            response = await make_request(client, index)
            good = response.status_code < 400
        except httpx.HTTPError:
            good = False
        latencies.append((time.perf_counter() - scheduled) * 1000)
        counts["ok" if good else "errors"] += 1

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    return Result(name, rate, total, counts["ok"], counts["errors"], elapsed, latencies)


async def scenarios(base: str, server: subprocess.Popen[bytes]) -> list[str]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        email = f"bench-{secrets.token_hex(4)}@example.com"
        await client.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "B"}
        )
        login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        cookie = login.headers["set-cookie"].split(";")[0]
        auth = {"Cookie": cookie, "X-CSRF-Token": login.json()["csrf_token"]}
        body = {
            "type": "heart_rate",
            "value": 62,
            "unit": "/min",
            "effective_at": "2026-11-25T08:30:00Z",
        }
        for _ in range(100):
            await client.post("/api/observations", json=body, headers=auth)
        await client.get("/api/observations", headers=auth)  # warm the cache

        results = [
            await open_loop(
                "observations list, cached",
                client,
                RATE,
                lambda c, i: c.get("/api/observations", headers=auth),
            ),
            await open_loop(
                "observations list, uncached",
                client,
                RATE,
                lambda c, i: c.get(
                    "/api/observations",
                    params={"offset": i % 97 + 1, "limit": 20 + i % 50},
                    headers=auth,
                ),
            ),
            await open_loop(
                "observation create",
                client,
                RATE,
                lambda c, i: c.post("/api/observations", json=body, headers=auth),
            ),
            # Argon2id is deliberately expensive: sign-ins are offered at 20/s.
            await open_loop(
                "login",
                client,
                20,
                lambda c, i: c.post("/api/auth/login", json={"email": email, "password": PASSWORD}),
            ),
        ]
        rows = [r.row() for r in results]

        pids = server_pids(server.pid)
        baseline = rss_kib(pids)
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kib(pids))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()

        async def chunks():  # type: ignore[no-untyped-def]
            block = b"%PDF-1.7\n" + os.urandom(1024 * 1024 - 9)
            yield block
            filler = os.urandom(1024 * 1024)
            for _ in range(UPLOAD_BYTES // len(filler) - 1):
                yield filler

        started = time.perf_counter()
        upload = await client.post(
            "/api/documents",
            params={"filename": "big.pdf"},
            content=chunks(),
            headers={**auth, "Content-Type": "application/octet-stream"},
        )
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        rows.append(
            f"100 MB upload: HTTP {upload.status_code}, {seconds:.2f} s "
            f"({UPLOAD_BYTES / seconds / 1e6:.0f} MB/s); API RSS {baseline / 1024:.0f} MiB before, "
            f"{peak / 1024:.0f} MiB peak: +{(peak - baseline) / 1024:.1f} MiB"
        )
        return rows


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="hp-bench-"))
    root.chmod(0o755)
    postgres = Postgres(root / "postgres" / "data", free_port())
    redis_server = RedisServer(root / "redis", free_port(), secrets.token_hex(16))
    api_port = free_port()
    server = None
    try:
        postgres.init()
        postgres.start()
        postgres.sql("CREATE DATABASE health_platform")
        redis_server.start(persistent=False)
        migrate(postgres.url("health_platform"))
        env = {
            **os.environ,
            "ENVIRONMENT": "bench",
            "DATABASE_URL": postgres.url("health_platform"),
            "REDIS_URL": redis_server.url,
            "STORAGE_PATH": str(root / "uploads"),
            "COOKIE_SECURE": "false",  # plain HTTP on loopback; production keeps it true
            "RATE_PER_ADDRESS": "100000000",
            "RATE_PER_USER": "100000000",
            "LOGIN_RATE": "100000000",
        }
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "uvicorn",
                "health_platform.api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(api_port),
                "--workers",
                "2",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        rows = asyncio.run(scenarios(base, server))
        print(
            f"API benchmark: uvicorn 2 workers, {os.cpu_count()} cores,"
            f" {DURATION} s per scenario, open loop"
        )
        print(
            f"{'scenario':<28} {'offered':>7} {'ok/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        )
        for row in rows:
            print(row)
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        redis_server.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
