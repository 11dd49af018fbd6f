"""Audit records for every access to health data and every administrative action, written
through one interface, `Audit`, which decides how each kind of record is stored:

- `read`: a read's record has nothing to commit with; it goes through the process's
  AuditTrail (group commit) and is stored before the response is sent.
- `act`: the same for something done outside the database (a session ended, a link sent).
- `refusal`: a refused request's record, the same way: it stands though the request fails.
- `change`: in the transaction of the change it describes, so it commits with the change or
  not at all.
- `with_change`: a change's row and its record as one statement, stored with other
  requests' in one (group commit, `recorded_many`), for the busiest writes: both or neither,
  and one round trip for many requests.

An `Audit` knows who acts (a signed-in caller, someone signing in, or nobody yet) and from
where; the routes say what was done to which resource, and with what outcome."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api.audit_trail import (
    COLUMNS,
    INSERT_MANY,
    INSERT_ONE,
    TABLE,
    AuditTrail,
    record_values,
)
from health_platform.api.group_commit import Connection, GroupCommit, as_arrays, insert_many

ResourceId = uuid.UUID | str | None


class Acting(Protocol):
    """A signed-in caller, as far as a record needs one (deps.Caller is one)."""

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def address(self) -> str | None: ...


@dataclass(frozen=True)
class Recorded:
    """A new row and the audit record of it, stored together (`recorded_many`)."""

    change: dict[str, Any]
    record: dict[str, Any]


def recorded_many(
    table: Table, columns: Sequence[str]
) -> Callable[[Connection, list[Recorded]], Awaitable[None]]:
    """How a GroupCommit of Recorded rows stores them: the rows of `table` (`columns`) and
    their audit records as one statement, PostgreSQL's data-modifying WITH."""
    statement = f"WITH change AS ({insert_many(table, columns)}) {INSERT_MANY}"

    async def write(connection: Connection, rows: list[Recorded]) -> None:
        changes = as_arrays(table, columns, [row.change for row in rows])
        records = as_arrays(TABLE, COLUMNS, [row.record for row in rows])
        await connection.execute(statement, [*changes, *records])

    return write


@dataclass(frozen=True)
class Audit:
    trail: AuditTrail
    actor_id: uuid.UUID | str | None  # None: nobody is signed in (yet)
    address: str | None

    @classmethod
    def of(cls, trail: AuditTrail, caller: Acting) -> Audit:
        return cls(trail, caller.user_id, caller.address)

    def acting_as(self, actor_id: uuid.UUID | str | None) -> Audit:
        """The same place, another actor: someone who just registered or signed in."""
        return dataclasses.replace(self, actor_id=actor_id)

    def values(
        self,
        action: str,
        resource_type: str,
        resource_id: ResourceId = None,
        *,
        outcome: str = "success",
        detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return record_values(
            self.actor_id, action, resource_type, resource_id, outcome, self.address, detail
        )

    async def read(
        self,
        action: str,
        resource_type: str,
        resource_id: ResourceId = None,
        *,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """A read, stored before this returns (so before anything of it is sent)."""
        await self.trail.write(self.values(action, resource_type, resource_id, detail=detail))

    # Something done outside the database (a session ended, a link sent): its record stands
    # alone too, stored the same way.
    act = read

    async def refusal(
        self,
        action: str,
        resource_type: str,
        resource_id: ResourceId = None,
        *,
        outcome: str = "refused",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """A refused request, stored before this returns: it stays on record though the
        request fails and its transaction, if any, rolls back."""
        values = self.values(action, resource_type, resource_id, outcome=outcome, detail=detail)
        await self.trail.write(values)

    async def change(
        self,
        session: AsyncSession,
        action: str,
        resource_type: str,
        resource_id: ResourceId = None,
        *,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """A change, in `session`'s transaction: it commits with the change or not at all.
        Handed to the driver directly: SQLAlchemy's execution path cost about twice the
        INSERT itself."""
        values = self.values(action, resource_type, resource_id, detail=detail)
        connection = await (await session.connection()).get_raw_connection()
        driver = connection.driver_connection  # psycopg's, in the session's transaction
        assert isinstance(driver, psycopg.AsyncConnection)
        if values["detail"] is not None:
            values["detail"] = Jsonb(values["detail"])
        await driver.execute(INSERT_ONE, values)

    async def with_change(
        self,
        changes: GroupCommit[Recorded],
        change: dict[str, Any],
        action: str,
        resource_type: str,
        resource_id: ResourceId,
    ) -> None:
        """Store `change` (a row of the table `changes` writes) with its record; returns
        once both are committed."""
        await changes.write(Recorded(change, self.values(action, resource_type, resource_id)))
