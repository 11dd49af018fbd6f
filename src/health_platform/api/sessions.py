"""Sessions: random ids in an HttpOnly, Secure, SameSite=Strict cookie; state in Redis
under the id's SHA-256 (a Redis dump reveals no usable id); idle and absolute timeouts; a
CSRF token per session, required on unsafe methods.

A session id is `<user id>.<random token>.<signature>`, signed with the session secret
(SESSION_SECRET). The signed user id lets a request be counted against its user's rate
limit in the same Redis round trip that reads the session, and a forged cookie cannot
spend someone else's limit: its signature fails before anything is counted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

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
    # Where it was signed in from, for the owner's list of their sessions.
    address: str | None = None
    agent: str | None = None  # the browser's User-Agent, cut to AGENT_LENGTH


AGENT_LENGTH = 200
HANDLE_LENGTH = 16  # hex digits of a session's key: names it to its owner, opens nothing


@dataclass(frozen=True)
class Listed:
    handle: str
    data: SessionData


def _key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


def _text(member: bytes | str) -> str:
    """A key as the user's index holds it (bytes from Redis), as text."""
    return member.decode() if isinstance(member, bytes) else member


def _handle_of_member(member: bytes | str) -> str:
    """How a session is named to its owner: a prefix of its key, not of its id."""
    return _text(member).removeprefix("session:")[:HANDLE_LENGTH]


def handle_of(session_id: str) -> str:
    return _handle_of_member(_key(session_id))


def _sessions_of(user_id: str) -> str:
    return f"user_sessions:{user_id}"


class SessionStore:
    def __init__(
        self, client: Redis, *, secret: bytes, idle_seconds: int, absolute_seconds: int
    ) -> None:
        self.client = client
        self.secret = secret
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds

    def _signature(self, unsigned: str) -> bytes:
        # 144 bits of HMAC-SHA256: out of reach of forgery, and the cookie stays short.
        digest = hmac.digest(self.secret, unsigned.encode(), "sha256")
        return base64.urlsafe_b64encode(digest[:18])

    def user_of(self, session_id: str) -> str | None:
        """The user id a session id was issued for, if its signature holds (no Redis
        trip: whether the session still exists is for `loaded` to say)."""
        unsigned, _, signature = session_id.rpartition(".")
        user_id, dot, _ = unsigned.partition(".")
        # As bytes: compare_digest refuses str with non-ASCII characters, and a cookie is
        # whatever the client sent.
        if not dot or not hmac.compare_digest(self._signature(unsigned), signature.encode()):
            return None
        return user_id

    async def create(
        self,
        user_id: str,
        role: str,
        *,
        mfa: bool,
        address: str | None = None,
        agent: str | None = None,
    ) -> tuple[str, SessionData]:
        unsigned = f"{user_id}.{secrets.token_urlsafe(32)}"
        session_id = f"{unsigned}.{self._signature(unsigned).decode()}"
        data = SessionData(
            user_id,
            role,
            secrets.token_urlsafe(32),
            time.time(),
            mfa,
            address,
            agent[:AGENT_LENGTH] if agent else None,
        )
        pipe = self.client.pipeline()
        pipe.set(_key(session_id), json.dumps(asdict(data)), ex=self.idle_seconds)
        pipe.sadd(_sessions_of(user_id), _key(session_id))
        await pipe.execute()
        return session_id, data

    def queue_read(self, pipe: Any, session_id: str) -> None:
        """Queue reading the session and renewing its idle timer on a pipeline the caller
        executes; hand the result to `loaded`."""
        pipe.getex(_key(session_id), ex=self.idle_seconds)

    async def loaded(self, session_id: str, raw: bytes | None) -> SessionData | None:
        """The session `queue_read` fetched; None if unknown, idle or too old."""
        if raw is None:
            return None
        data = SessionData(**json.loads(raw))
        if time.time() - data.created_at > self.absolute_seconds:
            await self.client.delete(_key(session_id))
            return None
        return data

    async def get(self, session_id: str) -> SessionData | None:
        """The session, its idle timer renewed, in a round trip of its own."""
        if self.user_of(session_id) is None:
            return None
        pipe = self.client.pipeline(transaction=False)
        self.queue_read(pipe, session_id)
        return await self.loaded(session_id, (await pipe.execute())[0])

    async def mark_mfa(self, session_id: str, data: SessionData) -> None:
        """The user proved a second factor during this session."""
        updated = SessionData(**{**asdict(data), "mfa": True})
        await self.client.set(_key(session_id), json.dumps(asdict(updated)), ex=self.idle_seconds)

    async def delete(self, session_id: str) -> None:
        await self.client.delete(_key(session_id))

    async def delete_all_for(self, user_id: str, *, keep: str | None = None) -> None:
        """End every session of a user (locked, role changed, password changed), but the
        one `keep` names."""
        members = await self.client.smembers(_sessions_of(user_id))
        kept = _key(keep) if keep else None
        ended = [m for m in members if _text(m) != kept]
        if ended:
            await self.client.delete(*ended)
            await self.client.srem(_sessions_of(user_id), *ended)

    async def of_user(self, user_id: str) -> list[Listed]:
        """The user's live sessions, oldest first (ended ones are dropped from the index)."""
        members = list(await self.client.smembers(_sessions_of(user_id)))
        if not members:
            return []
        pipe = self.client.pipeline(transaction=False)  # not MGET: keys span cluster slots
        for member in members:
            pipe.get(member)
        found = await pipe.execute()
        gone = [m for m, raw in zip(members, found, strict=True) if raw is None]
        if gone:
            await self.client.srem(_sessions_of(user_id), *gone)
        listed = [
            Listed(_handle_of_member(m), SessionData(**json.loads(raw)))
            for m, raw in zip(members, found, strict=True)
            if raw is not None
        ]
        return sorted(listed, key=lambda item: item.data.created_at)

    async def delete_by_handle(self, user_id: str, handle: str) -> bool:
        """End the user's session that `handle` names; False when none does."""
        for member in await self.client.smembers(_sessions_of(user_id)):
            if _handle_of_member(member) == handle:
                await self.client.delete(member)
                await self.client.srem(_sessions_of(user_id), member)
                return True
        return False

    async def active_count(self) -> int:
        return len([key async for key in self.client.scan_iter(match="session:*", count=500)])
