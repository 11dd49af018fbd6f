"""One JSON line per request on stdout: the access log entry (with the request id, in the
shape of every other log line) and, for API routes, the route's metrics in CloudWatch's
Embedded Metric Format, which CloudWatch Logs turns into metrics on ECS and which reads as
a plain log line locally. One line rather than a log line and a metrics line: one encode
and one write per request. Paths are route templates, never concrete paths (no ids in
logs or metrics)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json

NAMESPACE = "HealthPlatform/Api"
_EMF_DIRECTIVE = [
    {
        "Namespace": NAMESPACE,
        "Dimensions": [["Environment", "Route", "Method"], ["Environment"]],
        "Metrics": [
            {"Name": "Requests", "Unit": "Count"},
            {"Name": "Errors5xx", "Unit": "Count"},
            {"Name": "Latency", "Unit": "Milliseconds"},
        ],
    }
]


def request_line(
    *,
    environment: str,
    request_id: str,
    method: str,
    route: str,
    status: int,
    duration_ms: float,
    with_metrics: bool,
) -> None:
    now = time.time()
    line: dict[str, Any] = {
        "time": datetime.fromtimestamp(now, UTC).isoformat(),
        "level": "info",
        "logger": "health_platform.api.access",
        "message": "request",
        "request_id": request_id,
        "method": method,
        "path": route,
        "status": status,
        "duration_ms": duration_ms,
    }
    if with_metrics:
        line["_aws"] = {"Timestamp": int(now * 1000), "CloudWatchMetrics": _EMF_DIRECTIVE}
        line.update(
            Environment=environment,
            Route=route,
            Method=method,
            Requests=1,
            Errors5xx=1 if status >= 500 else 0,
            Latency=duration_ms,
        )
    # pydantic's compiled encoder: a quarter of json.dumps's time, on every request.
    sys.stdout.write(to_json(line).decode() + "\n")
