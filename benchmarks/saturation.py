"""Saturation: the API driven closed-loop by `wrk` (Debian's; C, so it costs the servers
little CPU) over CONNECTIONS keep-alive connections spread evenly over the API processes,
as many requests as they can answer. Gives throughput, p50/p99 latency, the servers' CPU
per request (from /proc, through psutil) and wrk's own CPU per request, so it can be seen
not to be the bottleneck.

wrk drives one address, and each API process listens on its own port (two ECS tasks behind
the load balancer): one wrk per process, each with its share of the connections, started
together. Throughput is their sum; latency is the slower process's percentile (wrk gives
percentiles, which cannot be merged exactly)."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CONNECTIONS = 32
SECONDS = 10
WARMUP_SECONDS = 3
HEADER = (
    f"{'scenario (closed loop)':<32} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    f" {'server ms':>9} {'wrk ms':>7}"
)

# wrk's script: the request (a fixed one, or a path that changes with each request) and, at
# the end, the figures as one JSON line.
SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
local sent = 0
{request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "errors": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
"""
# A path that differs with each request, by the count of requests sent (a Lua expression).
VARYING_REQUEST = """
request = function()
  sent = sent + 1
  return wrk.format(nil, {path})
end
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # a fixed path, or a Lua expression of `sent` when `varying`
    headers: dict[str, str]
    body: str = ""
    varying: bool = False

    def script(self) -> str:
        lua = json.dumps  # a JSON string is a valid Lua string literal for these values
        return SCRIPT.format(
            method=lua(self.method),
            body=lua(self.body) if self.body else "nil",
            headers="\n".join(f"wrk.headers[{lua(k)}] = {lua(v)}" for k, v in self.headers.items()),
            request=VARYING_REQUEST.format(path=self.path) if self.varying else "",
        )

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}" + ("" if self.varying else self.path)


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_ms: float  # CPU per request, all API processes
    wrk_ms: float  # wrk's own CPU per request

    def row(self, name: str) -> str:
        rate = self.requests / self.seconds
        return (
            f"{name:<32} {rate:>8.0f} {self.p50_ms:>7.2f} {self.p99_ms:>7.2f} {self.errors:>6}"
            f" {self.server_ms:>9.3f} {self.wrk_ms:>7.3f}"
        )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `make bench-api` installs it (Debian's wrk).")
    return found


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run(
    scenario: Scenario, ports: list[int], seconds: int, folder: Path
) -> list[dict[str, float]]:
    script = folder / "scenario.lua"
    script.write_text(scenario.script())
    each = CONNECTIONS // len(ports)
    runs = [
        subprocess.Popen(  # noqa: S603 - our own arguments
            [
                wrk_binary(),
                "-t1",
                f"-c{each}",
                f"-d{seconds}s",
                "-s",
                str(script),
                scenario.url(port),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    figures = []
    for run in runs:
        out, _ = run.communicate(timeout=seconds + 30)
        line = next((line for line in out.splitlines() if line.startswith("{")), None)
        if run.returncode != 0 or line is None:
            raise SystemExit(f"wrk failed on {scenario.name}:\n{out}")
        figures.append(json.loads(line))
    return figures


def saturate(scenario: Scenario, ports: list[int], server_cpu: Callable[[], float]) -> Result:
    """A warm-up of WARMUP_SECONDS, not counted, then SECONDS measured."""
    with tempfile.TemporaryDirectory(prefix="hp-wrk-") as folder:
        _run(scenario, ports, WARMUP_SECONDS, Path(folder))
        time.sleep(1)
        server_before, wrk_before = server_cpu(), _children_cpu()
        figures = _run(scenario, ports, SECONDS, Path(folder))
        server_used, wrk_used = server_cpu() - server_before, _children_cpu() - wrk_before
    requests = sum(int(f["requests"]) for f in figures)
    per_request = 1000 / max(requests, 1)
    return Result(
        requests=requests,
        seconds=max(f["seconds"] for f in figures),
        p50_ms=max(f["p50_us"] for f in figures) / 1000,
        p99_ms=max(f["p99_us"] for f in figures) / 1000,
        errors=sum(int(f["errors"]) for f in figures),
        server_ms=server_used * per_request,
        wrk_ms=wrk_used * per_request,
    )
