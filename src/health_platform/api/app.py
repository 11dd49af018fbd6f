"""The FastAPI application, `create_app(settings)`; uvicorn serves `...api.main:app`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
from fastapi import Depends, FastAPI
from redis.asyncio import BlockingConnectionPool, Redis

from health_platform import __version__
from health_platform.api import account_deletion, openapi
from health_platform.api.audit_trail import AuditTrail
from health_platform.api.data.observations import observation_writes
from health_platform.api.db import Database
from health_platform.api.deps import Services, gate
from health_platform.api.direct_routes import ROUTES, DirectRoutes
from health_platform.api.errors import install_error_handlers
from health_platform.api.iam_auth import password_source
from health_platform.api.mail import Outbox, mailer_for
from health_platform.api.middleware import RequestContext
from health_platform.api.redis_batch import RedisBatch
from health_platform.api.request_body import RequestBodyGuard
from health_platform.api.routes import (
    account,
    admin,
    auth,
    documents,
    export,
    health,
    observations,
    password_reset,
    profile,
)
from health_platform.api.sessions import SessionStore
from health_platform.api.storage import FilesystemStorage, S3Storage, Storage
from health_platform.contract import (
    DOCS_PATH,
    LARGE_BODY_ROUTES,
    MAX_BODY_BYTES,
    OPENAPI_PATH,
    ApiSettings,
)

REDIS_POOL_WAIT_SECONDS = 2.0


def redis_client(settings: ApiSettings) -> Redis:
    # Short timeouts: Redis being away is a quick 503, not a hung request.
    options: dict[str, Any] = {
        "socket_timeout": 1.0,
        "socket_connect_timeout": 1.0,
        "health_check_interval": 15,
        # A connection made stale by a Redis restart or failover fails once: try the command
        # again on a new one rather than answer 503 (which went on until each pooled
        # connection had failed once). Pipelines retry only errors named here.
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
    }
    if settings.redis_cluster:
        from redis.asyncio.cluster import RedisCluster

        # redis-py's cluster client has no waiting pool: past max_connections per node it
        # refuses at once (a 503).
        return RedisCluster.from_url(  # type: ignore[return-value]
            settings.redis_dsn, max_connections=settings.redis_connections, **options
        )
    # More requests at once than connections wait briefly for one, rather than fail.
    pool = BlockingConnectionPool.from_url(
        settings.redis_dsn,
        max_connections=settings.redis_connections,
        timeout=REDIS_POOL_WAIT_SECONDS,
        **options,
    )
    return Redis(connection_pool=pool)


def storage_for(settings: ApiSettings) -> Storage:
    if settings.storage_backend == "s3":
        assert settings.uploads_bucket  # the settings' own validation requires it
        return S3Storage(settings.uploads_bucket, settings.kms_key_id)
    return FilesystemStorage(settings.storage_path)


def build_services(settings: ApiSettings) -> Services:
    client = redis_client(settings)
    database = Database(
        settings.database_dsn,
        password_source(settings),
        connections=settings.database_connections,
    )
    return Services(
        settings=settings,
        database=database,
        redis=client,
        redis_batch=RedisBatch(client),
        sessions=SessionStore(
            client,
            secret=settings.session_secret.get_secret_value().encode(),
            idle_seconds=settings.session_idle_minutes * 60,
            absolute_seconds=settings.session_absolute_hours * 3600,
        ),
        storage=storage_for(settings),
        audit_trail=AuditTrail(database),
        observation_writes=observation_writes(database),
        outbox=Outbox(mailer_for(settings), client),
    )


def create_app(settings: ApiSettings, *, direct_routes: bool = True) -> FastAPI:
    """`direct_routes`: the busiest operations served past FastAPI (direct_routes.py); off
    only for the tests that compare both ways."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        # Accounts whose deletion their owners asked for, purged when due (every process
        # sweeps; each account is taken by one).
        sweeper = asyncio.create_task(account_deletion.sweep_forever(services))
        # What startup built lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise walk it again and again under load.
        gc.collect()
        gc.freeze()
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await services.close()

    app = FastAPI(
        title="health-platform API",
        version=__version__,
        description="The Personal Health Platform's API. Errors share one shape:"
        ' {"error": {"code", "message", "details", "request_id"}}.',
        lifespan=lifespan,
        # Under /api/, where the load balancer sends the API's traffic: clients and tools
        # find the schema at the public entry point.
        openapi_url=OPENAPI_PATH,
        docs_url=DOCS_PATH,
        redoc_url=None,
        # No redirect from /x/ to /x: Starlette builds it from the Host header (a client's
        # to choose) and the scheme it sees (http behind the balancer).
        redirect_slashes=False,
    )
    install_error_handlers(app)
    # The busiest first: a request is matched against the routes in order, and each route
    # tried costs (FastAPI's matching was 8% of a cached list's CPU with 23 routes ahead).
    modules = (observations, documents, profile, auth, account, password_reset, export, admin)
    routers = [module.router for module in modules]
    for router in routers:
        app.include_router(router, dependencies=[Depends(gate)])
    app.include_router(health.router)
    # The schema lists the operations in the order a reader meets them, not the matching's.
    documented = (health, auth, password_reset, account, profile, observations, documents)
    listed = [module.router for module in (*documented, export, admin)]
    openapi.install(app, routers, listed=listed)

    # Outermost last: the request context (request id, access line) wraps the body's guard,
    # which wraps the direct routes.
    if direct_routes:
        app.add_middleware(DirectRoutes, routes=ROUTES, routers=routers)
    app.add_middleware(
        RequestBodyGuard,
        limit=MAX_BODY_BYTES,
        exempt=LARGE_BODY_ROUTES,
        window_seconds=settings.body_read_window_seconds,
        min_bytes_per_second=settings.body_min_bytes_per_second,
    )
    app.add_middleware(RequestContext, environment=settings.environment)
    return app
