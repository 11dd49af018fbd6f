"""Accounts and sessions: register (patient), login, logout, the current user."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from health_platform.api import audit
from health_platform.api.deps import CurrentCaller, DbSession, ServicesDep, client_address
from health_platform.api.errors import ApiError
from health_platform.api.models import User
from health_platform.api.passwords import hash_password, verify_password
from health_platform.api.sessions import CSRF_COOKIE, SESSION_COOKIE

router = APIRouter(prefix="/api/auth", tags=["auth"])
log = logging.getLogger("health_platform.api.auth")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Registration(Strict):
    email: EmailStr
    password: Annotated[str, Field(min_length=12, max_length=256)]
    display_name: Annotated[str, Field(min_length=1, max_length=100)]

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "correct horse battery",
                    "display_name": "Ada",
                }
            ]
        },
    )


class Credentials(Strict):
    email: EmailStr
    password: Annotated[str, Field(min_length=1, max_length=256)]
    totp: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None


class UserView(BaseModel):
    id: str
    email: str
    display_name: str
    role: str
    mfa_enabled: bool

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=str(user.id),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            mfa_enabled=user.totp_secret is not None,
        )


class LoginResult(BaseModel):
    user: UserView
    csrf_token: str


@router.post(
    "/register", status_code=201, response_model=UserView, summary="Create a patient account"
)
def register(body: Registration, request: Request, db: DbSession) -> UserView:
    user = User(
        email=body.email.lower(),
        password_hash=hash_password(body.password),
        display_name=body.display_name,
        role="patient",
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as taken:
        raise ApiError(409, "email_taken", "An account with this email exists.") from taken
    audit.record(
        db,
        actor_id=user.id,
        action="account.register",
        resource_type="user",
        resource_id=user.id,
        client_address=client_address(request),
    )
    return UserView.of(user)


def _failed_login(
    db: DbSession, user: User | None, request: Request, deps: ServicesDep
) -> ApiError:
    address = client_address(request)
    outcome = "failure"
    if user is not None:
        user.failed_logins += 1
        if user.failed_logins >= deps.settings.lockout_failures:
            user.locked_until = datetime.now(UTC) + timedelta(minutes=deps.settings.lockout_minutes)
            user.failed_logins = 0
            outcome = "locked"
    audit.record(
        db,
        actor_id=user.id if user else None,
        action="auth.login",
        resource_type="session",
        outcome=outcome,
        client_address=address,
    )
    # The security event the observability stack's metric filter counts.
    log.warning(
        "failed login",
        extra={
            "event": "login.failed",
            "client": address,
            "user_id": str(user.id) if user else None,
        },
    )
    deps.redis.incr(f"counter:failed_logins:{int(datetime.now(UTC).timestamp() // 60)}")
    return ApiError(401, "invalid_credentials", "Email or password is wrong.")


@router.post("/login", response_model=LoginResult, summary="Sign in; sets the session cookie")
def login(
    body: Credentials, request: Request, response: Response, db: DbSession, deps: ServicesDep
) -> LoginResult:
    user = db.scalar(
        select(User).where(func.lower(User.email) == body.email.lower()).with_for_update()
    )
    now = datetime.now(UTC)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record(
            db,
            actor_id=user.id,
            action="auth.login",
            resource_type="session",
            outcome="locked",
            client_address=client_address(request),
        )
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise ApiError(
            423,
            "locked",
            f"Too many failed sign-ins; try again in {wait // 60 + 1} minutes.",
            headers={"Retry-After": str(wait)},
        )
    if user is None or not verify_password(user.password_hash, body.password):
        error = _failed_login(db, user, request, deps)
        db.commit()  # the count and the audit record stand even though the request fails
        raise error
    user.failed_logins = 0
    user.locked_until = None
    session_id, session = deps.sessions.create(str(user.id), user.role)
    audit.record(
        db,
        actor_id=user.id,
        action="auth.login",
        resource_type="session",
        client_address=client_address(request),
    )
    _set_cookies(response, session_id, session.csrf_token, deps.settings.cookie_secure)
    return LoginResult(user=UserView.of(user), csrf_token=session.csrf_token)


def _set_cookies(response: Response, session_id: str, csrf: str, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, secure=secure, samesite="strict", path="/"
    )
    # Readable by the page, which echoes it in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=False, secure=secure, samesite="strict", path="/"
    )


@router.post("/logout", status_code=204, summary="End the session")
def logout(caller: CurrentCaller, response: Response, db: DbSession, deps: ServicesDep) -> Response:
    deps.sessions.delete(caller.session_id)
    audit.record(
        db,
        actor_id=caller.user_id,
        action="auth.logout",
        resource_type="session",
        client_address=caller.address,
    )
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserView, summary="The signed-in user")
def me(caller: CurrentCaller, db: DbSession) -> UserView:
    user = db.get(User, caller.user_id)
    if user is None:
        raise ApiError(401, "unauthenticated", "The account no longer exists.")
    return UserView.of(user)
