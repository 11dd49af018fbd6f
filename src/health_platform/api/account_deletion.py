"""Deleting an account on its owner's request (HIPAA gives them the right to ask; the
platform then keeps only what the law requires).

The owner asks with their password; the deletion is due GRACE later, and until then
signing in and keeping the account cancels it. When it is due, a sweep every API process
runs (each account taken by one, FOR UPDATE SKIP LOCKED) deletes the measurements, the
documents and their stored files, and empties the account's row: no name, address, birth
date, password, second factor or preferences left. The row itself stays, as "a deleted
account", because the audit records of every access to the data (kept six years, as HIPAA
requires of them) name it; a record of the deletion is added. Copies in backups and in the
uploads bucket's earlier versions expire on their own schedule (docs/operations.md's
retention table)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api.audit import Audit
from health_platform.api.data.observations import Cache
from health_platform.api.deps import Services
from health_platform.api.models import Document, Observation, User

log = logging.getLogger("health_platform.api")

GRACE = timedelta(days=30)
SWEEP_SECONDS = 3600
DELETED_NAME = "Deleted account"
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


def deleted_email(user_id: uuid.UUID) -> str:
    """A unique address no one can own (.invalid is reserved, RFC 2606)."""
    return f"deleted-{user_id}@deleted.invalid"


async def purge_due(services: Services, now: datetime | None = None) -> list[uuid.UUID]:
    """Delete every account whose deletion is due; the ids deleted."""
    now = now or datetime.now(UTC)
    done: list[uuid.UUID] = []
    while (user_id := await _purge_one(services, now)) is not None:
        done.append(user_id)
    return done


async def _purge_one(services: Services, now: datetime) -> uuid.UUID | None:
    async with services.database.session() as session:
        user = await session.scalar(
            select(User)
            .where(User.deletion_due_at <= now, User.deleted_at.is_(None))
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if user is None:
            return None
        owned = Document.user_id == user.id
        keys = list(await session.scalars(select(Document.storage_key).where(owned)))
        counts = {
            "observations": await _deleted(session, Observation, Observation.user_id == user.id),
            "documents": await _deleted(session, Document, owned),
        }
        user.email = deleted_email(user.id)
        user.display_name = DELETED_NAME
        user.password_hash = user.totp_secret = user.recovery_codes = None
        user.date_of_birth = user.unit_preferences = None
        user.locked_until, user.deleted_at = FOREVER, now
        audit = Audit(services.audit_trail, None, None)
        await audit.change(session, "account.deleted", "user", user.id, detail=counts)
        await session.commit()
        user_id = user.id
    # The rows are gone; now the files (a file left by a failure is unreachable, not kept).
    for key in keys:
        try:
            await asyncio.to_thread(services.storage.delete, key)
        except Exception:
            log.error("stored file not deleted", extra={"error_type": "storage"})
    await services.sessions.delete_all_for(str(user_id))
    # Cached lists of the measurements stop matching now and expire within CACHE_SECONDS.
    await Cache(services.redis_batch, user_id).invalidate()
    return user_id


async def _deleted(session: AsyncSession, model: Any, condition: Any) -> int:
    """Delete `model`'s rows matching `condition`; how many there were."""
    result = await session.execute(delete(model).where(condition))
    return int(getattr(result, "rowcount", 0))


async def sweep_forever(services: Services) -> None:
    """Purge what is due, every SWEEP_SECONDS, for the process's life."""
    while True:
        try:
            for user_id in await purge_due(services):
                log.info("account deleted", extra={"resource_id": str(user_id)})
        except Exception as failed:
            log.error("account deletion sweep failed", extra={"error_type": type(failed).__name__})
        await asyncio.sleep(SWEEP_SECONDS)
