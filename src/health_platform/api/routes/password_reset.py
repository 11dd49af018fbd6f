"""A forgotten password: a link to choose a new one, sent only to a confirmed address.

Asking answers the same whether the address has an account, a confirmed one or none
(nothing to enumerate); the owner of an unconfirmed address is sent a confirmation link
instead. Choosing the new password ends every session of the account."""

from __future__ import annotations

import asyncio
import hashlib

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr

from health_platform.api import email_links, examples, notices, rate_limit
from health_platform.api.audit import Audit
from health_platform.api.data import accounts
from health_platform.api.deps import DbSession, Services, ServicesDep, client_address
from health_platform.api.models import User
from health_platform.api.password_policy import require_strong
from health_platform.api.passwords import hash_password
from health_platform.api.routes.auth import LinkToken, NewPassword

router = APIRouter(prefix="/api/auth/password-reset", tags=["auth"])
# The links being looked up and sent (the loop keeps tasks only weakly).
_pending: set[asyncio.Task[None]] = set()
ASKED = (
    "If the address has an account, a message is on its way to it (at most one an hour:"
    " the link in the last one works until then)."
)


class ResetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"email": "ada@example.com"}]},
    )

    email: EmailStr


class ResetAsked(BaseModel):
    model_config = examples.example({"message": ASKED})

    message: str


class NewPasswordChoice(BaseModel):
    model_config = examples.example(
        {"token": "q3J0cH1Zb0x2c5Wm9aVt...", "new_password": "staple orbit lantern"},
        forbid_extra=True,
    )

    token: LinkToken
    new_password: NewPassword


def resettable(user: User) -> bool:
    """Whether a reset link may be sent for the account: one whose owner chose a password
    (an invited administrator who never did holds only the operator's link), and no
    administrator without the second factor (between a reset of it and its enrolment)."""
    return user.password_hash is not None and not (user.role == "admin" and not user.totp_secret)


async def _send_link(deps: Services, email: str, address: str) -> None:
    """The link, if the address has an account that may have one; off the request, so the
    answer takes as long whatever the address (no timing to tell accounts apart)."""
    async with deps.database.session() as db:
        user = await accounts.by_email(db, email)
        if user is None or not resettable(user):
            return
        confirmed = user.email_verified_at is not None
        purpose: email_links.Purpose = "reset" if confirmed else "verify"
        notice = notices.password_reset if confirmed else notices.reset_needs_a_confirmed_address
        await email_links.mail_link(deps.outbox, deps.settings.public_url, purpose, user, notice)
        await Audit(deps.audit_trail, None, address).act(
            "account.password_reset_asked", "user", user.id, detail={"confirmed": confirmed}
        )


@router.post("", status_code=202, response_model=ResetAsked, summary="Ask for a reset link")
async def ask(body: ResetRequest, request: Request, deps: ServicesDep) -> ResetAsked:
    address = client_address(request) or "unknown"
    email = body.email.lower()
    # Per address and per account (its digest: no address in Redis's keys): neither a
    # mailbox nor the mailer is anyone's to flood.
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    for key in (("reset-address", address), ("reset-email", digest)):
        await rate_limit.enforce(deps.redis, deps.settings.login_rate, key)
    task = asyncio.create_task(_send_link(deps, email, address))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return ResetAsked(message=ASKED)


@router.post(
    "/confirm",
    status_code=204,
    summary="Choose a new password (the link's token)",
    responses=email_links.INVALID_RESPONSES,
)
async def confirm(
    body: NewPasswordChoice, request: Request, db: DbSession, deps: ServicesDep
) -> Response:
    anyone = Audit(deps.audit_trail, None, client_address(request))
    user, audit = await email_links.account_of(
        db, deps.redis, anyone, "reset", body.token, spend=False
    )
    if not resettable(user):  # made resettable-less since the link went out
        await audit.refusal(email_links.ACTIONS["reset"], "user", user.id)
        raise email_links.invalid()
    await require_strong(body.new_password, user.email, user.display_name)  # link kept
    if await email_links.redeem(deps.redis, "reset", body.token) is None:  # used meanwhile
        raise email_links.invalid()
    user.password_hash = await hash_password(body.new_password)
    user.failed_logins = 0
    await audit.change(db, email_links.ACTIONS["reset"], "user", user.id)
    await db.commit()
    await deps.sessions.delete_all_for(str(user.id))  # whoever had the old one is out
    deps.outbox.send_later(user.email, notices.password_changed(client_address(request)))
    return Response(status_code=204)
