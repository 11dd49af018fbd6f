"""Liveness (/health: no dependencies) and readiness (/health/ready: PostgreSQL, Redis,
storage, checked together, each within a time limit).

Only PostgreSQL and Redis make the API unready: every request needs them. Readiness also
says what would not make the API unready but an operator must know (`detail`; the status is
then "degraded", still 200, so the load balancer keeps sending the requests that still
work): a database that is read-only because it was restored and not yet promoted, a WAL
archive that fails, and a storage that fails (full or read-only: only uploads and downloads
need it, and they answer 507 or 500 on their own)."""

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
REQUIRED = ("postgres", "redis")  # what every request needs


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


# pg_stat_archiver and the settings are readable by every role (the runtime one included).
DATABASE_STATE = text(
    "SELECT pg_is_in_recovery(),"
    " last_failed_time > coalesce(last_archived_time, '-infinity'), last_failed_time"
    " FROM pg_stat_archiver"
)


async def _postgres(deps: Services, detail: dict[str, str]) -> None:
    async with deps.database.engine.connect() as connection:
        recovering, failing, failed_at = (await connection.execute(DATABASE_STATE)).one()
    if recovering:
        detail["database"] = "read-only: restored and not yet promoted"
    if failing:
        detail["wal_archive"] = f"failing since {failed_at:%Y-%m-%dT%H:%M:%SZ}"


@router.get(
    "/health/ready",
    summary="Readiness: PostgreSQL and Redis answer (a failing storage only degrades)",
    responses={
        **examples.json_response(
            {"status": "ready", "checks": {"postgres": "ok", "redis": "ok", "storage": "ok"}}
        ),
        503: {
            "description": "PostgreSQL or Redis failed; its check says how",
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
    detail: dict[str, str] = {}
    results = await asyncio.gather(
        _outcome(_postgres(deps, detail)),
        _outcome(deps.redis.ping()),
        _outcome(to_thread.run_sync(deps.storage.check)),
    )
    checks = dict(zip(names, results, strict=True))
    if checks["storage"] != "ok":
        detail["storage"] = f"{checks['storage']}: documents cannot be stored or read"
    status = 200 if all(checks[name] == "ok" for name in REQUIRED) else 503
    said = "not ready" if status != 200 else "degraded" if detail else "ready"
    body: dict[str, object] = {"status": said, "checks": checks}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status)
