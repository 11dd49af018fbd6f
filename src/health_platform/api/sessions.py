"""Sessions: opaque random ids in an HttpOnly, Secure, SameSite=Strict cookie; state in
Redis under the id's SHA-256 (a Redis dump reveals no usable id); idle and absolute
timeouts; a CSRF token per session, required on unsafe methods."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass

import redis

SESSION_COOKIE = "hp_session"
CSRF_COOKIE = "hp_csrf"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class SessionData:
    user_id: str
    role: str
    csrf_token: str
    created_at: float
    mfa: bool = False  # signed in with a second factor (or enrolled one since)


def _key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(self, client: redis.Redis, *, idle_seconds: int, absolute_seconds: int) -> None:
        self.client = client
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds

    def create(self, user_id: str, role: str, *, mfa: bool) -> tuple[str, SessionData]:
        session_id = secrets.token_urlsafe(32)
        data = SessionData(user_id, role, secrets.token_urlsafe(32), time.time(), mfa)
        pipe = self.client.pipeline()
        pipe.set(_key(session_id), json.dumps(asdict(data)), ex=self.idle_seconds)
        pipe.sadd(f"user_sessions:{user_id}", _key(session_id))
        pipe.execute()
        return session_id, data

    def get(self, session_id: str) -> SessionData | None:
        """The session, its idle timer renewed; None if unknown, idle or too old."""
        key = _key(session_id)
        raw = self.client.getex(key, ex=self.idle_seconds)  # read and renew: one round trip
        if raw is None:
            return None
        data = SessionData(**json.loads(raw))
        if time.time() - data.created_at > self.absolute_seconds:
            self.client.delete(key)
            return None
        return data

    def mark_mfa(self, session_id: str, data: SessionData) -> None:
        """The user proved a second factor during this session."""
        updated = SessionData(**{**asdict(data), "mfa": True})
        self.client.set(_key(session_id), json.dumps(asdict(updated)), ex=self.idle_seconds)

    def delete(self, session_id: str) -> None:
        self.client.delete(_key(session_id))

    def delete_all_for(self, user_id: str) -> None:
        """End every session of a user (locked, role changed)."""
        members = self.client.smembers(f"user_sessions:{user_id}")
        if members:
            self.client.delete(*members)
        self.client.delete(f"user_sessions:{user_id}")

    def active_count(self) -> int:
        return sum(1 for _ in self.client.scan_iter(match="session:*", count=500))
