"""What a route receives: the database session, the caller, the caller's address."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import redis
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from health_platform.api import rate_limit
from health_platform.api.config import ApiSettings
from health_platform.api.db import Database
from health_platform.api.errors import ApiError
from health_platform.api.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionData,
    SessionStore,
)
from health_platform.api.storage import Storage

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    database: Database
    redis: redis.Redis
    sessions: SessionStore
    storage: Storage


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def db_session(request: Request) -> Iterator[Session]:
    with services(request).database.session() as session:
        yield session


def client_address(request: Request) -> str | None:
    """The caller's address as the nearest trusted proxy saw it (see trusted_proxies)."""
    hops = services(request).settings.trusted_proxies
    forwarded = [
        p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()
    ]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops][:64]
    return request.client.host if request.client else None


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


def limit_by_address(request: Request) -> None:
    """Every API request counts against its client address."""
    deps = services(request)
    address = client_address(request) or "unknown"
    rate_limit.enforce(
        deps.redis, "address", address, deps.settings.rate_per_address, tally="requests"
    )


def current_caller(request: Request) -> Caller:
    session_id = request.cookies.get(SESSION_COOKIE)
    data = services(request).sessions.get(session_id) if session_id else None
    if session_id is None or data is None:
        raise ApiError(401, "unauthenticated", "Sign in first (the session is missing or expired).")
    if request.method in UNSAFE_METHODS and not hmac.compare_digest(
        request.headers.get(CSRF_HEADER, ""), data.csrf_token
    ):
        raise ApiError(403, "csrf", f"Missing or wrong {CSRF_HEADER} header.")
    rate_limit.enforce(
        services(request).redis, "user", data.user_id, services(request).settings.rate_per_user
    )
    return Caller(uuid.UUID(data.user_id), data.role, session_id, data, client_address(request))


def patient_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """Health data belongs to patients; administrators do not browse it."""
    if caller.is_admin:
        raise ApiError(403, "forbidden", "Administrators have no access to health data.")
    return caller


def admin_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """Administrators, signed in with their second factor (the seed's MFA for admins)."""
    if not caller.is_admin:
        raise ApiError(403, "forbidden", "Administrators only.")
    if not caller.session.mfa:
        raise ApiError(403, "mfa_required", "Enroll and use a second factor (TOTP) first.")
    return caller


DbSession = Annotated[Session, Depends(db_session)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]
PatientCaller = Annotated[Caller, Depends(patient_caller)]
AdminCaller = Annotated[Caller, Depends(admin_caller)]
ServicesDep = Annotated[Services, Depends(services)]
