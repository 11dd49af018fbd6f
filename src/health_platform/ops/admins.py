"""`hp users create-admin ENV EMAIL` on AWS: the first administrator, made by a one-off
task without any secret leaving this terminal. The terminal draws an enrollment token and
gives the task only its SHA-256; the task stores the hash with the new account (no
password yet); the link with the token goes to the new administrator, who sets a password
through it and then enrols a second factor at first sign-in."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from health_platform.contract import CREATE_ADMIN_COMMAND, ENROLL_PATH, MIGRATION
from health_platform.errors import AwsError, InvalidInputError
from health_platform.ops.aws import ClientFactory
from health_platform.ops.tasks import (
    OnLog,
    TaskRun,
    migration_task_definition,
    run_task,
    task_network,
)
from health_platform.settings import EnvironmentSettings

TOKEN_BYTES = 32


@dataclass(frozen=True)
class Invitation:
    email: str
    link: str  # holds the token: shown once, to the operator only
    task: TaskRun


def check_input(email: str, name: str) -> None:
    """What can be told here, before AWS is asked (the task validates the address fully)."""
    if "@" not in email.strip("@"):
        raise InvalidInputError(f"{email!r} is not an email address.")
    if not 1 <= len(name.strip()) <= 100:
        raise InvalidInputError("The name (--name) must have 1 to 100 characters.")


def enrollment_token() -> tuple[str, str]:
    """(token, its SHA-256 in hex): the token for the link, the hash for the task."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hashlib.sha256(token.encode()).hexdigest()


def invite_admin(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    email: str,
    name: str,
    *,
    on_log: OnLog,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Invitation:
    check_input(email, name)
    token, digest = enrollment_token()
    run = run_task(
        settings,
        clients,
        task_definition=migration_task_definition(settings, clients),
        container=MIGRATION,
        network=task_network(settings, clients),
        command=[*CREATE_ADMIN_COMMAND, "--email", email, "--name", name, "--token-sha256", digest],
        on_log=on_log,
        timeout_s=timeout_s,
        sleep=sleep,
        clock=clock,
    )
    if run.exit_code == 2:  # the task's answer to bad input, e.g. the address is taken
        raise InvalidInputError(f"The task refused it (its log above says why): {run.summary}.")
    if run.exit_code != 0:
        raise AwsError(f"The administrator was not created: {run.summary}.")
    return Invitation(email, f"https://{settings.domain.name}{ENROLL_PATH}#token={token}", run)
