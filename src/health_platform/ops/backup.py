"""`hp backup`: a manual snapshot of the environment's database, and the list of its snapshots.

A manual snapshot stays until someone deletes it, while RDS's automated snapshots and AWS
Backup's recovery points expire with their retention: it is the one to take before a risky
change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from health_platform.errors import AwsError, RefusedError, TimedOutError
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code
from health_platform.settings import EnvironmentSettings

CREATED_BY = {"Key": "created-by", "Value": "hp"}
# DescribeDBSnapshots returns manual and automated snapshots by default; the recovery
# points of the data stack's AWS Backup plan only when asked for by this type.
AWS_BACKUP = "awsbackup"
AVAILABLE = "available"
# A snapshot's time is RDS's own; snapshots still being taken may not have one yet.
_NOT_YET = datetime.max.replace(tzinfo=UTC)

DEFAULT_TIMEOUT = 3600.0  # a first snapshot copies the whole volume
DEFAULT_INTERVAL = 30.0

Sleep = Callable[[float], None]
Clock = Callable[[], float]
Now = Callable[[], datetime]


@dataclass(frozen=True)
class Snapshot:
    identifier: str
    kind: str  # manual, automated or awsbackup
    status: str
    created: datetime | None
    size_gb: int  # the instance's allocated storage when the snapshot was taken
    encrypted: bool


def snapshot_identifier(env: str, at: datetime) -> str:
    """`<db identifier>-manual-<UTC yyyymmddHHMMSS>`: sorts by time, and says who made it."""
    return f"{naming.database_identifier(env)}-manual-{at.astimezone(UTC):%Y%m%d%H%M%S}"


def create_snapshot(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    *,
    wait: bool = False,
    now: Now = lambda: datetime.now(UTC),
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
) -> Snapshot:
    """Start a manual snapshot of the environment's database; with `wait`, return once it is
    available (at most `timeout` seconds)."""
    env, region = settings.name, settings.region
    database = naming.database_identifier(env)
    identifier = snapshot_identifier(env, now())
    rds = clients("rds", region)
    with aws_errors(f"snapshot {database}"):
        try:
            created = rds.create_db_snapshot(
                DBInstanceIdentifier=database,
                DBSnapshotIdentifier=identifier,
                Tags=[CREATED_BY],
            )["DBSnapshot"]
        except ClientError as refused:
            if error_code(refused) == "InvalidDBInstanceState":
                # RDS snapshots an instance only while it is available (or optimizing its
                # storage): not while it is being modified, backed up or rebooted.
                raise RefusedError(
                    f"{database} is busy ({_status(rds, database)}), and RDS takes a snapshot"
                    f" only of an available database; retry when `hp status {env}` shows it"
                    " available."
                ) from refused
            if error_code(refused) != "DBInstanceNotFound":
                raise
            raise _not_deployed(env, region) from refused
        snapshot = _snapshot(created)
        if not wait:
            return snapshot
        deadline = clock() + timeout
        while snapshot.status != AVAILABLE:
            if clock() >= deadline:
                raise TimedOutError(
                    f"{identifier} is still {snapshot.status} after {timeout:.0f} s; RDS keeps"
                    f" taking it (`hp backup {env} --list` shows when it is available)."
                )
            sleep(interval)
            (described,) = rds.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"]
            snapshot = _snapshot(described)
    return snapshot


def _status(rds: Any, database: str) -> str:
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=database)["DBInstances"]
    return str(instance["DBInstanceStatus"])


def database_exists(settings: EnvironmentSettings, clients: ClientFactory) -> bool:
    """Whether there is a database to snapshot (none before the data stack's first deploy)."""
    database = naming.database_identifier(settings.name)
    with aws_errors(f"look for {database}"):
        try:
            clients("rds", settings.region).describe_db_instances(DBInstanceIdentifier=database)
        except ClientError as missing:
            if error_code(missing) != "DBInstanceNotFound":
                raise
            return False
    return True


def list_snapshots(settings: EnvironmentSettings, clients: ClientFactory) -> list[Snapshot]:
    """The database's snapshots, manual, automated and AWS Backup's, newest first."""
    env, region = settings.name, settings.region
    database = naming.database_identifier(env)
    rds = clients("rds", region)
    with aws_errors(f"list the snapshots of {database}"):
        # Asked first because describe_db_snapshots answers an empty list for a database
        # that does not exist.
        try:
            rds.describe_db_instances(DBInstanceIdentifier=database)
        except ClientError as missing:
            if error_code(missing) != "DBInstanceNotFound":
                raise
            raise _not_deployed(env, region) from missing
        pages = rds.get_paginator("describe_db_snapshots")
        found = {
            snapshot["DBSnapshotIdentifier"]: _snapshot(snapshot)
            for kind in ({}, {"SnapshotType": AWS_BACKUP})
            for page in pages.paginate(DBInstanceIdentifier=database, **kind)
            for snapshot in page["DBSnapshots"]
        }
    return sorted(found.values(), key=lambda s: s.created or _NOT_YET, reverse=True)


def _not_deployed(env: str, region: str) -> AwsError:
    return AwsError(
        f"{naming.database_identifier(env)} does not exist in {region}; deploy it with"
        f" `hp infra apply {env}`."
    )


def _snapshot(described: dict[str, Any]) -> Snapshot:
    return Snapshot(
        described["DBSnapshotIdentifier"],
        described.get("SnapshotType", ""),
        described.get("Status", ""),
        described.get("SnapshotCreateTime"),
        int(described.get("AllocatedStorage", 0)),
        bool(described.get("Encrypted", False)),
    )
