"""JSON lines on stdout, one per event, each with the request id. CloudWatch picks them up
from the container. Nothing that identifies health data, passwords, tokens or session ids
is ever passed to a logger; the formatter keeps only known fields."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

from pydantic_core import to_json

from health_platform.api.request_context import request_id

# Fields a log call may add with `extra=`. Anything else is dropped, so a careless
# `extra={"password": ...}` cannot leak.
ALLOWED_EXTRA = {
    "event",
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "role",
    "client",
    "error_type",
    "outcome",
    "target_user_id",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k in ALLOWED_EXTRA})
        return to_json(line, fallback=str).decode()


class StdoutHandler(logging.Handler):
    """Writes to whatever sys.stdout is at the time of the event (the process's stdout in
    production; a test's capture in tests), beside the metrics lines written there."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
        except Exception:  # a log line must never break a request
            self.handleError(record)


def configure_logging(level: str = "INFO") -> None:
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):  # the API logs its own access line, with request id
        logging.getLogger(noisy).disabled = True
