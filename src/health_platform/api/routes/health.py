"""Liveness (/health: no dependencies) and readiness (/health/ready: PostgreSQL, Redis,
storage)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from health_platform.api.deps import services

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", summary="Readiness: PostgreSQL, Redis and storage answer")
def ready(request: Request) -> JSONResponse:
    deps = services(request)
    checks: dict[str, str] = {}
    try:
        with deps.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except Exception as failed:  # any failure means "not ready"; the type says which
        checks["postgres"] = f"failed: {type(failed).__name__}"
    try:
        deps.redis.ping()
        checks["redis"] = "ok"
    except Exception as failed:
        checks["redis"] = f"failed: {type(failed).__name__}"
    try:
        deps.storage.check()
        checks["storage"] = "ok"
    except Exception as failed:
        checks["storage"] = f"failed: {type(failed).__name__}"
    failed_names = [name for name, result in checks.items() if result != "ok"]
    status = 503 if failed_names else 200
    return JSONResponse(
        {"status": "ready" if status == 200 else "not ready", "checks": checks}, status
    )
