"""Audit records for every access to health data and every administrative action.

A change's record is written in the change's transaction (`by`, `record`, `recorded`): it
commits with the change or not at all. A read's record stands on its own and goes through
the process's AuditTrail (`read`), written before the response is sent."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.ext.asyncio import AsyncSession

from health_platform.api.audit_trail import INSERT_ONE, AuditTrail, record_values
from health_platform.api.db import Database
from health_platform.api.deps import Caller


async def record(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | str | None,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    outcome: str = "success",
    client_address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Insert an audit record in `session`'s transaction: it commits with the change it
    describes, or not at all. Handed to the driver directly: SQLAlchemy's execution path
    cost about twice the INSERT itself."""
    values = record_values(
        actor_id, action, resource_type, resource_id, outcome, client_address, detail
    )
    connection = await (await session.connection()).get_raw_connection()
    driver = connection.driver_connection  # psycopg's, in the session's transaction
    assert isinstance(driver, psycopg.AsyncConnection)
    if values["detail"] is not None:
        values["detail"] = Jsonb(values["detail"])
    await driver.execute(INSERT_ONE, values)


def _succeeded(
    caller: Caller,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    """The values of a record of something a signed-in caller did, from where they did it."""
    return record_values(
        caller.user_id, action, resource_type, resource_id, "success", caller.address, detail
    )


def recorded(change: str) -> str:
    """`change` (one INSERT, UPDATE or DELETE for psycopg, its parameters named apart from
    the audit record's COLUMNS) and the audit record of it as one statement: PostgreSQL's
    data-modifying WITH, atomic on its own and one round trip. Run it with `run_recorded`."""
    return f"WITH change AS ({change}) {INSERT_ONE}"


async def run_recorded(
    database: Database,
    statement: str,
    change: dict[str, Any],
    caller: Caller,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str,
) -> None:
    """Execute a `recorded` statement; `change` gives its change's parameters."""
    record = _succeeded(caller, action, resource_type, resource_id, None)
    async with database.connection() as connection:
        await connection.execute(statement, {**change, **record})


async def by(
    session: AsyncSession,
    caller: Caller,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    *,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    """`record` for something a signed-in caller did, from where they did it."""
    await record(
        session,
        actor_id=caller.user_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        client_address=caller.address,
        detail=detail,
    )


async def read(
    trail: AuditTrail,
    caller: Caller,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    *,
    detail: dict[str, Any] | None = None,
) -> None:
    """The record of a read by a signed-in caller, stored before this returns."""
    await trail.write(_succeeded(caller, action, resource_type, resource_id, detail))
