"""What a route receives: the database session, the caller, the caller's address."""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api import rate_limit
from health_platform.api.audit import Audit, Recorded
from health_platform.api.audit_trail import AuditTrail
from health_platform.api.db import Database
from health_platform.api.errors import ApiError
from health_platform.api.group_commit import GroupCommit
from health_platform.api.mail import Outbox
from health_platform.api.redis_batch import RedisBatch
from health_platform.api.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionData,
    SessionStore,
)
from health_platform.api.storage import Storage
from health_platform.contract import ApiSettings, proxy_networks

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SAFE_METHODS = {"GET", "HEAD"}


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    database: Database
    redis: Redis
    # The hot paths' commands (the gate's, the observation cache's), sent in shared batches.
    redis_batch: RedisBatch
    sessions: SessionStore
    storage: Storage
    audit_trail: AuditTrail
    # New measurements with their audit records, written many at a time (group commit).
    observation_writes: GroupCommit[Recorded]
    outbox: Outbox

    async def close(self) -> None:
        await self.audit_trail.close()  # first: the rows in flight finish
        await self.observation_writes.close()
        await self.redis_batch.close()
        await self.outbox.close()
        await self.database.close()
        await self.redis.aclose()


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


# Every dependency is `async def`: FastAPI runs a plain `def` one in a worker thread, a
# thread hop per dependency per request.
async def services(request: Request) -> Services:
    return services_of(request)


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    # A GET only reads (its audit record goes through the audit trail): no transaction
    # needed around that.
    autocommit = request.method in SAFE_METHODS
    async with services_of(request).database.session(autocommit=autocommit) as session:
        yield session


def client_address(request: Request) -> str | None:
    """The caller's address as the nearest trusted proxy saw it (see trusted_proxies), when
    the request came from a trusted proxy (trusted_proxy_networks); else the peer's own."""
    peer = request.client.host if request.client else None
    settings = services_of(request).settings
    hops = settings.trusted_proxies
    forwarded = [
        p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()
    ]
    if hops and len(forwarded) >= hops and _is_proxy(peer, settings.trusted_proxy_networks):
        return forwarded[-hops][:64]
    return peer


def _is_proxy(peer: str | None, networks: str) -> bool:
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:  # no peer, or a name (a test client's)
        return False
    return any(address in network for network in proxy_networks(networks))


@dataclass(frozen=True)
class Caller:
    user_id: uuid.UUID
    role: str
    session_id: str
    session: SessionData
    address: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


async def gate(request: Request) -> SessionData | None:
    """Runs first on every API request, in one Redis batch (shared with concurrent
    requests, redis_batch.py): counts the request against its client address and, when its
    session cookie is validly signed, against that user (429 over either limit), and loads
    the session the cookie names (None when there is no valid cookie or the session is
    gone). The minute's tally of requests rides along with the batch."""
    deps = services_of(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    user_id = deps.sessions.user_of(session_id) if session_id else None
    counted = [rate_limit.window_key("address", client_address(request) or "unknown")]
    signed = session_id if session_id and user_id else None
    if user_id and signed:
        counted.append(rate_limit.window_key("user", user_id))

    def queue(pipe: Any) -> None:
        for key in counted:
            pipe.incr(key)
        if signed:
            deps.sessions.queue_read(pipe, signed)

    batch = deps.redis_batch
    batch.increment(rate_limit.this_minutes("requests"), rate_limit.TALLY_SECONDS)
    # In the order queued: the address's count, the user's, the session.
    try:
        results = await batch.run(queue)
    except BaseException:
        # Redis may have counted without our seeing the count: make sure the counters expire.
        for key in counted:
            batch.expire(key, rate_limit.WINDOW_KEY_SECONDS)
        raise
    for key, count in zip(counted, results, strict=False):
        if count == 1:  # a new window's counter: it expires (no trip of its own per request)
            batch.expire(key, rate_limit.WINDOW_KEY_SECONDS)
    rate_limit.check(results[0], deps.settings.rate_per_address)
    if signed is None:
        if session_id:  # a cookie whose signature is not ours: made up or altered
            await refused(request, None, "auth.session", "forged_session_cookie")
        return None
    session = await deps.sessions.loaded(signed, results[2])
    if session is not None:
        rate_limit.check(results[1], deps.settings.rate_per_user)
    return session


def _expired_session_cookie(request: Request) -> str:
    secure = "; Secure" if services_of(request).settings.cookie_secure else ""
    return f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=strict{secure}"


async def _signed_in(request: Request, session: SessionData | None) -> Caller:
    """The caller `session` (the gate's) is, or 401; 403 without the CSRF token on an unsafe
    method."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id is None or session is None:
        # A cookie that names no session (expired, or forged, or signed with a former
        # secret) is cleared, so the browser stops sending it (and writing refusals).
        headers = {"Set-Cookie": _expired_session_cookie(request)} if session_id else None
        raise ApiError(
            401,
            "unauthenticated",
            "Sign in first (the session is missing or expired).",
            headers=headers,
        )
    if request.method in UNSAFE_METHODS and not hmac.compare_digest(
        # As bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 403).
        request.headers.get(CSRF_HEADER, "").encode(),
        session.csrf_token.encode(),
    ):
        await refused(request, session.user_id, "auth.csrf", "csrf_token_wrong")
        raise ApiError(403, "csrf", f"Missing or wrong {CSRF_HEADER} header.")
    return Caller(
        uuid.UUID(session.user_id), session.role, session_id, session, client_address(request)
    )


# The three callers below each depend on the gate alone and call `_signed_in` themselves:
# a chain of dependencies (patient on caller on gate) cost FastAPI a resolution each, on
# every request.
async def current_caller(
    request: Request, session: Annotated[SessionData | None, Depends(gate)]
) -> Caller:
    return await _signed_in(request, session)


async def refused(
    request: Request, actor_id: uuid.UUID | str | None, action: str, reason: str
) -> None:
    """The audit record of a request refused at the gate, stored before the refusal is
    sent, as a read's is: who, from where, at which route, and why."""
    route = request.scope.get("route")
    detail = {
        "reason": reason,
        "method": request.method,
        "route": getattr(route, "path", request.url.path),  # the template: no ids
    }
    audit = Audit(services_of(request).audit_trail, actor_id, client_address(request))
    await audit.refusal(action, "request", detail=detail)


async def patient_caller(
    request: Request, session: Annotated[SessionData | None, Depends(gate)]
) -> Caller:
    """Health data belongs to patients; administrators do not browse it."""
    caller = await _signed_in(request, session)
    if caller.is_admin:
        await refused(request, caller.user_id, "health_data.access", "administrator")
        raise ApiError(403, "forbidden", "Administrators have no access to health data.")
    return caller


async def admin_caller(
    request: Request, session: Annotated[SessionData | None, Depends(gate)]
) -> Caller:
    """Administrators, signed in with their second factor (the seed's MFA for admins)."""
    caller = await _signed_in(request, session)
    if not caller.is_admin:
        # A patient at an administrator's door: trying to change a role (their own, say).
        await refused(request, caller.user_id, "admin.access", "not_administrator")
        raise ApiError(403, "forbidden", "Administrators only.")
    if not caller.session.mfa:
        await refused(request, caller.user_id, "admin.access", "second_factor_missing")
        raise ApiError(403, "mfa_required", "Enroll and use a second factor (TOTP) first.")
    return caller


# scope="function": the unit of work commits when the route returns, before the response
# is sent. (By default FastAPI ends a yield dependency after sending, so a client could be
# told 201 for a write that was not yet committed, or that then failed to commit.)
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]
CurrentCaller = Annotated[Caller, Depends(current_caller)]
PatientCaller = Annotated[Caller, Depends(patient_caller)]
AdminCaller = Annotated[Caller, Depends(admin_caller)]
# What routes that need someone signed in depend on (the OpenAPI schema's 401 and 403).
CALLERS = (current_caller, patient_caller, admin_caller)
ServicesDep = Annotated[Services, Depends(services)]
