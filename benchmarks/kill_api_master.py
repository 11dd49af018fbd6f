"""`python -m benchmarks.kill_api_master`: kill -9 of the API's master (uvicorn, whose
workers it leaves orphaned) while a patient writes through the load balancer, on a platform
of its own (own ports and state folder). Prints:

- recovery: seconds from the kill to the first acknowledged write after it (goal < 20 s);
- orphans: processes left in the killed master's process group once it has recovered
  (must be 0: they would hold the API's port);
- lost: acknowledged writes (answered 201) missing from the database (must be 0).

The end-to-end test (tests/e2e/test_local_platform.py) runs `kill_under_load` too.
Prints figures; not a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from benchmarks.patient_writes import Patient
from health_platform.local.components import libpq_url
from health_platform.local.config import PORT_NAMES
from health_platform.local.platform import credentials_of, saved_config
from health_platform.local.ports import free_ports
from health_platform.local.processes import group_members

RECOVERY_GOAL_SECONDS = 20.0
WRITES_PER_SECOND = 10
BEFORE_SECONDS = 2.0  # of writes before the kill
AFTER_SECONDS = 2.0  # of writes once they succeed again
GIVE_UP_SECONDS = 60.0
PORT_FLAGS = PORT_NAMES


@dataclass
class Writes:
    """A patient's observations, one every 1/WRITES_PER_SECOND s, in a thread."""

    patient: Patient
    acknowledged: list[tuple[float, str]] = field(default_factory=list)  # (when, id)
    refused: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        deadline = time.monotonic() + GIVE_UP_SECONDS + BEFORE_SECONDS
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                written = self.patient.observation()
                self.acknowledged.append((time.monotonic(), str(written["id"])))
            except httpx.HTTPError:
                self.refused += 1  # a 503 from the balancer, or a cut connection
            time.sleep(1 / WRITES_PER_SECOND)

    def first_after(self, moment: float) -> float | None:
        return next((when for when, _ in self.acknowledged if when > moment), None)


@dataclass(frozen=True)
class Figures:
    recovery_seconds: float
    orphans: int
    acknowledged: int
    lost: int
    refused: int

    def lines(self) -> list[str]:
        return [
            f"recovery after kill -9 of the API master: {self.recovery_seconds:.1f} s"
            f" (goal < {RECOVERY_GOAL_SECONDS:.0f} s)",
            f"orphans left in its process group: {self.orphans}",
            f"acknowledged writes: {self.acknowledged}, lost: {self.lost}"
            f" (refused during the outage: {self.refused})",
        ]


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def _wait_for(condition: Callable[[], bool], writer: threading.Thread) -> float:
    """When `condition` first held (monotonic time, checked every 0.1 s)."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not condition():
        if time.monotonic() > deadline or not writer.is_alive():
            raise SystemExit(f"the API did not recover in {GIVE_UP_SECONDS:.0f} s")
        time.sleep(0.1)
    return time.monotonic()


def kill_under_load(state_dir: Path, url: str, cafile: str) -> Figures:
    """Kill -9 the API's master of the platform in `state_dir` while a patient writes."""
    config = saved_config(state_dir)
    writes = Writes(Patient(url, cafile).sign_up())
    writer = threading.Thread(target=writes.run)
    writer.start()
    try:
        time.sleep(BEFORE_SECONDS)
        master = int(config.pid_file("api").read_text())
        killed_at = time.monotonic()
        os.kill(master, signal.SIGKILL)
        # Its orphaned workers may still answer for a moment: recovered is a write the new
        # master's workers acknowledged (the old group is stopped before it starts).
        replaced = _wait_for(lambda: _pid(config.pid_file("api")) not in (None, master), writer)
        back = _wait_for(lambda: writes.first_after(replaced) is not None, writer)
        time.sleep(AFTER_SECONDS)
    finally:
        writes.stop.set()
        writer.join()
        writes.patient.close()
    ids = [identifier for _, identifier in writes.acknowledged]
    owner = libpq_url(config, credentials_of(config), "owner")
    with psycopg.connect(owner) as connection:
        found = connection.execute(
            "SELECT count(*) FROM observations WHERE id::text = ANY(%s)", (ids,)
        ).fetchone()
    return Figures(
        recovery_seconds=back - killed_at,
        orphans=len(group_members(master)),
        acknowledged=len(ids),
        lost=len(ids) - (found[0] if found else 0),
        refused=writes.refused,
    )


def hp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "health_platform.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def main() -> int:
    state = Path(tempfile.mkdtemp(prefix="hp-kill-bench-"))
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    flags = ["--state-dir", str(state)]
    try:
        started = hp("up", *flags, *(f"--{name}-port={port}" for name, port in ports.items()))
        if started.returncode != 0:
            raise SystemExit(f"hp up failed:\n{started.stdout}{started.stderr}")
        figures = kill_under_load(
            state, f"https://localhost:{ports['https']}", str(state / "tls" / "localhost.crt")
        )
        print("\n".join(figures.lines()))
        return 0
    finally:
        hp("down", *flags)
        hp("reset", "local", "--yes", "--delete-backups", *flags)


if __name__ == "__main__":
    sys.exit(main())
