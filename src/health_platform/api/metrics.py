"""Per-route request metrics as CloudWatch Embedded Metric Format: one JSON log line per
request that CloudWatch Logs turns into metrics on ECS, and that reads as a plain log line
locally. Dimensions are the route template, never a concrete path (no ids in metrics)."""

from __future__ import annotations

import json
import sys
import time

NAMESPACE = "HealthPlatform/Api"


def emit(*, environment: str, route: str, method: str, status: int, duration_ms: float) -> None:
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Environment", "Route", "Method"], ["Environment"]],
                    "Metrics": [
                        {"Name": "Requests", "Unit": "Count"},
                        {"Name": "Errors5xx", "Unit": "Count"},
                        {"Name": "Latency", "Unit": "Milliseconds"},
                    ],
                }
            ],
        },
        "Environment": environment,
        "Route": route,
        "Method": method,
        "status": status,
        "Requests": 1,
        "Errors5xx": 1 if status >= 500 else 0,
        "Latency": duration_ms,
    }
    sys.stdout.write(json.dumps(line) + "\n")
