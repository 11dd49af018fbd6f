"""Accounts and sessions: register (patient), an invited administrator's password, login,
logout, the current user, TOTP enrollment."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from health_platform.api import (
    email_links,
    examples,
    invitations,
    notices,
    rate_limit,
    recovery_codes,
    totp,
    unit_preferences,
)
from health_platform.api.audit import Audit
from health_platform.api.data import accounts
from health_platform.api.deps import (
    CurrentCaller,
    DbSession,
    Services,
    ServicesDep,
    client_address,
)
from health_platform.api.errors import ApiError
from health_platform.api.models import User
from health_platform.api.password_policy import MAX_LENGTH, MIN_LENGTH, require_strong
from health_platform.api.passwords import hash_password, verify_password
from health_platform.api.sessions import CSRF_COOKIE, SESSION_COOKIE
from health_platform.api.sign_in_guard import guard_of
from health_platform.api.unit_preferences import UnitPreferences
from health_platform.contract import FAILED_LOGIN_EVENT

router = APIRouter(prefix="/api/auth", tags=["auth"])
log = logging.getLogger("health_platform.api.auth")


# A password is taken exactly as typed: spaces are characters like any other (the models'
# whitespace stripping is for names and emails). A new one (sign-up, an invitation) must
# also be long and hard to guess (password_policy); a sign-in takes any up to the maximum.
Password = Annotated[str, StringConstraints(strip_whitespace=False)]
NewPassword = Annotated[Password, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
# A token from a link's fragment (an invitation, a confirmation, a reset): URL-safe base64.
LinkToken = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
# Wrong codes before a pending TOTP enrollment is dropped (6 digits: guessing is the threat).
ENROLLMENT_ATTEMPTS = 5
PENDING_ENROLLMENT_SECONDS = 600


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
    token: LinkToken
    password: NewPassword


class Credentials(Strict):
    model_config = examples.example(
        {"email": "ada@example.com", "password": "correct horse battery", "totp": "492039"}
    )

    email: EmailStr
    password: Annotated[Password, Field(min_length=1, max_length=MAX_LENGTH)]
    totp: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None
    # In place of `totp`, when the authenticator is lost: one of the account's codes, once
    # (as written down: any case).
    recovery_code: (
        Annotated[str, StringConstraints(to_lower=True, pattern=f"(?i){recovery_codes.PATTERN}")]
        | None
    ) = None


class UserView(BaseModel):
    model_config = examples.example(examples.USER)

    id: str
    email: str
    display_name: str
    role: str
    mfa_enabled: bool
    # Whether the owner opened a link sent to the address (the application reminds them).
    email_verified: bool
    # The units measurements are shown and entered in (api/unit_preferences.py).
    units: UnitPreferences
    # When the deletion its owner asked for is due (None: none asked).
    deletion_due_at: datetime | None = None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=str(user.id),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            mfa_enabled=user.totp_secret is not None,
            email_verified=user.email_verified_at is not None,
            units=unit_preferences.of(user.unit_preferences),
            deletion_due_at=user.deletion_due_at,
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


REGISTERED = (
    "If this email had no account, it has one now: sign in with the password you chose."
    " Either way, we sent a message to the address."
)


class RegistrationReceipt(BaseModel):
    model_config = examples.example({"email": "ada@example.com", "message": REGISTERED})

    email: str
    message: str


@router.post(
    "/register",
    status_code=201,
    response_model=RegistrationReceipt,
    summary="Create a patient account",
    description="A new and an already registered email get the same answer (saying which"
    " would tell anyone whose email has an account); the address's owner is told by email"
    " which it was. A new account can sign in at once.",
    responses={
        422: {"description": "Invalid input, or a password that is too easy to guess"},
        429: {"description": "Too many registrations from this address"},
    },
)
async def register(
    body: Registration,
    request: Request,
    db: DbSession,
    deps: ServicesDep,
) -> RegistrationReceipt:
    address = client_address(request)
    # Each registration costs an Argon2 hash: limited like sign-in, not by the general limit.
    await rate_limit.enforce(
        deps.redis, deps.settings.login_rate, ("register-address", address or "unknown")
    )
    email = body.email.lower()
    await require_strong(body.password, email, body.display_name)
    # Hashed whether or not the email is taken: the time taken tells nothing either.
    password_hash = await hash_password(body.password)
    created = await accounts.register(db, email, password_hash, body.display_name)
    audit = Audit(deps.audit_trail, None, address)
    if created is None:
        existing = await accounts.id_of(db, email)
        detail = {"reason": "email_taken"}
        await audit.refusal("account.register", "user", existing, detail=detail)
        notice = notices.registration_attempt()
    else:
        await audit.acting_as(created).change(db, "account.register", "user", created)
        link = await email_links.issue(deps.redis, deps.settings.public_url, "verify", created)
        notice = notices.welcome(link)
    await db.commit()  # told only of what stands
    _tell(deps, email, notice)
    return RegistrationReceipt(email=email, message=REGISTERED)


def _tell(deps: Services, to: str, notice: notices.Notice) -> None:
    """Email `notice` to `to` beside the response."""
    deps.outbox.send_later(to, notice)


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
        422: {"description": "Invalid input, or a password that is too easy to guess"},
        429: {"description": "Too many attempts from this address"},
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
    audit = Audit(deps.audit_trail, None, address)
    if refused is not None:
        invited_id = invitation.user_id if invitation else None
        detail = {"reason": refused}
        await audit.refusal("admin.invitation.accept", "user", invited_id, detail=detail)
        log.warning(
            "enrollment link refused",
            extra={"event": "invitation.refused", "outcome": refused, "client": address},
        )
        raise ApiError(*INVITATION_REFUSALS[refused])
    assert invitation is not None
    invited = await accounts.get(db, invitation.user_id)
    assert invited is not None  # the foreign key deletes the invitation with its user
    await require_strong(body.password, invited.email, invited.display_name)
    user = await invitations.accept(db, invitation, await hash_password(body.password), now)
    await audit.acting_as(user.id).change(db, "admin.invitation.accept", "user", user.id)
    return Response(status_code=204)


async def _second_factor_holds(deps: Services, user: User, body: Credentials) -> bool:
    """The account's second factor, if it has one: the current TOTP code, or an unused
    recovery code (used up here, in the sign-in's transaction; the owner is told)."""
    if not user.totp_secret:
        return True
    if body.recovery_code is not None:
        if not recovery_codes.redeem(user, body.recovery_code):
            return False
        _tell(deps, user.email, notices.recovery_code_used(recovery_codes.left(user)))
        return True
    return await totp.verify(deps.redis, str(user.id), user.totp_secret, body.totp or "")


async def _failed_login(
    db: DbSession,
    user: User | None,
    email: str,
    address: str,
    deps: Services,
    *,
    outcome: str = "failure",
) -> ApiError:
    """Count and record a failed sign-in, and commit them (they stand though the request
    fails); tell the owner when it starts slowing a source, or the whole account down.
    `outcome` "code_asked": the right password without the code, counted the same way
    (the answers must not differ) but neither a failure on the owner's record nor a
    security event."""
    milestone = await guard_of(deps.redis, deps.settings).failed(email, address)
    failed = outcome != "code_asked"
    if user is not None and failed:
        user.failed_logins += 1  # since the last success, for the administrators' list
        if milestone is not None:
            _tell(deps, user.email, notices.failed_sign_ins(milestone, address))
    audit = Audit(deps.audit_trail, user.id if user else None, address)
    await audit.refusal("auth.login", "session", outcome=outcome)
    await db.commit()  # the count on the owner's record stands though the request fails
    if failed:
        # The security event the observability stack's metric filter counts.
        log.warning(
            "failed login",
            extra={
                "event": FAILED_LOGIN_EVENT,
                "client": address,
                "user_id": str(user.id) if user else None,
            },
        )
    # A tally either way, so the two answers cost the same round trips.
    await _count(deps, "failed_logins" if failed else "codes_asked")
    return ApiError(401, "invalid_credentials", "Email or password is wrong.")


@router.post(
    "/login",
    response_model=LoginResult,
    summary="Sign in; sets the session cookie",
    description="A wrong password or code answers 401 `invalid_credentials` whatever was"
    " wrong, and so does an account an administrator locked (its owner is told by email)."
    " An account with a second factor answers 401 `mfa_required` to a request without a"
    " code, whether or not its password was right, and counts it alike: no oracle of the"
    " password. After a few failures from one source (an IPv4 address, an IPv6 /64), that"
    " source must wait longer before each attempt at that account (429 with Retry-After);"
    " after many from anywhere, so must every source that never signed in to it. The"
    " owner's own sources are not slowed.",
    responses={
        401: {"description": "Wrong credentials, or a code is required"},
        429: {"description": "Too many attempts from this address"},
    },
)
async def login(
    body: Credentials,
    request: Request,
    response: Response,
    db: DbSession,
    deps: ServicesDep,
) -> LoginResult:
    email = body.email.lower()
    address = client_address(request) or "unknown"
    await rate_limit.enforce(deps.redis, deps.settings.login_rate, ("login-address", address))
    guard = guard_of(deps.redis, deps.settings)
    await guard.refuse_if_waiting(email, address)
    user = await accounts.for_sign_in(db, email)
    # Always one Argon2 verification, against a dummy hash for an unknown email: answering
    # an unknown email faster would tell whether an account exists.
    password_ok = await verify_password(user.password_hash if user else None, body.password)
    second_factor_given = body.totp is not None or body.recovery_code is not None
    if user is not None and user.totp_secret and not second_factor_given:
        # Right password or wrong, the same answer and the same count: neither the answer,
        # its time, nor the source's wait that follows tells which (no password oracle).
        # A sign-in with the code clears the count.
        outcome = "code_asked" if password_ok else "failure"
        await _failed_login(db, user, email, address, deps, outcome=outcome)
        raise ApiError(401, "mfa_required", "Enter the 6-digit code from your authenticator app.")
    if user is None or not password_ok:
        raise await _failed_login(db, user, email, address, deps)
    if user.locked_until is not None and user.locked_until > datetime.now(UTC):
        # Answered as a wrong password, and counted: a locked account is no oracle of its
        # password either. The owner, who knows it was right, is told by email. Checked
        # before the second factor, so no recovery code is spent on a refusal.
        _tell(deps, user.email, notices.locked())
        raise await _failed_login(db, user, email, address, deps, outcome="locked")
    if not await _second_factor_holds(deps, user, body):
        raise await _failed_login(db, user, email, address, deps)
    mfa = bool(user.totp_secret)
    await guard.succeeded(email, address)
    user.failed_logins = 0
    session_id, session = await deps.sessions.create(
        str(user.id),
        user.role,
        mfa=mfa,
        address=address,
        agent=request.headers.get("user-agent"),
    )
    await Audit(deps.audit_trail, user.id, address).change(db, "auth.login", "session")
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
    await Audit.of(deps.audit_trail, caller).change(db, "auth.logout", "session")
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserView, summary="The signed-in user")
async def me(caller: CurrentCaller, db: DbSession) -> UserView:
    user = await accounts.own(db, caller.user_id)
    return UserView.of(user)


@router.post(
    "/mfa/enroll",
    response_model=MfaEnrollment,
    summary="Start TOTP enrollment",
    responses={409: {"description": "Already enrolled, or (a patient) the email not confirmed"}},
)
async def enroll_mfa(caller: CurrentCaller, db: DbSession, deps: ServicesDep) -> MfaEnrollment:
    user = await accounts.own(db, caller.user_id)
    if user.totp_secret:
        raise ApiError(409, "mfa_enrolled", "A second factor is already enrolled.")
    if user.role == "patient" and user.email_verified_at is None:
        # Else whoever registered someone else's address first could lock its owner out
        # behind an authenticator of their own, past a reset.
        raise ApiError(
            409,
            "email_unconfirmed",
            "Confirm your email address first (the link sent to it), then turn this on.",
        )
    secret = totp.new_secret()
    pipe = deps.redis.pipeline(transaction=False)
    pipe.set(f"mfa_pending:{user.id}", secret, ex=PENDING_ENROLLMENT_SECONDS)
    pipe.delete(f"mfa_attempts:{user.id}")  # a new secret, a new allowance
    await pipe.execute()
    return MfaEnrollment(secret=secret, otpauth_uri=totp.enrollment_uri(secret, user.email))


@router.post(
    "/mfa/verify",
    status_code=204,
    summary="Finish TOTP enrollment with a code",
    description=f"After {ENROLLMENT_ATTEMPTS} wrong codes the pending enrollment is dropped:"
    " start again with a new secret.",
    responses={
        409: {"description": "No enrollment in progress (or it was dropped)"},
        422: {"description": "The code is wrong"},
    },
)
async def verify_mfa(
    body: MfaCode, caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> Response:
    pending_key = f"mfa_pending:{caller.user_id}"
    attempts_key = f"mfa_attempts:{caller.user_id}"
    pending = await deps.redis.get(pending_key)
    if pending is None:
        raise ApiError(
            409,
            "mfa_not_started",
            f"Start enrollment first (it lasts {PENDING_ENROLLMENT_SECONDS // 60} minutes).",
        )
    secret = pending.decode() if isinstance(pending, bytes) else str(pending)
    # Counted before the code is checked, so codes sent at once cannot all be tried: six
    # digits are a million guesses; a few tries per secret, then a new secret.
    pipe = deps.redis.pipeline(transaction=False)
    pipe.incr(attempts_key)
    pipe.expire(attempts_key, PENDING_ENROLLMENT_SECONDS)
    attempts = int((await pipe.execute())[0])
    if attempts > ENROLLMENT_ATTEMPTS:
        await deps.redis.delete(pending_key, attempts_key)
        raise ApiError(409, "mfa_not_started", "Too many wrong codes; start enrollment again.")
    ok = await totp.verify(deps.redis, str(caller.user_id), secret, body.code)
    audit = Audit.of(deps.audit_trail, caller)
    if not ok:
        await audit.refusal("auth.mfa_enroll", "user", caller.user_id, outcome="failure")
        if attempts == ENROLLMENT_ATTEMPTS:  # that was the last try
            await deps.redis.delete(pending_key, attempts_key)
            raise ApiError(
                409,
                "mfa_not_started",
                "Too many wrong codes; start enrollment again with a new secret.",
            )
        raise ApiError(422, "mfa_code_wrong", "That code is not valid now; try the current one.")
    user = await accounts.get(db, caller.user_id)
    assert user is not None
    user.totp_secret = secret
    await audit.change(db, "auth.mfa_enroll", "user", caller.user_id)
    await deps.redis.delete(pending_key, attempts_key)
    await deps.sessions.mark_mfa(caller.session_id, caller.session)
    return Response(status_code=204)
