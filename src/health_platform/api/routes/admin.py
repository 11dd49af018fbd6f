"""Administration: users (list, lock, unlock, role), the audit log, real-time counters.
Administrators see accounts and the audit trail, never a patient's health data."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel

from health_platform.api import audit_words, examples, notices, rate_limit
from health_platform.api.audit import Audit
from health_platform.api.csv_cells import csv_download
from health_platform.api.data import accounts
from health_platform.api.data import audit_log as audit_log_data
from health_platform.api.data.audit_log import Search
from health_platform.api.data.pages import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from health_platform.api.deps import AdminCaller, DbSession, Services, ServicesDep
from health_platform.api.errors import ApiError, not_found
from health_platform.api.models import User
from health_platform.api.sign_in_guard import guard_of
from health_platform.contract import PRIVILEGE_CHANGE_EVENT

router = APIRouter(prefix="/api/admin", tags=["admin"])
security_log = logging.getLogger("health_platform.api.security")
LOCK_FOR = timedelta(days=36500)  # locked until an administrator unlocks
# The most records one CSV export holds: an auditor narrows by time for more.
EXPORT_ROWS = 10_000


class AdminUserView(BaseModel):
    model_config = examples.example(examples.ADMIN_USER_VIEW)

    id: str
    email: str
    display_name: str
    role: str
    locked: bool
    mfa_enabled: bool
    email_verified: bool
    created_at: datetime
    last_sign_in_at: datetime | None

    @classmethod
    def of(cls, user: Any) -> AdminUserView:
        """From a row of the data layer's accounts list."""
        return cls(
            id=str(user.id),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            locked=user.locked_until is not None and user.locked_until > datetime.now(UTC),
            mfa_enabled=user.mfa_enabled,
            email_verified=user.email_verified,
            created_at=user.created_at,
            last_sign_in_at=user.last_sign_in_at,
        )


class UserPage(BaseModel):
    model_config = examples.example(
        {"items": [examples.ADMIN_USER_VIEW], "total": 1, "limit": 50, "offset": 0}
    )

    items: list[AdminUserView]
    total: int
    limit: int
    offset: int


class RoleChange(BaseModel):
    model_config = examples.example({"role": "admin"}, forbid_extra=True)

    role: Literal["patient", "admin"]


class AuditView(BaseModel):
    model_config = examples.example(examples.AUDIT_RECORD)

    id: int
    at: datetime
    actor_id: str | None
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str
    client_address: str | None
    request_id: str | None
    # Who, as a person reads it (None: nobody signed in, or an account since deleted).
    actor_email: str | None
    actor_name: str | None
    # What was done, in words ("Downloaded a document"; api/audit_words.py).
    what: str
    # Whom it touched: the account acted on, or the owner of the measurement or document
    # (None: another kind of resource, or one since deleted).
    subject_name: str | None = None
    subject_email: str | None = None

    @classmethod
    def of(cls, row: Any, subject: audit_log_data.Person | None = None) -> AuditView:
        return cls(
            actor_email=row.actor_email,
            actor_name=row.actor_name,
            what=audit_words.describe(row.action, row.outcome),
            subject_name=subject.name if subject else None,
            subject_email=subject.email if subject else None,
            id=row.id,
            at=row.at,
            actor_id=str(row.actor_id) if row.actor_id else None,
            action=row.action,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            outcome=row.outcome,
            client_address=row.client_address,
            request_id=row.request_id,
        )


class AuditPage(BaseModel):
    model_config = examples.example(
        {"items": [examples.AUDIT_RECORD], "total": 1, "limit": 100, "offset": 0}
    )

    items: list[AuditView]
    total: int
    limit: int
    offset: int


async def _user(db: DbSession, user_id: uuid.UUID) -> User:
    user = await accounts.get(db, user_id)
    if user is None:
        raise not_found("user")
    return user


async def _view(deps: ServicesDep, target: User) -> AdminUserView:
    """The account as the list shows it, read after the change committed."""
    row = await accounts.view(deps.database, target.id)
    if row is None:  # deleted meanwhile
        raise not_found("user")
    return AdminUserView.of(row)


async def _admin_action(
    db: DbSession, deps: ServicesDep, caller: AdminCaller, action: str, target: User, **detail: Any
) -> None:
    audit = Audit.of(deps.audit_trail, caller)
    await audit.change(db, action, "user", target.id, detail=detail or None)


@router.get("/users", response_model=UserPage, summary="List accounts")
async def list_users(
    caller: AdminCaller,
    deps: ServicesDep,
    email: Annotated[
        str | None, Query(min_length=1, max_length=254, description="Part of the address, any case")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> UserPage:
    page = await accounts.page(deps.database, email, limit, offset)
    await Audit.of(deps.audit_trail, caller).read("admin.users.list", "user")
    items = [AdminUserView.of(u) for u in page.rows]
    return UserPage(items=items, total=page.total, limit=limit, offset=offset)


@router.post("/users/{user_id}/lock", response_model=AdminUserView, summary="Lock an account")
async def lock(
    user_id: uuid.UUID, caller: AdminCaller, db: DbSession, deps: ServicesDep
) -> AdminUserView:
    target = await _user(db, user_id)
    if target.id == caller.user_id:
        raise ApiError(409, "self_lock", "Administrators cannot lock themselves out.")
    target.locked_until = datetime.now(UTC) + LOCK_FOR
    await _admin_action(db, deps, caller, "admin.user.lock", target)
    await db.commit()
    await deps.sessions.delete_all_for(str(target.id))  # a locked account is signed out everywhere
    return await _view(deps, target)


@router.post("/users/{user_id}/unlock", response_model=AdminUserView, summary="Unlock an account")
async def unlock(
    user_id: uuid.UUID, caller: AdminCaller, db: DbSession, deps: ServicesDep
) -> AdminUserView:
    target = await _user(db, user_id)
    target.locked_until = None
    target.failed_logins = 0
    await guard_of(deps.redis, deps.settings).forget(target.email)  # no address waits either
    await _admin_action(db, deps, caller, "admin.user.unlock", target)
    await db.commit()
    return await _view(deps, target)


@router.post(
    "/users/{user_id}/mfa/reset",
    response_model=AdminUserView,
    summary="Reset an account's second factor (it enrolls again at its next sign-in)",
    responses={
        404: {"description": "No such account"},
        409: {"description": "One's own, or an account with no second factor"},
    },
)
async def reset_second_factor(
    user_id: uuid.UUID, caller: AdminCaller, db: DbSession, deps: ServicesDep
) -> AdminUserView:
    target = await _user(db, user_id)
    if target.id == caller.user_id:
        raise ApiError(
            409, "self_mfa_reset", "Administrators cannot reset their own second factor."
        )
    if target.totp_secret is None:
        raise ApiError(409, "mfa_not_enabled", "This account has no second factor to reset.")
    target.totp_secret = None
    target.recovery_codes = None  # they stood in for that factor
    await _admin_action(db, deps, caller, "admin.user.mfa_reset", target)
    await db.commit()
    # Sessions proven with the old factor end; the owner is told, in case it was not asked.
    await deps.sessions.delete_all_for(str(target.id))
    deps.outbox.send_later(target.email, notices.second_factor_reset())
    return await _view(deps, target)


@router.put("/users/{user_id}/role", response_model=AdminUserView, summary="Change a role")
async def change_role(
    user_id: uuid.UUID, body: RoleChange, caller: AdminCaller, db: DbSession, deps: ServicesDep
) -> AdminUserView:
    target = await _user(db, user_id)
    if target.id == caller.user_id:
        raise ApiError(409, "self_role", "Administrators cannot change their own role.")
    previous = target.role
    target.role = body.role
    await _admin_action(
        db, deps, caller, "admin.user.role", target, previous=previous, new=body.role
    )
    await db.commit()
    await deps.sessions.delete_all_for(str(target.id))  # the new role applies from the next sign-in
    # A privilege change is a security event (the seed's "privilege escalation").
    security_log.warning(
        "role changed",
        extra={
            "event": PRIVILEGE_CHANGE_EVENT,
            "user_id": str(caller.user_id),
            "target_user_id": str(target.id),
            "role": body.role,
        },
    )
    return await _view(deps, target)


class AuditSearch:
    """The audit log's filters, as query parameters (the search and its CSV export)."""

    def __init__(
        self,
        user_id: uuid.UUID | None = None,
        email: Annotated[
            str | None,
            Query(min_length=1, max_length=254, description="Part of the actor's address"),
        ] = None,
        action: Annotated[str | None, Query(max_length=60)] = None,
        resource_type: Annotated[str | None, Query(max_length=40)] = None,
        outcome: Annotated[
            str | None, Query(max_length=20, description="e.g. denied, refused")
        ] = None,
        since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
        until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    ) -> None:
        self.search = Search(user_id, email, action, resource_type, outcome, since, until)

    def of(self) -> Search:
        return self.search

    def filters(self) -> dict[str, str]:
        """The filters set, as text, for the search's own audit record."""
        return {name: str(value) for name, value in vars(self.search).items() if value is not None}


@router.get("/audit", response_model=AuditPage, summary="Search the audit log")
async def audit_log(
    caller: AdminCaller,
    deps: ServicesDep,
    search: Annotated[AuditSearch, Depends()],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AuditPage:
    page = await audit_log_data.page(deps.database, search.of(), limit, offset)
    # Whose records were looked up, on record too.
    detail = {"filters": search.filters(), "count": len(page.rows)}
    await Audit.of(deps.audit_trail, caller).read("admin.audit.search", "audit", detail=detail)
    return AuditPage(
        items=await _views(deps, page.rows), total=page.total, limit=limit, offset=offset
    )


async def _views(deps: Services, rows: list[Any]) -> list[AuditView]:
    people = await audit_log_data.subjects(deps.database, rows)
    return [
        AuditView.of(row, people.get((row.resource_type, row.resource_id or ""))) for row in rows
    ]


ACTION_EXAMPLE = {"action": "document.download", "what": "Downloaded a document"}


class AuditAction(BaseModel):
    model_config = examples.example(ACTION_EXAMPLE)

    action: str
    what: str


@router.get(
    "/audit/actions",
    response_model=list[AuditAction],
    summary="The actions the audit log records, each in words (for its filter)",
    responses=examples.json_response([ACTION_EXAMPLE]),
)
async def audit_actions(caller: AdminCaller) -> list[AuditAction]:
    return [AuditAction(action=a, what=w) for a, w in audit_words.ACTIONS.items()]


@router.get(
    "/audit/csv",
    summary=f"The audit log's matching records as CSV, newest first (at most {EXPORT_ROWS:,})",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def audit_log_csv(
    caller: AdminCaller, deps: ServicesDep, search: Annotated[AuditSearch, Depends()]
) -> Response:
    page = await audit_log_data.page(deps.database, search.of(), EXPORT_ROWS, 0)
    detail = {"filters": search.filters(), "rows": len(page.rows), "total": page.total}
    await Audit.of(deps.audit_trail, caller).read("admin.audit.export", "audit", detail=detail)
    views = await _views(deps, page.rows)
    rows = (view.model_dump(mode="json").values() for view in views)
    return csv_download("audit-log.csv", AuditView.model_fields, rows)


@router.get(
    "/counters",
    summary="Real-time counters from Redis",
    responses=examples.json_response(
        {
            "active_sessions": 42,
            "requests_per_minute": 1260,
            "logins_per_minute": 7,
            "failed_logins_per_minute": 1,
        }
    ),
)
async def counters(caller: AdminCaller, deps: ServicesDep) -> dict[str, int]:
    minute = int(time.time() // 60)
    names = ("requests", "logins", "failed_logins")
    pipe = deps.redis.pipeline(transaction=False)  # not MGET: the keys span cluster slots
    for name in names:
        pipe.get(rate_limit.tally_key(name, minute))
    values = await pipe.execute()
    per_minute = {
        f"{name}_per_minute": int(value or 0) for name, value in zip(names, values, strict=True)
    }
    return {"active_sessions": await deps.sessions.active_count(), **per_minute}
