"""The audit log as administrators search it: by actor, action, resource type and time,
newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from health_platform.api.data.pages import ListQuery, Page, read_page
from health_platform.api.db import Database
from health_platform.api.models import AuditRecord

LIST = ListQuery(
    AuditRecord.__tablename__,
    (
        "id",
        "at",
        "actor_id",
        "action",
        "resource_type",
        "resource_id",
        "outcome",
        "client_address",
        "request_id",
    ),
    "id DESC",
)


@dataclass(frozen=True)
class Search:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    resource_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> tuple[str, ...]:
        """The WHERE of the filters that are set (their values are parameters)."""
        found = {
            "actor_id = %(actor_id)s": self.actor_id,
            "action = %(action)s": self.action,
            "resource_type = %(resource_type)s": self.resource_type,
            "at >= %(since)s": self.since,
            "at <= %(until)s": self.until,
        }
        return tuple(condition for condition, value in found.items() if value is not None)


async def page(database: Database, search: Search, limit: int, offset: int) -> Page:
    async with database.connection() as connection:
        return await read_page(
            connection, LIST, search.conditions(), vars(search), limit=limit, offset=offset
        )
