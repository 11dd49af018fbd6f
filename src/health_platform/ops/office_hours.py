"""An environment outside its office hours (health_platform.office_hours): what is asleep,
waking it before the schedule does, and refusing work that needs the database meanwhile.

RDS cannot modify, migrate into or back up a stopped instance, so `hp db migrate`,
`hp release` and `hp infra apply` of the data stack ask for `hp wake` first rather than
failing half-way through.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from health_platform.contract import SERVICES
from health_platform.errors import AwsError, RefusedError, TimedOutError
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code
from health_platform.settings import EnvironmentSettings

ASLEEP = frozenset({"stopped", "stopping"})
# Not yet taking connections or changes either: a start takes minutes.
NOT_READY = ASLEEP | {"starting"}
POLL_SECONDS = 30


def database_status(settings: EnvironmentSettings, clients: ClientFactory) -> str:
    rds = clients("rds", settings.region)
    identifier = naming.database_identifier(settings.name)
    with aws_errors(f"describe {identifier}"):
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    return str(instance["DBInstanceStatus"])


def require_awake(settings: EnvironmentSettings, clients: ClientFactory, doing: str) -> None:
    """Refuse (exit 6) to `doing` while the database sleeps outside office hours."""
    if settings.office_hours is None:
        return
    rds = clients("rds", settings.region)
    identifier = naming.database_identifier(settings.name)
    try:
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except ClientError as missing:
        if error_code(missing) == "DBInstanceNotFound":
            return  # nothing deployed to wake; what comes next says so
        raise AwsError(f"AWS refused to describe {identifier}: {missing}") from missing
    status = str(instance["DBInstanceStatus"])
    if status in NOT_READY:
        state = "is waking up" if status == "starting" else "is asleep"
        raise RefusedError(
            f"{settings.name} {state} outside its office hours"
            f" ({settings.office_hours.describe()}): its database is {status}, so it cannot"
            f" {doing}; run `hp wake {settings.name}` first (it waits until the database is"
            " available)."
        )


@dataclass(frozen=True)
class Wakened:
    database_was: str
    tasks: dict[str, tuple[int, int]]  # service: (min, max) until the next stop


def wake(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    *,
    timeout_s: float,
    on_progress: Callable[[str], None] = lambda _: None,
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Wakened:
    """Start the database (waiting for a stop under way to finish first) and give the
    services their usual task range, until the office hours' next stop."""
    if settings.office_hours is None:
        raise RefusedError(f"{settings.name} has no office hours; it never sleeps.")
    rds = clients("rds", settings.region)
    identifier = naming.database_identifier(settings.name)
    was = database_status(settings, clients)
    deadline = clock() + timeout_s

    def until(wanted: str) -> None:
        # boto3's RDS client has a waiter for "available" but none for "stopped"; one loop
        # serves both, bounded by the caller's timeout.
        status = database_status(settings, clients)
        while status != wanted:
            if clock() >= deadline:
                raise TimedOutError(
                    f"{identifier} was {status}, not {wanted}, after {timeout_s:.0f} s; run"
                    f" `hp wake {settings.name}` again to keep waiting."
                )
            sleep(poll_seconds)
            status = database_status(settings, clients)

    if was == "stopping":
        on_progress(f"{identifier} is stopping; waiting for it to stop before starting it")
        until("stopped")
    if was in ASLEEP:
        on_progress(f"Starting {identifier} (RDS takes several minutes)")
        _start(rds, identifier)
    on_progress(f"Waiting for {identifier} to be available")
    until("available")
    return Wakened(database_was=was, tasks=_scale_up(settings, clients, on_progress))


def _start(rds: Any, identifier: str) -> None:
    try:
        rds.start_db_instance(DBInstanceIdentifier=identifier)
    except ClientError as refused:
        # Started by someone else (or the schedule) in between: the wait below decides.
        if error_code(refused) != "InvalidDBInstanceState":
            raise AwsError(f"AWS refused to start {identifier}: {refused}") from refused


def _scale_up(
    settings: EnvironmentSettings, clients: ClientFactory, on_progress: Callable[[str], None]
) -> dict[str, tuple[int, int]]:
    """The task range of the environment file; the office hours' stop action sets 0 again."""
    scaling = clients("application-autoscaling", settings.region)
    cluster = naming.cluster_name(settings.name)
    ranges = {}
    for service in SERVICES:
        low, high = settings.ecs.min_tasks, settings.ecs.max_tasks
        with aws_errors(f"scale {service} in {settings.name}"):
            scaling.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=f"service/{cluster}/{service}",
                ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=low,
                MaxCapacity=high,
            )
        on_progress(f"{service}: {low}-{high} tasks")
        ranges[service] = (low, high)
    return ranges
