"""The database, on asyncio (psycopg 3's async driver): a request waiting for PostgreSQL
holds no thread. Short timeouts: a database that is down makes requests fail fast with 503
instead of piling up.

Two ways in, over one set of settings:
- SQLAlchemy sessions (`session`), for most routes: the ORM, composed queries.
- Plain psycopg connections from a small pool (`connection`), for the few statements
  every request runs (an observation created, a read's audit record): SQLAlchemy's session
  cost about 1.5 ms of CPU per unit of work here, the statement itself through psycopg
  0.3 ms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from health_platform.contract import DEFAULT_DATABASE_CONNECTIONS

CONNECT_TIMEOUT_SECONDS = 3
STATEMENT_TIMEOUT = "-c statement_timeout=5000"
RECYCLE_SECONDS = 1800  # bounds a connection's age


def pool_sizes(connections: int) -> tuple[int, int, int]:
    """`connections` split: SQLAlchemy's steady pool and its overflow (two thirds between
    them, as most routes use sessions), psycopg's pool (the rest)."""
    engine = connections * 2 // 3
    return engine // 2, engine - engine // 2, connections - engine


def make_engine(url: str, pool_size: int, max_overflow: int) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping (a round trip per request): after a database restart the first
        # statement on a stale connection fails (503) and SQLAlchemy, seeing a disconnect,
        # discards every pooled connection at once.
        pool_recycle=RECYCLE_SECONDS,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "options": STATEMENT_TIMEOUT},
    )


def conninfo_of(database_url: str) -> str:
    """libpq's form of a SQLAlchemy URL (`postgresql+psycopg://...` -> `postgresql://...`)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def insert_statement(table: str, columns: Iterable[str]) -> str:
    """`INSERT INTO table (a, b) VALUES (%(a)s, %(b)s)` for psycopg, from names in code."""
    names = list(columns)
    values = ", ".join(f"%({name})s" for name in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values})"  # noqa: S608


def _with_password(
    kwargs: dict[str, Any], password: Callable[[], str]
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The pool's connection arguments with a fresh password, made off the event loop (a
    token is a local signature, but refreshing the task role's credentials is a request)."""

    async def connect_kwargs() -> dict[str, Any]:
        return {**kwargs, "password": await asyncio.to_thread(password)}

    return connect_kwargs


class Database:
    """`password`, when given, is asked for each new connection's password (an IAM
    authentication token lives 15 minutes; a pooled connection outlives it harmlessly).
    `connections`: the most this process opens, both pools together."""

    def __init__(
        self,
        url: str,
        password: Callable[[], str] | None = None,
        *,
        connections: int = DEFAULT_DATABASE_CONNECTIONS,
    ) -> None:
        steady, overflow, plain = pool_sizes(connections)
        self.engine = make_engine(url, steady, overflow)
        connect_kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": STATEMENT_TIMEOUT,
        }
        if password is not None:

            @event.listens_for(self.engine.sync_engine, "do_connect")
            def _sign_in(
                _dialect: Any, _record: Any, _args: Any, parameters: dict[str, Any]
            ) -> None:
                parameters["password"] = password()

        # expire_on_commit=False: a row stays readable after commit without another query
        # (an implicit query would need to await, which attribute access cannot).
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        self.pool = AsyncConnectionPool(
            conninfo_of(url),
            min_size=min(2, plain),
            max_size=plain,
            timeout=CONNECT_TIMEOUT_SECONDS,  # waiting for a free connection: then 503
            max_lifetime=RECYCLE_SECONDS,
            kwargs=connect_kwargs if password is None else _with_password(connect_kwargs, password),
            open=False,  # opened by the first `connection`, on the loop that serves
        )

    @asynccontextmanager
    async def session(self, *, autocommit: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back otherwise.
        A route may commit earlier itself (before invalidating a cache, before failing
        with a record that must stand).

        `autocommit`: every statement is its own transaction, which saves the BEGIN and
        COMMIT round trips; for work that writes at most one statement (a GET: reads, and
        at most the audit record of a refusal)."""
        factory = self._autocommit_sessions if autocommit else self._sessions
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A plain psycopg connection in autocommit mode: each statement is atomic on its
        own, so use it for single statements."""
        if self.pool.closed:
            await self.pool.open()
        try:
            async with self.pool.connection() as connection:
                yield connection
        except psycopg.OperationalError:
            # The database may have restarted: test the idle connections now, rather than
            # let each of them fail one more request.
            await self.pool.check()
            raise

    async def close(self) -> None:
        await self.pool.close()
        await self.engine.dispose()
