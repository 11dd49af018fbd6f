"""The FastAPI application, `create_app(settings)`; uvicorn serves `...api.main:app`."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from redis.asyncio import Redis

from health_platform import __version__
from health_platform.api.audit_trail import AuditTrail
from health_platform.api.db import Database
from health_platform.api.deps import Services, gate
from health_platform.api.errors import install_error_handlers
from health_platform.api.iam_auth import password_source
from health_platform.api.middleware import RequestContext
from health_platform.api.routes import admin, auth, documents, health, observations, profile
from health_platform.api.sessions import SessionStore
from health_platform.api.storage import FilesystemStorage, S3Storage, Storage
from health_platform.contract import ApiSettings


def redis_client(settings: ApiSettings) -> Redis:
    # Short timeouts: Redis being away is a quick 503, not a hung request.
    options: dict[str, Any] = {
        "socket_timeout": 1.0,
        "socket_connect_timeout": 1.0,
        "health_check_interval": 15,
    }
    if settings.redis_cluster:
        from redis.asyncio.cluster import RedisCluster

        return RedisCluster.from_url(settings.redis_dsn, **options)  # type: ignore[return-value]
    return Redis.from_url(settings.redis_dsn, **options)


def storage_for(settings: ApiSettings) -> Storage:
    if settings.storage_backend == "s3":
        assert settings.uploads_bucket  # the settings' own validation requires it
        return S3Storage(settings.uploads_bucket, settings.kms_key_id)
    return FilesystemStorage(settings.storage_path)


def build_services(settings: ApiSettings) -> Services:
    client = redis_client(settings)
    database = Database(settings.database_dsn, password_source(settings))
    return Services(
        settings=settings,
        database=database,
        redis=client,
        sessions=SessionStore(
            client,
            secret=settings.session_secret.get_secret_value().encode(),
            idle_seconds=settings.session_idle_minutes * 60,
            absolute_seconds=settings.session_absolute_hours * 3600,
        ),
        storage=storage_for(settings),
        audit_trail=AuditTrail(database),
    )


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        # What startup built lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise walk it again and again under load.
        gc.collect()
        gc.freeze()
        yield
        await services.close()

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
        app.include_router(module.router, dependencies=[Depends(gate)])

    app.add_middleware(RequestContext, environment=settings.environment)
    return app
