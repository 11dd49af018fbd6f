"""Administrators who choose their own password: invited by the operator, enrolled through a
one-time link.

An environment's first administrator is made by a one-off task, whose command line (the
task's overrides) and output (CloudWatch) are kept, so it must see no secret. The operator's
terminal (`hp users create-admin ENV`, ops/admins.py) draws a one-time token and gives the
task only its SHA-256 digest; the task (`python -m health_platform.api.create_admin`) makes
the account with no password, which no one can sign in to, and stores the digest with an
expiry (`invite_admin`). The operator hands the new administrator the link
`https://<domain>/enroll#token=<token>`, whose fragment never reaches a server or its logs;
the page it opens sends the token and a new password to the API, which sets the password
(`find`, `refusal`, `accept`). Sign-in then requires the administrator to enroll TOTP before
anything else.

`invite_admin` is synchronous (the one-off task has no event loop); the rest serve the API's
asyncio routes."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from health_platform.api.models import AdminInvitation, AuditRecord, User
from health_platform.errors import InvalidInputError

VALID_FOR = timedelta(hours=72)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")

Refusal = Literal["unknown", "used", "expired"]


@dataclass(frozen=True)
class Invitation:
    """What the task may print: nothing here is a secret."""

    user_id: uuid.UUID
    email: str
    expires_at: datetime


def token_sha256(token: str) -> str:
    """The digest the database keeps of `token`, and the only form of it the task sees (the
    operator's terminal computes it alike: ops/admins.py's `enrollment_token`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _email(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as invalid:
        raise InvalidInputError(f"{email!r} is not an email address: {invalid}") from invalid


def _name(display_name: str) -> str:
    name = display_name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInputError("The name must have 1 to 100 characters.")
    return name


def invite_admin(
    database_url: str,
    email: str,
    display_name: str,
    token_sha256: str,
    *,
    valid_for: timedelta = VALID_FOR,
) -> Invitation:
    """Make an administrator with no password, its invitation and the audit record of both,
    in one transaction. `database_url`: the owner's (the runtime role may not invite).
    Raises InvalidInputError for a bad email, name or digest, an email already taken, or a
    digest already used."""
    address, name = _email(email), _name(display_name)
    # The message does not repeat the digest: the task's output keeps nothing of the token.
    if not _SHA256_HEX.fullmatch(token_sha256):
        raise InvalidInputError("The token's digest must be 64 lowercase hexadecimal characters.")
    if valid_for <= timedelta(0):
        raise InvalidInputError("An invitation must be valid for some time.")
    expires_at = datetime.now(UTC) + valid_for
    # hide_parameters: an error's text would otherwise carry the statement's values, the
    # digest among them, into the task's log.
    engine = create_engine(database_url, hide_parameters=True)
    try:
        with Session(engine) as session, session.begin():
            taken = session.scalar(
                select(User).where(func.lower(User.email) == address).with_for_update()
            )
            if taken is not None and not _awaits_a_password(session, taken):
                raise InvalidInputError(f"An account with {address} exists already.")
            action = "admin.user.invite"
            if taken is None:
                user = User(email=address, password_hash=None, display_name=name, role="admin")
                session.add(user)
                session.flush()
            else:
                # An invitation that expired or was lost: a new link replaces it; the
                # account stays as it was, without a password.
                user, action = taken, "admin.user.reinvite"
                session.execute(delete(AdminInvitation).where(AdminInvitation.user_id == user.id))
            user_id = user.id
            session.add(
                AdminInvitation(user_id=user_id, token_sha256=token_sha256, expires_at=expires_at)
            )
            session.add(
                AuditRecord(
                    actor_id=None,  # the operator at the machine, not an account
                    action=action,
                    resource_type="user",
                    resource_id=str(user_id),
                    outcome="success",
                    detail={"via": "hp users create-admin"},
                )
            )
            session.flush()
    except IntegrityError as clash:
        # Another invitation won a race for the email, or the digest was used before.
        constraint = getattr(getattr(clash.orig, "diag", None), "constraint_name", None) or ""
        if "token_sha256" in constraint:
            raise InvalidInputError("This token was used before; make a new one.") from None
        raise InvalidInputError(f"An account with {address} exists already.") from None
    finally:
        engine.dispose()
    return Invitation(user_id, address, expires_at)


def _awaits_a_password(session: Session, user: User) -> bool:
    """An administrator invited but never enrolled: no password, an unused invitation."""
    if user.password_hash is not None or user.role != "admin":
        return False
    unused = session.scalar(
        select(AdminInvitation.user_id).where(
            AdminInvitation.user_id == user.id, AdminInvitation.used_at.is_(None)
        )
    )
    return unused is not None


async def find(session: AsyncSession, token_sha256: str) -> AdminInvitation | None:
    """The invitation with this digest, locked until the transaction ends (two requests
    with one token must not both set a password)."""
    return await session.scalar(
        select(AdminInvitation)
        .where(AdminInvitation.token_sha256 == token_sha256)
        .with_for_update()
    )


def refusal(invitation: AdminInvitation | None, now: datetime) -> Refusal | None:
    """Why `invitation` cannot be accepted at `now`, or None when it can."""
    if invitation is None:
        return "unknown"
    if invitation.used_at is not None:
        return "used"
    if invitation.expires_at <= now:
        return "expired"
    return None


async def accept(
    session: AsyncSession, invitation: AdminInvitation, password_hash: str, now: datetime
) -> User:
    """Give the invited account its password and spend the invitation."""
    user = await session.get(User, invitation.user_id, with_for_update=True)
    assert user is not None  # the foreign key deletes the invitation with its user
    user.password_hash = password_hash
    invitation.used_at = now
    return user
