"""Before and after: the saturation scenarios of `make bench-api` (saturation.py) for the API
of an earlier commit and of the working tree, in turns, on the same PostgreSQL and Redis,
so both meet the same machine (a shared one drifts). Each turn starts both API processes
afresh and lists a new patient's 100 readings.

    make bench-api-compare BASE=92d18f1 ROUNDS=2

The database has the working tree's migrations: compare commits of one schema."""

from __future__ import annotations

import argparse
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.api_bench import (
    PASSWORD,
    api_environment,
    saturated,
    start_api,
    wait_ready,
)
from benchmarks.saturation import HEADER, wrk_binary
from health_platform.api.migrate import migrate
from health_platform.local.data_servers import data_servers
from health_platform.local.ports import free_port

READING = {
    "type": "heart_rate",
    "value": 62,
    "unit": "/min",
    "effective_at": "2026-11-25T08:30:00Z",
}
API_PROCESSES = 2
REPOSITORY = Path(__file__).resolve().parent.parent


def sources_of(revision: str, into: Path) -> Path:
    """The `src` folder of `revision`, unpacked into `into`."""
    archive = subprocess.run(  # noqa: S603 - our own arguments
        ["git", "archive", revision, "src"],  # noqa: S607 - git from PATH
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)  # noqa: S603, S607
    return into / "src"


def signed_in_patient(port: int) -> dict[str, str]:
    """A new patient with 100 readings; the headers of their requests."""
    account = {"email": f"compare-{secrets.token_hex(4)}@example.com", "password": PASSWORD}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        http.post("/api/auth/register", json={**account, "display_name": "C"}).raise_for_status()
        login = http.post("/api/auth/login", json=account)
        login.raise_for_status()
        auth = {
            "Cookie": login.headers["set-cookie"].split(";")[0],
            "X-CSRF-Token": login.json()["csrf_token"],
        }
        for _ in range(100):
            http.post("/api/observations", json=READING, headers=auth).raise_for_status()
    return auth


def one_turn(name: str, sources: Path, env: dict[str, str]) -> list[str]:
    ports = [free_port() for _ in range(API_PROCESSES)]
    servers = [start_api(port, {**env, "PYTHONPATH": str(sources)}) for port in ports]
    try:
        for port in ports:
            wait_ready(port)
        auth = signed_in_patient(ports[0])
        rows = saturated(ports, [server.pid for server in servers], auth, READING)
        return [f"{name:<8} {row}" for row in rows]
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the earlier commit (default HEAD~1)")
    parser.add_argument("--rounds", type=int, default=2, help="turns of each (default 2)")
    options = parser.parse_args()
    wrk_binary()
    root = Path(tempfile.mkdtemp(prefix="hp-compare-"))
    try:
        base = root / "base"
        base.mkdir()
        trees = {options.base[:8]: sources_of(options.base, base), "now": REPOSITORY / "src"}
        with data_servers(root) as backing:
            migrate(backing.database_url("owner"))
            env = api_environment(backing, root)
            turns = f"{options.base} and the working tree in turns"
            print(f"Saturation, {turns}, {options.rounds} rounds.")
            print(f"{'tree':<8} {HEADER}")
            for _ in range(options.rounds):
                for name, sources in trees.items():
                    for row in one_turn(name, sources, env):
                        print(row, flush=True)
                    time.sleep(1)
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
