"""A patient's documents: their rows (the bytes are in storage, api/storage.py)."""

from __future__ import annotations

import uuid

from health_platform.api.audit import Audit
from health_platform.api.data.pages import ListQuery, Page, read_page
from health_platform.api.db import Database
from health_platform.api.models import Document

RESOURCE = "document"
LIST = ListQuery(
    Document.__tablename__,
    ("id", "filename", "content_type", "size_bytes", "sha256", "created_at"),
    "created_at DESC, id",
)
# Deleted documents are kept (history), never listed.
OWN_AND_KEPT = ("user_id = %(user_id)s", "deleted_at IS NULL")


async def page(database: Database, user_id: uuid.UUID, limit: int, offset: int) -> Page:
    """A page of the patient's documents, newest first."""
    async with database.connection() as connection:
        params = {"user_id": user_id}
        return await read_page(connection, LIST, OWN_AND_KEPT, params, limit=limit, offset=offset)


async def add(database: Database, audit: Audit, row: Document) -> None:
    """Store an uploaded document's row with its audit record, in a unit of work of its own
    (opened only once the bytes are stored: no connection waits on a slow upload)."""
    async with database.session() as session:
        session.add(row)
        await session.flush()
        detail = {"size_bytes": row.size_bytes, "content_type": row.content_type}
        await audit.change(session, f"{RESOURCE}.upload", RESOURCE, row.id, detail=detail)
