"""The audit log as administrators search it: by actor, action, resource type and time,
newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from health_platform.api.data.pages import ListQuery, Page, contains, read_page, set_filters
from health_platform.api.db import Database
from health_platform.api.models import AuditRecord, User

_RECORDS = AuditRecord.__tablename__
_PEOPLE = User.__tablename__
LIST = ListQuery(
    # Who acted, as a person reads it: their name and address beside the id.
    f"{_RECORDS} LEFT JOIN {_PEOPLE} ON {_PEOPLE}.id = {_RECORDS}.actor_id",
    (
        *(
            f"{_RECORDS}.{name}"
            for name in (
                "id",
                "at",
                "actor_id",
                "action",
                "resource_type",
                "resource_id",
                "outcome",
                "client_address",
                "request_id",
            )
        ),
        f"{_PEOPLE}.email AS actor_email",
        f"{_PEOPLE}.display_name AS actor_name",
    ),
    f"{_RECORDS}.id DESC",
)


@dataclass(frozen=True)
class Search:
    actor_id: uuid.UUID | None = None
    actor_email: str | None = None  # part of the address, any case
    action: str | None = None
    resource_type: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> tuple[str, ...]:
        """The WHERE of the filters that are set (their values are parameters)."""
        return set_filters(
            {
                f"{_RECORDS}.actor_id = %(actor_id)s": self.actor_id,
                f"{_PEOPLE}.email ILIKE %(actor_email)s ESCAPE '\\'": self.actor_email,
                f"{_RECORDS}.action = %(action)s": self.action,
                f"{_RECORDS}.resource_type = %(resource_type)s": self.resource_type,
                f"{_RECORDS}.outcome = %(outcome)s": self.outcome,
                f"{_RECORDS}.at >= %(since)s": self.since,
                f"{_RECORDS}.at <= %(until)s": self.until,
            }
        )

    def params(self) -> dict[str, object]:
        values = vars(self).copy()
        if self.actor_email is not None:
            values["actor_email"] = contains(self.actor_email)
        return values


async def page(database: Database, search: Search, limit: int, offset: int) -> Page:
    async with database.connection() as connection:
        return await read_page(
            connection, LIST, search.conditions(), search.params(), limit=limit, offset=offset
        )
