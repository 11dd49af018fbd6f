"""Session timeouts against real Redis: idle expiry, absolute expiry, and ending every session
of a user."""

from __future__ import annotations

import time

import redis

from health_platform.api.sessions import SessionStore
from tests.api.conftest import Backends


def store(backends: Backends, idle: int, absolute: int) -> SessionStore:
    return SessionStore(
        redis.Redis.from_url(backends.redis.url), idle_seconds=idle, absolute_seconds=absolute
    )


def test_idle_sessions_expire(backends: Backends) -> None:
    sessions = store(backends, idle=1, absolute=60)
    session_id, _ = sessions.create("u-idle", "patient", mfa=False)
    assert sessions.get(session_id) is not None
    time.sleep(2.1)
    assert sessions.get(session_id) is None


def test_activity_keeps_a_session_alive_until_its_absolute_limit(backends: Backends) -> None:
    # Wide margins on the side a slow machine could cross: each use comes well within the
    # idle timeout and before the absolute one; the last one is certainly after it.
    sessions = store(backends, idle=3, absolute=5)
    session_id, _ = sessions.create("u-abs", "patient", mfa=False)
    for _ in range(2):
        time.sleep(1.5)
        assert sessions.get(session_id) is not None  # renewed by use
    time.sleep(2.2)
    assert sessions.get(session_id) is None  # older than the absolute limit


def test_ids_are_stored_hashed_and_can_all_be_ended(backends: Backends) -> None:
    sessions = store(backends, idle=60, absolute=600)
    first, _ = sessions.create("u-all", "patient", mfa=False)
    second, _ = sessions.create("u-all", "patient", mfa=False)
    keys = [k.decode() for k in sessions.client.scan_iter(match="session:*")]
    assert not any(first in k or second in k for k in keys)
    sessions.delete_all_for("u-all")
    assert sessions.get(first) is None and sessions.get(second) is None
