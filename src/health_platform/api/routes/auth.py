"""Accounts and sessions: register (patient), an invited administrator's password, login,
logout, the current user, TOTP enrollment."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from health_platform.api import audit, examples, invitations, rate_limit, totp
from health_platform.api.deps import CurrentCaller, DbSession, ServicesDep, client_address
from health_platform.api.errors import ApiError
from health_platform.api.models import User
from health_platform.api.passwords import hash_password, verify_password
from health_platform.api.sessions import CSRF_COOKIE, SESSION_COOKIE

router = APIRouter(prefix="/api/auth", tags=["auth"])
log = logging.getLogger("health_platform.api.auth")


# A new password's length (sign-up, an invitation); a sign-in takes any up to the maximum.
NewPassword = Annotated[str, Field(min_length=12, max_length=256)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Registration(Strict):
    email: EmailStr
    password: NewPassword
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


class InvitationAcceptance(Strict):
    model_config = examples.example(
        {
            "token": "q1V8n3XyT0bW5cZ2kR7mJ4hL9fD6sA0gE3uI8oP1yK2",
            "password": "correct horse battery",
        }
    )

    # The fragment of the enrollment link: new_token's 43 URL-safe characters.
    token: Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
    password: NewPassword


class Credentials(Strict):
    model_config = examples.example(
        {"email": "ada@example.com", "password": "correct horse battery", "totp": "492039"}
    )

    email: EmailStr
    password: Annotated[str, Field(min_length=1, max_length=256)]
    totp: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None


class UserView(BaseModel):
    model_config = examples.example(examples.USER)

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
    model_config = examples.example(
        {
            "user": examples.USER,
            "csrf_token": "kq3W0h5mJ8x1yZ2rT7uV4bN6cD9eF0gH1iJ2kL3mN4o",
            "mfa_enrollment_required": False,
        }
    )

    user: UserView
    csrf_token: str
    # An administrator without a second factor must enroll one before anything else.
    mfa_enrollment_required: bool = False


class MfaEnrollment(BaseModel):
    model_config = examples.example(
        {
            "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "otpauth_uri": "otpauth://totp/health-platform:ada%40example.com"
            "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=health-platform",
        }
    )

    secret: str
    otpauth_uri: str


class MfaCode(Strict):
    model_config = examples.example({"code": "492039"})

    code: Annotated[str, Field(pattern=r"^\d{6}$")]


@router.post(
    "/register", status_code=201, response_model=UserView, summary="Create a patient account"
)
async def register(body: Registration, request: Request, db: DbSession) -> UserView:
    user = User(
        email=body.email.lower(),
        password_hash=await hash_password(body.password),
        display_name=body.display_name,
        role="patient",
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as taken:
        raise ApiError(409, "email_taken", "An account with this email exists.") from taken
    await audit.record(
        db,
        actor_id=user.id,
        action="account.register",
        resource_type="user",
        resource_id=user.id,
        client_address=client_address(request),
    )
    return UserView.of(user)


# Each reason its own answer: the link's rightful holder learns what to do next; a stranger
# learns nothing without the token itself (256 random bits), whatever the answer says.
INVITATION_REFUSALS: dict[invitations.Refusal, tuple[int, str, str]] = {
    "unknown": (
        400,
        "invitation_invalid",
        "This enrollment link is not valid; check that it was copied whole, or ask for a new one.",
    ),
    "used": (
        410,
        "invitation_used",
        "This enrollment link was used already; sign in with the password chosen then.",
    ),
    "expired": (410, "invitation_expired", "This enrollment link has expired; ask for a new one."),
}


@router.post(
    "/invitations/accept",
    status_code=204,
    summary="Set an invited administrator's password with the enrollment link's token",
    responses={
        400: {"description": "The token matches no invitation"},
        410: {"description": "The invitation was used already, or has expired"},
    },
)
async def accept_invitation(
    body: InvitationAcceptance, request: Request, db: DbSession, deps: ServicesDep
) -> Response:
    address = client_address(request)
    # Limited like sign-in: both turn a guess into an account.
    await rate_limit.enforce(
        deps.redis, deps.settings.login_rate, ("invitation-address", address or "unknown")
    )
    now = datetime.now(UTC)
    invitation = await invitations.find(db, invitations.token_sha256(body.token))
    refused = invitations.refusal(invitation, now)
    if refused is not None:
        await audit.record(
            db,
            actor_id=None,
            action="admin.invitation.accept",
            resource_type="user",
            resource_id=invitation.user_id if invitation else None,
            outcome="refused",
            client_address=address,
            detail={"reason": refused},
        )
        await db.commit()  # the refusal stays on record
        log.warning(
            "enrollment link refused",
            extra={"event": "invitation.refused", "outcome": refused, "client": address},
        )
        raise ApiError(*INVITATION_REFUSALS[refused])
    assert invitation is not None
    user = await invitations.accept(db, invitation, await hash_password(body.password), now)
    await audit.record(
        db,
        actor_id=user.id,
        action="admin.invitation.accept",
        resource_type="user",
        resource_id=user.id,
        client_address=address,
    )
    return Response(status_code=204)


async def _failed_login(
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
    await audit.record(
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
    await _count(deps, "failed_logins")
    return ApiError(401, "invalid_credentials", "Email or password is wrong.")


@router.post("/login", response_model=LoginResult, summary="Sign in; sets the session cookie")
async def login(
    body: Credentials, request: Request, response: Response, db: DbSession, deps: ServicesDep
) -> LoginResult:
    # Stricter limits on sign-in, per address and per account.
    await rate_limit.enforce(
        deps.redis,
        deps.settings.login_rate,
        ("login-address", client_address(request) or "unknown"),
        ("login-account", body.email.lower()),
    )
    user = await db.scalar(
        select(User).where(func.lower(User.email) == body.email.lower()).with_for_update()
    )
    now = datetime.now(UTC)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        await audit.record(
            db,
            actor_id=user.id,
            action="auth.login",
            resource_type="session",
            outcome="locked",
            client_address=client_address(request),
        )
        wait = int((user.locked_until - now).total_seconds()) + 1
        message = (
            "This account is locked; contact an administrator."
            if wait > 86400
            else f"Too many failed sign-ins; try again in {wait // 60 + 1} minutes."
        )
        await db.commit()  # the refused attempt stays on record
        raise ApiError(423, "locked", message, headers={"Retry-After": str(min(wait, 86400))})
    # Always one Argon2 verification, against a dummy hash for an unknown email: answering
    # an unknown email faster would tell whether an account exists.
    password_ok = await verify_password(user.password_hash if user else None, body.password)
    if user is None or not password_ok:
        error = await _failed_login(db, user, request, deps)
        await db.commit()  # the count and the audit record stand even though the request fails
        raise error
    mfa = False
    if user.totp_secret:
        if body.totp is None:
            raise ApiError(
                401, "mfa_required", "Enter the 6-digit code from your authenticator app."
            )
        if not await totp.verify(deps.redis, str(user.id), user.totp_secret, body.totp):
            error = await _failed_login(db, user, request, deps)
            await db.commit()
            raise error
        mfa = True
    user.failed_logins = 0
    user.locked_until = None
    session_id, session = await deps.sessions.create(str(user.id), user.role, mfa=mfa)
    await audit.record(
        db,
        actor_id=user.id,
        action="auth.login",
        resource_type="session",
        client_address=client_address(request),
    )
    await _count(deps, "logins")
    _set_cookies(response, session_id, session.csrf_token, deps.settings.cookie_secure)
    return LoginResult(
        user=UserView.of(user),
        csrf_token=session.csrf_token,
        mfa_enrollment_required=user.role == "admin" and not mfa,
    )


async def _count(deps: ServicesDep, name: str) -> None:
    """Bump this minute's tally `name` for the admin dashboard."""
    pipe = deps.redis.pipeline(transaction=False)
    rate_limit.tally(pipe, name)
    await pipe.execute()


def _set_cookies(response: Response, session_id: str, csrf: str, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, secure=secure, samesite="strict", path="/"
    )
    # Readable by the page, which echoes it in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=False, secure=secure, samesite="strict", path="/"
    )


@router.post("/logout", status_code=204, summary="End the session")
async def logout(
    caller: CurrentCaller, response: Response, db: DbSession, deps: ServicesDep
) -> Response:
    await deps.sessions.delete(caller.session_id)
    await audit.by(db, caller, "auth.logout", "session")
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserView, summary="The signed-in user")
async def me(caller: CurrentCaller, db: DbSession) -> UserView:
    user = await db.get(User, caller.user_id)
    if user is None:
        raise ApiError(401, "unauthenticated", "The account no longer exists.")
    return UserView.of(user)


@router.post("/mfa/enroll", response_model=MfaEnrollment, summary="Start TOTP enrollment")
async def enroll_mfa(caller: CurrentCaller, db: DbSession, deps: ServicesDep) -> MfaEnrollment:
    user = await db.get(User, caller.user_id)
    if user is None:
        raise ApiError(401, "unauthenticated", "The account no longer exists.")
    if user.totp_secret:
        raise ApiError(409, "mfa_enrolled", "A second factor is already enrolled.")
    secret = totp.new_secret()
    await deps.redis.set(f"mfa_pending:{user.id}", secret, ex=600)
    return MfaEnrollment(secret=secret, otpauth_uri=totp.enrollment_uri(secret, user.email))


@router.post("/mfa/verify", status_code=204, summary="Finish TOTP enrollment with a code")
async def verify_mfa(
    body: MfaCode, caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> Response:
    pending = await deps.redis.get(f"mfa_pending:{caller.user_id}")
    if pending is None:
        raise ApiError(409, "mfa_not_started", "Start enrollment first (it lasts 10 minutes).")
    secret = pending.decode() if isinstance(pending, bytes) else str(pending)
    ok = await totp.verify(deps.redis, str(caller.user_id), secret, body.code)
    await audit.by(
        db,
        caller,
        "auth.mfa_enroll",
        "user",
        caller.user_id,
        outcome="success" if ok else "failure",
    )
    if not ok:
        await db.commit()
        raise ApiError(422, "mfa_code_wrong", "That code is not valid now; try the current one.")
    user = await db.get(User, caller.user_id)
    assert user is not None
    user.totp_secret = secret
    await deps.redis.delete(f"mfa_pending:{caller.user_id}")
    await deps.sessions.mark_mfa(caller.session_id, caller.session)
    return Response(status_code=204)
