"""`make bench-up`: how long `hp up` takes to all-healthy, cold (an empty state folder:
initdb, certificates, the first base backup, migrations) and warm (the state present), on
ports and a state folder of its own. Prints each run and the medians; not a test."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from health_platform.local.config import PORT_NAMES
from health_platform.local.ports import free_ports

WARM_RUNS = 5
COLD_RUNS = 3


def hp(*args: str) -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "health_platform.cli", *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"hp {args[0]} failed:\n{done.stdout}{done.stderr}")


def timed_up(state: Path, ports: list[str]) -> float:
    began = time.perf_counter()
    hp("up", "--state-dir", str(state), *ports)
    return time.perf_counter() - began


def main() -> None:
    ports = [
        f"--{name}-port={port}"
        for name, port in zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True)
    ]
    cold, warm = [], []
    for _ in range(COLD_RUNS):
        state = Path(tempfile.mkdtemp(prefix="hp-bench-up-"))
        state.chmod(0o755)
        try:
            cold.append(timed_up(state, ports))
            print(f"cold hp up: {cold[-1]:.2f} s", flush=True)
            hp("down", "--state-dir", str(state))
            if len(cold) == COLD_RUNS:
                for _ in range(WARM_RUNS):
                    warm.append(timed_up(state, ports))
                    print(f"warm hp up: {warm[-1]:.2f} s", flush=True)
                    hp("down", "--state-dir", str(state))
        finally:
            hp("down", "--state-dir", str(state))
            shutil.rmtree(state, ignore_errors=True)
    print(
        f"\nhp up to all-healthy, median: cold {statistics.median(cold):.2f} s"
        f" ({COLD_RUNS} runs), warm {statistics.median(warm):.2f} s ({WARM_RUNS} runs)"
    )


if __name__ == "__main__":
    main()
