"""Accounts: registered, found for a sign-in, and listed for administrators (found by part
of their address, a page at a time)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api.data.pages import ListQuery, Page, contains, read_page
from health_platform.api.db import Database
from health_platform.api.errors import ApiError
from health_platform.api.models import AuditRecord, User

LIST = ListQuery(
    User.__tablename__,
    (
        "id",
        "email",
        "display_name",
        "role",
        "locked_until",
        "totp_secret IS NOT NULL AS mfa_enabled",  # whether, never the secret
        "email_verified_at IS NOT NULL AS email_verified",
        "created_at",
        # Through the index of successful sign-ins (migration 0007): one entry per account.
        (
            f"(SELECT max(at) FROM {AuditRecord.__tablename__} WHERE actor_id = users.id"  # noqa: S608
            " AND action = 'auth.login' AND outcome = 'success') AS last_sign_in_at"
        ),
    ),
    "created_at, id",
)


async def page(database: Database, email_part: str | None, limit: int, offset: int) -> Page:
    conditions = ("email ILIKE %(email)s ESCAPE '\\'",) if email_part is not None else ()
    params = {"email": contains(email_part) if email_part is not None else None}
    async with database.connection() as connection:
        return await read_page(connection, LIST, conditions, params, limit=limit, offset=offset)


async def view(database: Database, user_id: uuid.UUID) -> Any:
    """One account as the list shows it (None when there is none)."""
    async with database.connection() as connection:
        page = await read_page(
            connection, LIST, ("id = %(id)s",), {"id": user_id}, limit=1, offset=0
        )
    return page.rows[0] if page.rows else None


async def register(
    session: AsyncSession, email: str, password_hash: str, display_name: str
) -> uuid.UUID | None:
    """A new patient's id, or None when the email is taken. ON CONFLICT: a taken email is
    no error (nor a line with the email in PostgreSQL's log)."""
    return await session.scalar(
        insert(User)
        .values(email=email, password_hash=password_hash, display_name=display_name, role="patient")
        .on_conflict_do_nothing()
        .returning(User.id)
    )


async def by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def id_of(session: AsyncSession, email: str) -> uuid.UUID | None:
    return await session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))


async def for_sign_in(session: AsyncSession, email: str) -> User | None:
    """The account of `email`, locked for this transaction: two sign-ins at once count
    their failures one after the other."""
    query = select(User).where(func.lower(User.email) == email.lower()).with_for_update()
    return await session.scalar(query)


async def get(session: AsyncSession, user_id: uuid.UUID | str) -> User | None:
    return await session.get(User, user_id)


async def own(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The signed-in caller's own account; gone since the session began: 401."""
    user = await session.get(User, user_id)
    if user is None:
        raise ApiError(401, "unauthenticated", "The account no longer exists.")
    return user
