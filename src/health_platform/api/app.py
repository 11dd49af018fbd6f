"""The FastAPI application, `create_app(settings)`; uvicorn serves `...api.main:app`."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import redis
from fastapi import Depends, FastAPI, Request, Response

from health_platform import __version__
from health_platform.api import metrics
from health_platform.api.config import ApiSettings
from health_platform.api.db import Database
from health_platform.api.deps import Services, limit_by_address
from health_platform.api.errors import install_error_handlers
from health_platform.api.request_context import request_id
from health_platform.api.routes import admin, auth, documents, health, observations, profile
from health_platform.api.sessions import SessionStore
from health_platform.api.storage import FilesystemStorage, S3Storage, Storage

access_log = logging.getLogger("health_platform.api.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def redis_client(settings: ApiSettings) -> redis.Redis:
    options = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, "health_check_interval": 15}
    if settings.redis_cluster:
        from redis.cluster import RedisCluster

        return RedisCluster.from_url(settings.redis_url, **options)  # type: ignore[return-value]
    return redis.Redis.from_url(settings.redis_url, **options)


def storage_for(settings: ApiSettings) -> Storage:
    if settings.storage_backend == "s3":
        if not settings.uploads_bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs UPLOADS_BUCKET")
        return S3Storage(settings.uploads_bucket, settings.kms_key_id)
    return FilesystemStorage(settings.storage_path)


def build_services(settings: ApiSettings) -> Services:
    client = redis_client(settings)
    return Services(
        settings=settings,
        database=Database(settings.database_url),
        redis=client,
        sessions=SessionStore(
            client,
            idle_seconds=settings.session_idle_minutes * 60,
            absolute_seconds=settings.session_absolute_hours * 3600,
        ),
        storage=storage_for(settings),
    )


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        yield
        services.database.engine.dispose()
        services.redis.close()

    app = FastAPI(
        title="health-platform API",
        version=__version__,
        description="The Personal Health Platform's API. Errors share one shape:"
        ' {"error": {"code", "message", "details", "request_id"}}.',
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    for module in (auth, profile, observations, documents, admin):
        app.include_router(module.router, dependencies=[Depends(limit_by_address)])

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        token = request_id.set(incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            elapsed = round((time.perf_counter() - started) * 1000, 2)
        response.headers["X-Request-ID"] = request_id.get() or ""
        if request.url.path.startswith("/api"):
            response.headers["Cache-Control"] = "no-store"  # health data is never cached downstream
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")  # the template: no ids in logs
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": template,
                "status": response.status_code,
                "duration_ms": elapsed,
            },
        )
        if template.startswith("/api"):
            metrics.emit(
                environment=settings.environment,
                route=template,
                method=request.method,
                status=response.status_code,
                duration_ms=elapsed,
            )
        request_id.reset(token)
        return response

    return app
