"""Accounts as administrators see them: found by part of their address, a page at a time."""

from __future__ import annotations

from health_platform.api.data.pages import ListQuery, Page, read_page
from health_platform.api.db import Database
from health_platform.api.models import User

LIST = ListQuery(
    User.__tablename__,
    (
        "id",
        "email",
        "display_name",
        "role",
        "locked_until",
        "totp_secret IS NOT NULL AS mfa_enabled",  # whether, never the secret
        "created_at",
    ),
    "created_at, id",
)


def _pattern(part: str) -> str:
    """An ILIKE pattern for `part` as typed: % and _ match themselves, not any characters."""
    literal = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{literal}%"


async def page(database: Database, email_part: str | None, limit: int, offset: int) -> Page:
    conditions = ("email ILIKE %(email)s ESCAPE '\\'",) if email_part is not None else ()
    params = {"email": _pattern(email_part) if email_part is not None else None}
    async with database.connection() as connection:
        return await read_page(connection, LIST, conditions, params, limit=limit, offset=offset)
