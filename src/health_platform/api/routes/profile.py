"""The signed-in user's own profile."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, PastDate

from health_platform.api import examples, unit_preferences
from health_platform.api.audit import Audit
from health_platform.api.data import accounts
from health_platform.api.deps import CurrentCaller, DbSession, ServicesDep
from health_platform.api.errors import ApiError
from health_platform.api.models import User
from health_platform.api.unit_preferences import UnitPreferences

router = APIRouter(prefix="/api/profile", tags=["profile"])


class Profile(BaseModel):
    model_config = examples.example(
        {
            "email": "ada@example.com",
            "display_name": "Ada",
            "date_of_birth": "1985-12-10",
            "units": {"mass": "kg", "temperature": "C", "glucose": "mg/dL"},
        }
    )

    email: str
    display_name: str
    date_of_birth: str | None
    units: UnitPreferences

    @classmethod
    def of(cls, user: User) -> Profile:
        return cls(
            email=user.email,
            display_name=user.display_name,
            date_of_birth=user.date_of_birth,
            units=unit_preferences.of(user.unit_preferences),
        )


EARLIEST_BIRTH = date(1900, 1, 1)


def _not_before_earliest(value: date) -> date:
    if value < EARLIEST_BIRTH:
        raise ValueError(f"must be on or after {EARLIEST_BIRTH.isoformat()}")
    return value


def _written_as_a_date(value: object) -> object:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A calendar date written as one ("1985-12-10"), so a number is not read as seconds since
# 1970; in the past, and not implausibly far.
BirthDate = Annotated[
    PastDate, BeforeValidator(_written_as_a_date), AfterValidator(_not_before_earliest)
]


class ProfileUpdate(BaseModel):
    model_config = examples.example(
        {"display_name": "Ada L.", "date_of_birth": "1985-12-10"},
        forbid_extra=True,
        strip_whitespace=True,
    )

    display_name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    date_of_birth: BirthDate | None = None  # null clears it
    units: UnitPreferences | None = None


async def _own(db: DbSession, caller: CurrentCaller) -> User:
    return await accounts.own(db, caller.user_id)


@router.get("", response_model=Profile, summary="Read one's own profile")
async def read_profile(caller: CurrentCaller, db: DbSession, deps: ServicesDep) -> Profile:
    user = await _own(db, caller)
    await Audit.of(deps.audit_trail, caller).read("profile.read", "profile", user.id)
    return Profile.of(user)


@router.patch("", response_model=Profile, summary="Update one's own profile")
async def update_profile(
    body: ProfileUpdate, caller: CurrentCaller, db: DbSession, deps: ServicesDep
) -> Profile:
    user = await _own(db, caller)
    changes = body.model_dump(exclude_unset=True)
    if "display_name" in changes and changes["display_name"] is None:
        raise ApiError(
            422,
            "invalid_request",
            "Please check: display name cannot be empty.",
            details=[{"field": "display_name", "problem": "cannot be empty"}],
        )
    if "units" in changes:
        user.unit_preferences = changes.pop("units")  # a whole set, or null: the defaults
    for field, value in changes.items():
        setattr(user, field, value.isoformat() if isinstance(value, date) else value)
    audit = Audit.of(deps.audit_trail, caller)
    fields = sorted([*changes, *(["units"] if "units" in body.model_fields_set else [])])
    await audit.change(db, "profile.update", "profile", user.id, detail={"fields": fields})
    return Profile.of(user)
