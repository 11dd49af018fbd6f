"""One's own account's security: change the password, see where one is signed in, sign a
session out, or every session at once; confirm one's email address; make recovery codes
for the authenticator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from health_platform.api import (
    account_deletion,
    email_links,
    examples,
    notices,
    rate_limit,
    recovery_codes,
    totp,
)
from health_platform.api.audit import Audit
from health_platform.api.data import accounts
from health_platform.api.deps import (
    Caller,
    CurrentCaller,
    DbSession,
    Services,
    ServicesDep,
    client_address,
)
from health_platform.api.errors import ApiError, not_found
from health_platform.api.models import User
from health_platform.api.password_policy import MAX_LENGTH, require_strong
from health_platform.api.passwords import hash_password, verify_password
from health_platform.api.routes.auth import LinkToken, NewPassword, Password
from health_platform.api.sessions import CSRF_COOKIE, SESSION_COOKIE, handle_of
from health_platform.api.sign_in_guard import guard_of

router = APIRouter(prefix="/api/account", tags=["account"])


class PasswordChange(BaseModel):
    model_config = examples.example(
        {"current_password": "correct horse battery", "new_password": "staple orbit lantern"},
        forbid_extra=True,
    )

    current_password: Annotated[Password, Field(min_length=1, max_length=MAX_LENGTH)]
    new_password: NewPassword


SESSION_EXAMPLE = {
    "id": "3f9a0c1d2b4e5f60",
    "signed_in_at": "2026-11-25T08:30:00Z",
    "address": "203.0.113.7",
    "agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)",
    "current": True,
}


class SessionView(BaseModel):
    model_config = examples.example(SESSION_EXAMPLE)

    id: str
    signed_in_at: datetime
    address: str | None
    agent: str | None
    current: bool


async def _require_password(
    deps: Services, caller: Caller, user: User, password: str, action: str, field: str
) -> None:
    """Refuse (403 wrong_password, at `field`) unless `password` is the account's. Each try
    costs an Argon2 check and guesses the password: limited and slowed down as sign-in is
    (a stolen session is not a way round the sign-in guard); the owner is told when tries
    start to wait, and each failure is audited as `action`."""
    await rate_limit.enforce(
        deps.redis, deps.settings.login_rate, ("password-change", str(caller.user_id))
    )
    address = caller.address or "unknown"
    guard = guard_of(deps.redis, deps.settings)
    await guard.refuse_if_waiting(user.email, address)
    if await verify_password(user.password_hash, password):
        return
    await Audit.of(deps.audit_trail, caller).refusal(action, "user", user.id, outcome="failure")
    if await guard.failed(user.email, address) is not None:
        deps.outbox.send_later(user.email, notices.password_change_failures(address))
    raise ApiError(
        403,
        "wrong_password",
        "The password is not right.",
        details=[{"field": field, "problem": "is not your password"}],
    )


@router.post(
    "/password",
    status_code=204,
    summary="Change one's password",
    responses={403: {"description": "The current password is not right (wrong_password)"}},
)
async def change_password(
    body: PasswordChange, caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> Response:
    user = await accounts.own(db, caller.user_id)
    await _require_password(
        deps, caller, user, body.current_password, "account.password_change", "current_password"
    )
    audit = Audit.of(deps.audit_trail, caller)
    await require_strong(body.new_password, user.email, user.display_name)
    user.password_hash = await hash_password(body.new_password)
    await audit.change(db, "account.password_change", "user", user.id)
    await db.commit()
    # Whoever knew the old password is signed out, and no reset link stays; this session does.
    await deps.sessions.delete_all_for(str(user.id), keep=caller.session_id)
    await email_links.revoke(deps.redis, "reset", user.id)
    deps.outbox.send_later(user.email, notices.password_changed(caller.address))
    return Response(status_code=204)


@router.get(
    "/sessions",
    response_model=list[SessionView],
    summary="Where one is signed in",
    responses=examples.json_response([SESSION_EXAMPLE]),
)
async def sessions(caller: CurrentCaller, deps: ServicesDep) -> list[SessionView]:
    current = handle_of(caller.session_id)
    return [
        SessionView(
            id=listed.handle,
            signed_in_at=datetime.fromtimestamp(listed.data.created_at, UTC),
            address=listed.data.address,
            agent=listed.data.agent,
            current=listed.handle == current,
        )
        for listed in await deps.sessions.of_user(str(caller.user_id))
    ]


@router.delete(
    "/sessions/{session}",
    status_code=204,
    summary="Sign one session out (this one too: its cookies are cleared)",
    responses={404: {"description": "No session of one's own has this id"}},
)
async def end_session(
    session: str, caller: CurrentCaller, response: Response, deps: ServicesDep
) -> Response:
    audit = Audit.of(deps.audit_trail, caller)
    if not await deps.sessions.delete_by_handle(str(caller.user_id), session):
        await audit.refusal("account.session_end", "session", session, outcome="not_found")
        raise not_found("session")
    await audit.act("account.session_end", "session", session)
    response.status_code = 204
    if session == handle_of(caller.session_id):
        _clear_cookies(response)
    return response


@router.post(
    "/sessions/sign-out-everywhere", status_code=204, summary="Sign every session out, this one too"
)
async def sign_out_everywhere(
    caller: CurrentCaller, response: Response, deps: ServicesDep
) -> Response:
    await deps.sessions.delete_all_for(str(caller.user_id))
    await Audit.of(deps.audit_trail, caller).act("account.sign_out_everywhere", "session")
    response.status_code = 204
    _clear_cookies(response)
    return response


def _clear_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


class LinkUse(BaseModel):
    model_config = examples.example({"token": "q3J0cH1Zb0x2c5Wm9aVt..."}, forbid_extra=True)

    token: LinkToken


class VerificationSent(BaseModel):
    model_config = examples.example({"sent": True})

    # False: a link went to the address within the hour, and it still works; no new one.
    sent: bool


@router.post(
    "/email/verification",
    response_model=VerificationSent,
    summary="Send the address a new link (at most one an hour)",
)
async def send_verification(
    caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> VerificationSent:
    await rate_limit.enforce(
        deps.redis, deps.settings.login_rate, ("verification", str(caller.user_id))
    )
    user = await accounts.own(db, caller.user_id)
    if user.email_verified_at is not None:
        return VerificationSent(sent=False)
    sent = await email_links.mail_link(
        deps.outbox, deps.settings.public_url, "verify", user, notices.verify_email
    )
    return VerificationSent(sent=sent)


@router.post(
    "/email/verify",
    status_code=204,
    summary="Confirm one's address (the link's token)",
    responses=email_links.INVALID_RESPONSES,
)
async def verify_email(
    body: LinkUse, request: Request, db: DbSession, deps: ServicesDep
) -> Response:
    # No session needed: the link may open in another browser; the token is the proof.
    anyone = Audit(deps.audit_trail, None, client_address(request))
    user, audit = await email_links.account_of(
        db, deps.redis, anyone, "verify", body.token, spend=False
    )
    user.email_verified_at = user.email_verified_at or datetime.now(UTC)
    await audit.change(db, email_links.ACTIONS["verify"], "user", user.id)
    await db.commit()
    await email_links.redeem(deps.redis, "verify", body.token)  # spent once it counted
    return Response(status_code=204)


class RecoveryCodes(BaseModel):
    model_config = examples.example(
        {"codes": ["k7hm-2qpx-9wzt", "b3nd-x8fr-q4ce"], "shown_once": True}
    )

    codes: list[str]
    shown_once: bool = True  # only their digests are kept: write them down now


@router.post(
    "/recovery-codes",
    response_model=RecoveryCodes,
    summary="Make new recovery codes (the earlier ones stop working)",
    responses={
        403: {"description": "This session did not prove the second factor"},
        409: {"description": "No authenticator is turned on"},
    },
)
async def make_recovery_codes(
    caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> RecoveryCodes:
    user = await accounts.own(db, caller.user_id)
    audit = Audit.of(deps.audit_trail, caller)
    if user.totp_secret is None:
        raise ApiError(409, "mfa_not_enabled", "Turn on the authenticator first.")
    if not caller.session.mfa:
        # Codes stand in for the second factor: only a session that proved it makes them.
        await audit.refusal("account.recovery_codes", "user", user.id, detail={"reason": "mfa"})
        raise ApiError(403, "mfa_required", "Sign in with your authenticator's code first.")
    codes = recovery_codes.new_set(user)
    detail = {"count": len(codes)}
    await audit.change(db, "account.recovery_codes", "user", user.id, detail=detail)
    return RecoveryCodes(codes=codes)


class TotpOff(BaseModel):
    model_config = examples.example(
        {"password": "correct horse battery", "code": "492039"}, forbid_extra=True
    )

    password: Password
    code: Annotated[str, Field(pattern=r"^\d{6}$")]


@router.post(
    "/totp/off",
    status_code=204,
    summary="Turn off one's authenticator (patients: it is optional for them)",
    responses={
        403: {"description": "Wrong password (wrong_password), or an administrator (forbidden)"},
        409: {"description": "No authenticator is turned on"},
        422: {"description": "The code is not the authenticator's current one"},
    },
)
async def turn_off_totp(
    body: TotpOff, caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> Response:
    """Both factors are asked for: a stolen session alone cannot weaken the account. The
    recovery codes go with the authenticator; the owner is told by email."""
    user = await accounts.own(db, caller.user_id)
    audit = Audit.of(deps.audit_trail, caller)
    if user.totp_secret is None:
        raise ApiError(409, "mfa_not_enabled", "Two-step sign-in is not on.")
    if user.role == "admin":
        detail = {"reason": "administrator"}
        await audit.refusal("account.mfa_disable", "user", user.id, detail=detail)
        raise ApiError(403, "forbidden", "Administrators keep two-step sign-in.")
    await _require_password(deps, caller, user, body.password, "account.mfa_disable", "password")
    if not await totp.verify(deps.redis, str(user.id), user.totp_secret, body.code):
        await audit.refusal("account.mfa_disable", "user", user.id, outcome="failure")
        raise ApiError(
            422,
            "mfa_code_wrong",
            "That code is not valid now; try the current one.",
            details=[{"field": "code", "problem": "is not your authenticator's current code"}],
        )
    user.totp_secret = user.recovery_codes = None
    await audit.change(db, "account.mfa_disable", "user", user.id)
    await db.commit()
    deps.outbox.send_later(user.email, notices.second_factor_off(caller.address))
    return Response(status_code=204)


class DeletionRequest(BaseModel):
    model_config = examples.example({"password": "correct horse battery"}, forbid_extra=True)

    password: Annotated[Password, Field(min_length=1, max_length=MAX_LENGTH)]


class DeletionScheduled(BaseModel):
    model_config = examples.example({"due_at": "2026-12-30T08:30:00Z"})

    due_at: datetime


@router.post(
    "/deletion",
    response_model=DeletionScheduled,
    summary="Ask for one's account to be deleted (after a grace period, cancellable)",
    responses={403: {"description": "The password is not right (wrong_password)"}},
)
async def ask_deletion(
    body: DeletionRequest, caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> DeletionScheduled:
    user = await accounts.own(db, caller.user_id)
    await _require_password(
        deps, caller, user, body.password, "account.deletion_request", "password"
    )
    audit = Audit.of(deps.audit_trail, caller)
    user.deletion_due_at = user.deletion_due_at or datetime.now(UTC) + account_deletion.GRACE
    due = user.deletion_due_at
    await audit.change(
        db, "account.deletion_request", "user", user.id, detail={"due": due.isoformat()}
    )
    await db.commit()
    deps.outbox.send_later(user.email, notices.deletion_requested(due.date().isoformat()))
    return DeletionScheduled(due_at=due)


@router.delete(
    "/deletion",
    status_code=204,
    summary="Keep one's account: cancel the deletion asked for",
)
async def cancel_deletion(caller: CurrentCaller, db: DbSession, deps: ServicesDep) -> Response:
    user = await accounts.own(db, caller.user_id)
    if user.deletion_due_at is not None:
        user.deletion_due_at = None
        await Audit.of(deps.audit_trail, caller).change(
            db, "account.deletion_cancel", "user", user.id
        )
        await db.commit()
        deps.outbox.send_later(user.email, notices.deletion_cancelled())
    return Response(status_code=204)
