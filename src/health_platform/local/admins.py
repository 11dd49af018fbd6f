"""`hp users create-admin`: the first administrator, made directly in the database (the API
only ever creates patients), with a second factor enrolled from the start."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from health_platform.api import totp
from health_platform.api.models import AuditRecord, User
from health_platform.errors import InvalidInputError


@dataclass(frozen=True)
class NewAdmin:
    email: str
    password: str  # shown once; the database keeps only its Argon2id hash
    totp_secret: str
    otpauth_uri: str


def create_admin(database_url: str, email: str, display_name: str) -> NewAdmin:
    try:
        address = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as invalid:
        raise InvalidInputError(f"{email!r} is not an email address: {invalid}.") from invalid
    if not 1 <= len(display_name.strip()) <= 100:
        raise InvalidInputError("The name must have 1 to 100 characters.")
    password = secrets.token_urlsafe(18)
    secret = totp.new_secret()
    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            taken = session.scalar(select(User.id).where(func.lower(User.email) == address))
            if taken is not None:
                raise InvalidInputError(f"An account with {address} exists already.")
            user = User(
                email=address,
                password_hash=PasswordHasher().hash(password),
                display_name=display_name.strip(),
                role="admin",
                totp_secret=secret,
            )
            session.add(user)
            session.flush()
            session.add(
                AuditRecord(
                    actor_id=None,  # the operator at the machine, not an account
                    action="admin.user.create",
                    resource_type="user",
                    resource_id=str(user.id),
                    outcome="success",
                    detail={"via": "hp users create-admin"},
                )
            )
    finally:
        engine.dispose()
    return NewAdmin(address, password, secret, totp.enrollment_uri(secret, address))
