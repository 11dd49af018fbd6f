"""Audit records for every access to health data and every administrative action."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from health_platform.api.deps import Caller
from health_platform.api.models import AuditRecord
from health_platform.api.request_context import request_id


def record(
    session: Session,
    *,
    actor_id: uuid.UUID | str | None,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    outcome: str = "success",
    client_address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit record to `session`'s transaction: it commits with the change it
    describes, or not at all."""
    session.add(
        AuditRecord(
            actor_id=uuid.UUID(str(actor_id)) if actor_id else None,
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id) if resource_id else None,
            outcome=outcome,
            client_address=client_address,
            request_id=request_id.get(),
            detail=detail,
        )
    )


def by(
    session: Session,
    caller: Caller,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    *,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    """`record` for something a signed-in caller did, from where they did it."""
    record(
        session,
        actor_id=caller.user_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        client_address=caller.address,
        detail=detail,
    )
