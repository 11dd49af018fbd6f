"""A patient's own records: anything else looks missing from outside (404), and the attempt
on someone else's record is written to the audit log."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api.audit import Audit
from health_platform.api.errors import not_found

Row = TypeVar("Row")


async def owned(
    db: AsyncSession,
    audit: Audit,
    model: type[Row],
    row_id: uuid.UUID,
    *,
    action: str,
    resource: str,
) -> Row:
    row: Any = await db.get(model, row_id)
    if row is None or row.user_id != audit.actor_id or getattr(row, "deleted_at", None):
        await audit.refusal(
            action,
            resource,
            row_id,
            outcome="not_found" if row is None or row.user_id == audit.actor_id else "denied",
        )
        raise not_found(resource)
    return row  # type: ignore[no-any-return]
