"""The audit log as administrators search it: by actor, action, resource type and time,
newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from health_platform.api.data.pages import ListQuery, Page, contains, read_page, set_filters
from health_platform.api.db import Database
from health_platform.api.models import AuditRecord, Document, Observation, User

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


@dataclass(frozen=True)
class Person:
    name: str
    email: str


# Whose a resource is, by its type: the account itself, or the owner of a measurement or a
# document (gone once deleted, then the record says only its id).
_OWNERS = {
    "user": f"SELECT id, display_name, email FROM {_PEOPLE} WHERE id = ANY(%(ids)s)",  # noqa: S608 - names from the models
    **{
        kind: (
            f"SELECT t.id, p.display_name, p.email FROM {table} t"  # noqa: S608 - as above
            f" JOIN {_PEOPLE} p ON p.id = t.user_id WHERE t.id = ANY(%(ids)s)"
        )
        for kind, table in (
            ("observation", Observation.__tablename__),
            ("document", Document.__tablename__),
        )
    },
}


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


async def subjects(database: Database, rows: list[Any]) -> dict[tuple[str, str], Person]:
    """Whom each of `rows` touched, as a person reads it: by (resource type, resource id).
    One query per kind for the whole page (the log's resource ids are text; the tables' are
    UUIDs, so a join in the list's own query could use no index)."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for row in rows:
        found = _uuid(row.resource_id) if row.resource_type in _OWNERS else None
        if found is not None:
            wanted.setdefault(row.resource_type, set()).add(found)
    people: dict[tuple[str, str], Person] = {}
    if not wanted:
        return people
    async with database.connection() as connection:
        for kind, ids in wanted.items():
            cursor = await connection.execute(_OWNERS[kind], {"ids": list(ids)})
            for resource_id, name, email in await cursor.fetchall():
                people[(kind, str(resource_id))] = Person(name, email)
    return people
