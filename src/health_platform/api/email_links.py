"""One-time links sent to an account's address: to show the address is its owner's, and to
choose a new password. The token travels in the link's fragment (never sent to a server,
so in no log); Redis keeps only its SHA-256, with the account it is for, until it is used
or expires."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from typing import Any, Literal

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api.audit import Audit
from health_platform.api.data import accounts
from health_platform.api.errors import ApiError
from health_platform.api.mail import Outbox
from health_platform.api.models import User
from health_platform.api.notices import Notice

Purpose = Literal["verify", "reset"]
# How long a link works: a reset soon, or not at all; a verification within the week.
LIFETIME_SECONDS: dict[Purpose, int] = {"verify": 7 * 24 * 3600, "reset": 3600}
# Where the application opens each link (frontend routes).
PATHS: dict[Purpose, str] = {"verify": "/verify-email", "reset": "/reset-password"}
# The audit action of using each.
ACTIONS: dict[Purpose, str] = {
    "verify": "account.email_verify",
    "reset": "account.password_reset",
}


def _key(purpose: Purpose, token: str) -> str:
    return f"email_link:{purpose}:{hashlib.sha256(token.encode()).hexdigest()}"


def _live(purpose: Purpose, user_id: uuid.UUID) -> str:
    """Where the key of a user's one live link of a purpose is kept."""
    return f"email_link_live:{purpose}:{user_id}"


async def issue(redis: Redis, public_url: str, purpose: Purpose, user_id: uuid.UUID) -> str:
    """A new link for `user_id`; the earlier one of the same purpose stops working (one live
    link a purpose: an old reset link found in a mailbox later opens nothing)."""
    await revoke(redis, purpose, user_id)
    token = secrets.token_urlsafe(32)
    lifetime = LIFETIME_SECONDS[purpose]
    await redis.set(_key(purpose, token), str(user_id), ex=lifetime)
    await redis.set(_live(purpose, user_id), _key(purpose, token), ex=lifetime)
    return f"{public_url}{PATHS[purpose]}#token={token}"


async def mail_link(
    outbox: Outbox,
    public_url: str,
    purpose: Purpose,
    user: User,
    notice_of: Callable[[str], Notice],
) -> bool:
    """Issue a link and mail it (`notice_of(link)`), unless a message of that kind went to
    the address within the Outbox's limit: then nothing is issued or sent, and the link
    already mailed keeps working (issuing one would end it with no mail to replace it).
    Whether a link was sent."""
    subject, _ = notice_of("")
    if not await outbox.claim(user.email, subject):
        return False
    link = await issue(outbox.redis, public_url, purpose, user.id)
    outbox.send_claimed_later(user.email, notice_of(link))
    return True


async def revoke(redis: Redis, purpose: Purpose, user_id: uuid.UUID) -> None:
    """End the user's live link of `purpose` (a password changed: no reset link stays)."""
    live = await redis.getdel(_live(purpose, user_id))
    if live is not None:
        await redis.delete(live)


def _user(found: bytes | str | None) -> uuid.UUID | None:
    if found is None:
        return None
    return uuid.UUID(found.decode() if isinstance(found, bytes) else found)


async def holder(redis: Redis, purpose: Purpose, token: str) -> uuid.UUID | None:
    """The account a token was issued for, the token left as it is (a refused new password
    must not spend the link)."""
    return _user(await redis.get(_key(purpose, token)))


async def redeem(redis: Redis, purpose: Purpose, token: str) -> uuid.UUID | None:
    """The account a token was issued for, once: the token is gone after this (of two
    requests with one token, one gets None)."""
    return _user(await redis.getdel(_key(purpose, token)))


# How the routes that take a link's token document its refusal (`invalid`).
INVALID_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The link is not valid any more (link_invalid)"}
}


def invalid() -> ApiError:
    return ApiError(400, "link_invalid", "This link is not valid any more; ask for a new one.")


async def account_of(
    db: AsyncSession, redis: Redis, audit: Audit, purpose: Purpose, token: str, *, spend: bool
) -> tuple[User, Audit]:
    """The account a link's token names, and `audit` acting as it; a token that names none
    is refused (400), the attempt on record as a refusal of ACTIONS[purpose]. `spend`: the
    token is used up here; otherwise the caller redeems it once its change is sure."""
    found = await (redeem if spend else holder)(redis, purpose, token)
    user = await accounts.get(db, found) if found else None
    acting = audit.acting_as(found)
    if user is None:
        await acting.refusal(ACTIONS[purpose], "user", found, detail={"reason": "token"})
        raise invalid()
    return user, acting
