"""The drill's temporary database: a point-in-time restore of the environment's database into
the same subnet group and security groups, tagged so that a drill which dies is cleaned up by
the next one, and always deleted (no final snapshot, no retained backups).

How the verification task signs in to it: as the master user, with the secret its task
definition already injects (the primary's master secret, which the data stack names in its
DatabaseSecretArn output; DescribeDBInstances names only a secret RDS manages itself, and
ours is generated and rotated by Secrets Manager, infra/data/database.py). It cannot use IAM
database authentication (the task roles may `rds-db:connect` only to the primary's
DbiResourceId, and a restore has a new one), nor a secret of the restored instance's own
(RDS manages a restored instance's master password only for Oracle; ECS overrides carry no
secrets; the execution role may read only the primary's secret). A restore keeps the master
password of the time restored to, which has since been rotated (every 7 days), so the drill
sets the restored instance's master password to the secret's current value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from health_platform.errors import AwsError, InvalidInputError, RefusedError, TimedOutError
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code, stack_outputs
from health_platform.recovery import Finding
from health_platform.settings import EnvironmentSettings

# Tag key of every temporary database; its value is the environment.
DRILL_TAG = "hp:drill"
CREATED_BY = {"Key": "created-by", "Value": "hp"}
AVAILABLE = "available"
# States from which a restore never becomes available (botocore's DBInstanceAvailable waiter
# gives up on the first five too).
DEAD_STATES = {
    "deleted",
    "deleting",
    "failed",
    "incompatible-restore",
    "incompatible-parameters",
    "incompatible-network",
    "inaccessible-encryption-credentials",
    "storage-full",
}

Sleep = Callable[[float], None]
Clock = Callable[[], float]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Source:
    """The environment's database, as much of it as a restore copies or a check reads."""

    identifier: str
    arn: str
    resource_id: str  # DbiResourceId
    instance_class: str
    subnet_group: str
    security_groups: tuple[str, ...]
    parameter_group: str | None
    ca_certificate: str | None
    iam_authentication: bool
    latest_restorable: datetime | None
    master_secret_arn: str  # the data stack's output: the secret the migration task receives
    # ARNs of its automated backups replicated to other regions.
    replicated_backups: tuple[str, ...]


def describe_source(settings: EnvironmentSettings, clients: ClientFactory) -> Source:
    env, region = settings.name, settings.region
    identifier = naming.database_identifier(env)
    with aws_errors(f"read {env}'s data stack"):
        outputs = stack_outputs(clients, env, naming.DATA, region)
    master_secret_arn = outputs[naming.Output.DATABASE_SECRET]
    if not master_secret_arn:
        raise AwsError(
            f"{naming.stack_name(env, naming.DATA)} names no master secret of {identifier},"
            " which the verification task signs in with; deploy it with"
            f" `hp infra apply {env}`."
        )
    with aws_errors(f"describe {identifier}"):
        try:
            (described,) = clients("rds", region).describe_db_instances(
                DBInstanceIdentifier=identifier
            )["DBInstances"]
        except ClientError as missing:
            if error_code(missing) != "DBInstanceNotFound":
                raise
            raise AwsError(
                f"{identifier} does not exist in {region}; deploy it with `hp infra apply {env}`."
            ) from missing
    groups = described.get("DBParameterGroups") or [{}]
    return Source(
        identifier=identifier,
        arn=described["DBInstanceArn"],
        resource_id=described.get("DbiResourceId", ""),
        instance_class=described["DBInstanceClass"],
        subnet_group=described["DBSubnetGroup"]["DBSubnetGroupName"],
        security_groups=tuple(g["VpcSecurityGroupId"] for g in described["VpcSecurityGroups"]),
        parameter_group=groups[0].get("DBParameterGroupName"),
        ca_certificate=described.get("CACertificateIdentifier"),
        iam_authentication=bool(described.get("IAMDatabaseAuthenticationEnabled", False)),
        latest_restorable=described.get("LatestRestorableTime"),
        master_secret_arn=master_secret_arn,
        replicated_backups=tuple(
            r["DBInstanceAutomatedBackupsArn"]
            for r in described.get("DBInstanceAutomatedBackupsReplications", [])
        ),
    )


def restore_window(
    settings: EnvironmentSettings, clients: ClientFactory, source: Source
) -> tuple[datetime, datetime]:
    """(earliest, latest) time the database can be restored to, from its automated backups."""
    with aws_errors(f"read the automated backups of {source.identifier}"):
        backups = clients("rds", settings.region).describe_db_instance_automated_backups(
            DbiResourceId=source.resource_id
        )["DBInstanceAutomatedBackups"]
    windows = [b["RestoreWindow"] for b in backups if b.get("RestoreWindow", {}).get("LatestTime")]
    if not windows:
        raise RefusedError(
            f"{source.identifier} has no automated backups to restore from (a backup retention"
            " of 0 days, or its first backup is still being taken)."
        )
    return windows[0]["EarliestTime"], source.latest_restorable or windows[0]["LatestTime"]


def iso(at: datetime) -> str:
    """A time as the report says it: ISO 8601 to the second."""
    return at.isoformat(timespec="seconds")


def check_target(to: datetime | None, window: tuple[datetime, datetime]) -> None:
    """A time to restore to must be zone-aware and inside the restore window."""
    if to is None:
        return
    if to.tzinfo is None:
        raise InvalidInputError(
            f"Give the time to restore to with its zone, e.g. {iso(to)}Z (UTC)."
        )
    earliest, latest = window
    if not earliest <= to <= latest:
        raise InvalidInputError(
            f"{iso(to)} is outside the restore window of the database:"
            f" {iso(earliest)} to {iso(latest)}; leave out --to for the latest."
        )


def delete_leftovers(
    settings: EnvironmentSettings, clients: ClientFactory, progress: Progress
) -> Finding | None:
    """Delete the temporary databases of earlier drills that died before deleting their own:
    named with the drill prefix AND tagged as a drill of this environment (both, so nothing
    else is ever deleted)."""
    env = settings.name
    rds = clients("rds", settings.region)
    prefix = naming.drill_database_prefix(env)
    mark = {"Key": DRILL_TAG, "Value": env}
    with aws_errors("look for databases left by earlier drills"):
        leftovers = [
            instance
            for page in rds.get_paginator("describe_db_instances").paginate()
            for instance in page["DBInstances"]
            if instance["DBInstanceIdentifier"].startswith(prefix)
            and mark in instance.get("TagList", [])
            and instance.get("DBInstanceStatus") != "deleting"
        ]
    if not leftovers:
        return None
    results = []
    for instance in leftovers:
        progress(f"Deleting {instance['DBInstanceIdentifier']}, left by an earlier drill")
        results.append(delete_instance(rds, env, instance["DBInstanceIdentifier"]))
    return Finding(
        "leftovers of earlier drills deleted",
        all(r.ok for r in results),
        "; ".join(r.detail for r in results),
    )


def restore(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    source: Source,
    identifier: str,
    to: datetime | None,
) -> None:
    """Start the restore. Copied from the source: the class (RTO as a real recovery would see
    it), the network, the TLS-only parameter group, the CA, IAM authentication; the storage
    and its KMS key are the source's by definition. Not copied: Multi-AZ, deletion protection,
    backups (a throwaway instance needs none, and becomes available sooner without the
    first one), log exports (RDS would create unencrypted log groups kept forever)."""
    when: dict[str, Any] = {"RestoreTime": to} if to else {"UseLatestRestorableTime": True}
    optional = {
        key: value
        for key, value in (
            ("DBParameterGroupName", source.parameter_group),
            ("CACertificateIdentifier", source.ca_certificate),
        )
        if value
    }
    with aws_errors(f"restore {source.identifier} into {identifier}"):
        clients("rds", settings.region).restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier=source.identifier,
            TargetDBInstanceIdentifier=identifier,
            **when,
            DBInstanceClass=source.instance_class,
            DBSubnetGroupName=source.subnet_group,
            VpcSecurityGroupIds=list(source.security_groups),
            MultiAZ=False,
            PubliclyAccessible=False,
            DeletionProtection=False,
            EnableIAMDatabaseAuthentication=source.iam_authentication,
            BackupRetentionPeriod=0,
            CopyTagsToSnapshot=False,
            Tags=[{"Key": DRILL_TAG, "Value": settings.name}, CREATED_BY],
            **optional,
        )


def wait_until_available(
    rds: Any,
    identifier: str,
    *,
    doing: str,
    deadline: float,
    timeout: float,
    progress: Progress,
    sleep: Sleep,
    clock: Clock,
    interval: float,
) -> dict[str, Any]:
    """The instance once it is available with no master password change pending (right after
    ModifyDBInstance it may still say available; the pending change says otherwise)."""
    said = ""
    while True:
        with aws_errors(f"describe {identifier}"):
            (instance,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
        status = instance["DBInstanceStatus"]
        pending = "MasterUserPassword" in instance.get("PendingModifiedValues", {})
        if status == AVAILABLE and not pending:
            return dict(instance)
        if status in DEAD_STATES:
            raise AwsError(f"{identifier} is {status}: RDS could not finish {doing}.")
        if status != said:
            progress(f"{identifier} is {status}")
            said = status
        if clock() >= deadline:
            raise TimedOutError(
                f"{identifier} is still {status} after {timeout:.0f} s ({doing});"
                " the drill deletes it."
            )
        sleep(interval)


def align_master_password(
    settings: EnvironmentSettings, clients: ClientFactory, source: Source, identifier: str
) -> None:
    """Give the restored instance the master password the verification task will sign in
    with (see the module's docstring). The password travels only in this API call."""
    with aws_errors(f"read the master secret of {source.identifier}"):
        secret = clients("secretsmanager", settings.region).get_secret_value(
            SecretId=source.master_secret_arn
        )
    password = json.loads(secret["SecretString"])["password"]
    with aws_errors(f"set the master password of {identifier}"):
        clients("rds", settings.region).modify_db_instance(
            DBInstanceIdentifier=identifier, MasterUserPassword=password, ApplyImmediately=True
        )


def delete_instance(rds: Any, env: str, identifier: str) -> Finding:
    """Delete a temporary database; never raises (it runs while another error may be on its
    way out), the outcome is the finding."""
    name = "temporary database deleted"
    try:
        rds.delete_db_instance(
            DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
        )
    except ClientError as refused:
        code = error_code(refused)
        if code == "DBInstanceNotFound":
            return Finding(name, True, f"{identifier} does not exist (it was never created)")
        if code == "InvalidDBInstanceState" and "already being deleted" in str(refused):
            return Finding(name, True, f"{identifier} is being deleted")
        return Finding(name, False, _left(env, identifier, f"{code}: {refused}"))
    except BotoCoreError as failed:
        return Finding(name, False, _left(env, identifier, str(failed)))
    return Finding(
        name, True, f"{identifier} is being deleted (no final snapshot, no retained backups)"
    )


def _left(env: str, identifier: str, why: str) -> str:
    return (
        f"RDS did not delete {identifier} ({why}); the next `hp dr drill {env}` deletes it"
        f" (tag {DRILL_TAG}={env}), or delete it with `aws rds delete-db-instance"
        f" --db-instance-identifier {identifier} --skip-final-snapshot`."
    )
