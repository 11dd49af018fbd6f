"""The SQLAlchemy engine and sessions, on asyncio (psycopg 3's async driver): a request
waiting for PostgreSQL holds no thread. Short timeouts: a database that is down makes
requests fail fast with 503 instead of piling up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        # No pre-ping (a round trip per request): after a database restart the first
        # statement on a stale connection fails (503) and SQLAlchemy, seeing a disconnect,
        # discards every pooled connection at once. Recycling bounds a connection's age.
        pool_recycle=1800,
        pool_timeout=3,
        connect_args={"connect_timeout": 3, "options": "-c statement_timeout=5000"},
    )


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        # expire_on_commit=False: a row stays readable after commit without another query
        # (an implicit query would need to await, which attribute access cannot).
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self, *, autocommit: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back otherwise.
        A route may commit earlier itself (before invalidating a cache, before failing
        with a record that must stand).

        `autocommit`: every statement is its own transaction, which saves the BEGIN and
        COMMIT round trips; for work whose only write is a single statement (a read and
        its audit record)."""
        factory = self._autocommit_sessions if autocommit else self._sessions
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
