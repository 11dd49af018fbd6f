"""Session timeouts against real Redis: idle expiry, absolute expiry, and ending every session
of a user."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from health_platform.api.sessions import SessionStore
from tests.conftest import Backends


def with_store(
    backends: Backends,
    idle: int,
    absolute: int,
    scenario: Callable[[SessionStore], Awaitable[None]],
) -> None:
    async def run() -> None:
        client = Redis.from_url(backends.redis.url)
        try:
            await scenario(
                SessionStore(
                    client,
                    secret=secrets.token_bytes(32),
                    idle_seconds=idle,
                    absolute_seconds=absolute,
                )
            )
        finally:
            await client.aclose()

    asyncio.run(run())


def test_idle_sessions_expire(backends: Backends) -> None:
    async def scenario(sessions: SessionStore) -> None:
        session_id, _ = await sessions.create("u-idle", "patient", mfa=False)
        assert await sessions.get(session_id) is not None
        await asyncio.sleep(2.1)
        assert await sessions.get(session_id) is None

    with_store(backends, 1, 60, scenario)


def test_activity_keeps_a_session_alive_until_its_absolute_limit(backends: Backends) -> None:
    # Wide margins on the side a slow machine could cross: each use comes well within the
    # idle timeout and before the absolute one; the last one is certainly after it.
    async def scenario(sessions: SessionStore) -> None:
        session_id, _ = await sessions.create("u-abs", "patient", mfa=False)
        for _ in range(2):
            await asyncio.sleep(1.5)
            assert await sessions.get(session_id) is not None  # renewed by use
        await asyncio.sleep(2.2)
        assert await sessions.get(session_id) is None  # older than the absolute limit

    with_store(backends, 3, 5, scenario)


def test_ids_are_stored_hashed_and_can_all_be_ended(backends: Backends) -> None:
    async def scenario(sessions: SessionStore) -> None:
        first, _ = await sessions.create("u-all", "patient", mfa=False)
        second, _ = await sessions.create("u-all", "patient", mfa=False)
        keys = [k.decode() async for k in sessions.client.scan_iter(match="session:*")]
        assert not any(first in k or second in k for k in keys)
        await sessions.delete_all_for("u-all")
        assert await sessions.get(first) is None and await sessions.get(second) is None

    with_store(backends, 60, 600, scenario)


def test_ids_are_signed_with_the_user_they_were_issued_for(backends: Backends) -> None:
    async def scenario(sessions: SessionStore) -> None:
        session_id, _ = await sessions.create("u-signed", "patient", mfa=False)
        assert sessions.user_of(session_id) == "u-signed"
        user, token, signature = session_id.split(".")
        wrong = ("B" if signature[0] == "A" else "A") + signature[1:]
        for forged in (
            f"u-other.{token}.{signature}",  # someone else's user id
            f"{user}.{token}.{wrong}",  # a wrong signature
            f"{user}.{token}",  # none
            "not-a-session-id",
            "",
        ):
            assert sessions.user_of(forged) is None, forged
            assert await sessions.get(forged) is None

    with_store(backends, 60, 600, scenario)
