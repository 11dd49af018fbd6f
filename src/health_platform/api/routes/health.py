"""Liveness (/health: no dependencies) and readiness (/health/ready: PostgreSQL, Redis,
storage, checked together, each within a time limit)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from health_platform.api import examples
from health_platform.api.deps import Services, services_of

router = APIRouter(tags=["health"])
CHECK_SECONDS = 3.0


@router.get(
    "/health",
    summary="Liveness: the process answers",
    responses=examples.json_response({"status": "ok"}),
)
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _outcome(check: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(check, CHECK_SECONDS)
    except Exception as failed:  # any failure means "not ready"; the type says which
        return f"failed: {type(failed).__name__}"
    return "ok"


async def _postgres(deps: Services) -> None:
    async with deps.database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@router.get(
    "/health/ready",
    summary="Readiness: PostgreSQL, Redis and storage answer",
    responses={
        **examples.json_response(
            {"status": "ready", "checks": {"postgres": "ok", "redis": "ok", "storage": "ok"}}
        ),
        503: {
            "description": "A dependency failed; its check says how",
            "content": {
                "application/json": {
                    "example": {
                        "status": "not ready",
                        "checks": {
                            "postgres": "ok",
                            "redis": "failed: ConnectionError",
                            "storage": "ok",
                        },
                    }
                }
            },
        },
    },
)
async def ready(request: Request) -> JSONResponse:
    deps = services_of(request)
    names = ("postgres", "redis", "storage")
    results = await asyncio.gather(
        _outcome(_postgres(deps)),
        _outcome(deps.redis.ping()),
        _outcome(to_thread.run_sync(deps.storage.check)),
    )
    checks = dict(zip(names, results, strict=True))
    status = 200 if all(result == "ok" for result in results) else 503
    return JSONResponse(
        {"status": "ready" if status == 200 else "not ready", "checks": checks}, status
    )
