"""One's own account's security: change the password, see where one is signed in, sign a
session out, or every session at once; confirm one's email address; make recovery codes
for the authenticator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from health_platform.api import email_links, examples, notices, rate_limit, recovery_codes
from health_platform.api.audit import Audit
from health_platform.api.data import accounts
from health_platform.api.deps import CurrentCaller, DbSession, ServicesDep, client_address
from health_platform.api.errors import ApiError, not_found
from health_platform.api.password_policy import MAX_LENGTH, MIN_LENGTH, require_strong
from health_platform.api.passwords import hash_password, verify_password
from health_platform.api.sessions import CSRF_COOKIE, SESSION_COOKIE, handle_of

router = APIRouter(prefix="/api/account", tags=["account"])


class PasswordChange(BaseModel):
    model_config = examples.example(
        {"current_password": "correct horse battery", "new_password": "staple orbit lantern"},
        forbid_extra=True,
    )

    current_password: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
    new_password: Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


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


@router.post("/password", status_code=204, summary="Change one's password")
async def change_password(
    body: PasswordChange, caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> Response:
    # Each try costs an Argon2 check of the current password: limited like sign-in.
    await rate_limit.enforce(
        deps.redis, deps.settings.login_rate, ("password-change", str(caller.user_id))
    )
    user = await accounts.get(db, caller.user_id)
    if user is None:
        raise ApiError(401, "unauthenticated", "The account no longer exists.")
    audit = Audit.of(deps.audit_trail, caller)
    if not await verify_password(user.password_hash, body.current_password):
        await audit.refusal("account.password_change", "user", user.id, outcome="failure")
        raise ApiError(
            403,
            "wrong_password",
            "The current password is not right.",
            details=[{"field": "current_password", "problem": "is not the account's password"}],
        )
    await require_strong(body.new_password, user.email, user.display_name)
    user.password_hash = await hash_password(body.new_password)
    await audit.change(db, "account.password_change", "user", user.id)
    await db.commit()
    # Whoever knew the old password is signed out; this session stays.
    await deps.sessions.delete_all_for(str(user.id), keep=caller.session_id)
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


@router.delete("/sessions/{session}", status_code=204, summary="Sign one session out")
async def end_session(session: str, caller: CurrentCaller, deps: ServicesDep) -> Response:
    if not await deps.sessions.delete_by_handle(str(caller.user_id), session):
        raise not_found("session")
    await Audit.of(deps.audit_trail, caller).read("account.session_end", "session", session)
    return Response(status_code=204)


@router.post(
    "/sessions/sign-out-everywhere", status_code=204, summary="Sign every session out, this one too"
)
async def sign_out_everywhere(
    caller: CurrentCaller, response: Response, deps: ServicesDep
) -> Response:
    await deps.sessions.delete_all_for(str(caller.user_id))
    await Audit.of(deps.audit_trail, caller).read("account.sign_out_everywhere", "session")
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


class LinkToken(BaseModel):
    model_config = examples.example({"token": "q3J0cH1Zb0x2c5Wm9aVt..."}, forbid_extra=True)

    token: Annotated[str, Field(min_length=16, max_length=100)]


@router.post("/email/verification", status_code=204, summary="Send the address a new link")
async def send_verification(caller: CurrentCaller, db: DbSession, deps: ServicesDep) -> Response:
    await rate_limit.enforce(
        deps.redis, deps.settings.login_rate, ("verification", str(caller.user_id))
    )
    user = await accounts.get(db, caller.user_id)
    if user is None:
        raise ApiError(401, "unauthenticated", "The account no longer exists.")
    if user.email_verified_at is None:
        link = await email_links.issue(deps.redis, deps.settings.public_url, "verify", user.id)
        deps.outbox.send_later(user.email, notices.verify_email(link))
    return Response(status_code=204)


@router.post("/email/verify", status_code=204, summary="Confirm one's address (the link's token)")
async def verify_email(
    body: LinkToken, request: Request, db: DbSession, deps: ServicesDep
) -> Response:
    # No session needed: the link may open in another browser; the token is the proof.
    anyone = Audit(deps.audit_trail, None, client_address(request))
    user, audit = await email_links.account_of(
        db, deps.redis, anyone, "verify", body.token, spend=True
    )
    user.email_verified_at = user.email_verified_at or datetime.now(UTC)
    await audit.change(db, email_links.ACTIONS["verify"], "user", user.id)
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
)
async def make_recovery_codes(
    caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> RecoveryCodes:
    user = await accounts.get(db, caller.user_id)
    if user is None:
        raise ApiError(401, "unauthenticated", "The account no longer exists.")
    if user.totp_secret is None:
        raise ApiError(409, "mfa_not_enabled", "Turn on the authenticator first.")
    if not caller.session.mfa:
        # Codes stand in for the second factor: only a session that proved it makes them.
        raise ApiError(403, "mfa_required", "Sign in with your authenticator's code first.")
    codes = recovery_codes.new_set(user)
    detail = {"count": len(codes)}
    await Audit.of(deps.audit_trail, caller).change(
        db, "account.recovery_codes", "user", user.id, detail=detail
    )
    return RecoveryCodes(codes=codes)
