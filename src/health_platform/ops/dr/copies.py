"""What protects the environment besides the database's own point-in-time recovery: AWS
Backup's daily recovery points, and in production their copies in the disaster-recovery
vault, the uploads bucket's replication, the automated backups replicated to the DR
region, and what a failover there needs: the running images and the secrets.
Each check is read-only, and one that AWS refuses is that check's failure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from health_platform.contract import SERVICES
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, error_code
from health_platform.ops.dr.restore import Source, iso
from health_platform.recovery import Finding
from health_platform.settings import EnvironmentSettings

# The backup plan runs daily at 05:00 UTC with a 1 h start window: a day and its slack.
RECENT = timedelta(hours=26)
# The RecoveryPointStatus values of a usable recovery point.
DONE = {"COMPLETED", "AVAILABLE"}
SAMPLE = 10  # objects of the uploads bucket whose replication status is read


def checked(name: str, check: Callable[[], Finding]) -> Finding:
    """Run one check; AWS refusing it (permissions, throttling) is its failed finding."""
    try:
        return check()
    except ClientError as refused:
        detail = refused.response.get("Error", {})
        return Finding(
            name, False, f"could not check: {error_code(refused)}: {detail.get('Message', '')}"
        )
    except BotoCoreError as failed:
        return Finding(name, False, f"could not check: {failed}")


def recovery_points(
    settings: EnvironmentSettings, clients: ClientFactory, source: Source, now: datetime
) -> Finding:
    """A completed recovery point of the database in the environment's vault, < 26 h old."""
    vault = naming.resource_name(settings.name)
    pages = clients("backup", settings.region).get_paginator("list_recovery_points_by_resource")
    points = [
        point
        for page in pages.paginate(ResourceArn=source.arn, ManagedByAWSBackupOnly=True)
        for point in page["RecoveryPoints"]
        if point.get("BackupVaultName") == vault
    ]
    return _recent("AWS Backup recovery point", points, f"vault {vault}", now)


def dr_copies(
    settings: EnvironmentSettings, clients: ClientFactory, source: Source, now: datetime
) -> Finding:
    """A completed copy of a recovery point in the DR region's vault, < 26 h old."""
    assert settings.dr_region
    vault = naming.dr_backup_vault_name(settings.name)
    pages = clients("backup", settings.dr_region).get_paginator(
        "list_recovery_points_by_backup_vault"
    )
    points = [
        point
        for page in pages.paginate(
            BackupVaultName=vault, ByResourceArn=source.arn, ByCreatedAfter=now - RECENT
        )
        for point in page["RecoveryPoints"]
    ]
    return _recent(f"AWS Backup copy in {settings.dr_region}", points, f"vault {vault}", now)


def _recent(name: str, points: list[dict[str, Any]], where: str, now: datetime) -> Finding:
    done = sorted((p["CreationDate"] for p in points if p.get("Status") in DONE), reverse=True)
    if done and now - done[0] <= RECENT:
        age = (now - done[0]).total_seconds() / 3600
        return Finding(
            name,
            True,
            f"newest completed in {where}: {iso(done[0])} ({age:.1f} h ago)",
        )
    newest = f"; newest completed {iso(done[0])}" if done else ""
    others = Counter(p.get("Status", "?") for p in points if p.get("Status") not in DONE)
    also = f"; others: {dict(others)}" if others else ""
    return Finding(name, False, f"none completed in {where} in the last 26 h{newest}{also}")


def uploads_replication(settings: EnvironmentSettings, clients: ClientFactory) -> Finding:
    """The uploads bucket replicates to its DR replica: an enabled rule to it, and a sample of
    objects replicated (S3 says COMPLETED on the source, REPLICA on the copy)."""
    assert settings.dr_region
    name = f"uploads replicated to {settings.dr_region}"
    bucket = naming.bucket_name(settings.name, "uploads", settings.account)
    replica = naming.bucket_name(settings.name, "uploads-replica", settings.account)
    s3 = clients("s3", settings.region)
    try:
        rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
    except ClientError as missing:
        if error_code(missing) != "ReplicationConfigurationNotFoundError":
            raise
        rules = []
    if not any(
        r.get("Status") == "Enabled" and r["Destination"]["Bucket"].endswith(f":::{replica}")
        for r in rules
    ):
        return Finding(name, False, f"{bucket} has no enabled replication rule to {replica}")
    # The first keys S3 lists: a sample, not the newest (S3 lists by key, not by time).
    listed = s3.list_objects_v2(Bucket=bucket, MaxKeys=SAMPLE).get("Contents", [])
    if not listed:
        return Finding(name, True, f"the rule to {replica} is enabled; {bucket} has no objects")
    statuses = {
        o["Key"]: s3.head_object(Bucket=bucket, Key=o["Key"]).get("ReplicationStatus", "none")
        for o in listed
    }
    counts = Counter(statuses.values())
    said = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    # PENDING is replication in flight; "none" is an object S3 never queued (older than the
    # rule: S3 Batch Replication copies those).
    if counts["FAILED"] or counts["none"]:
        return Finding(name, False, f"of {len(listed)} objects sampled: {said}")
    completed = [key for key, status in statuses.items() if status == "COMPLETED"]
    if completed:
        copy = clients("s3", settings.dr_region).head_object(Bucket=replica, Key=completed[0])
        if copy.get("ReplicationStatus") != "REPLICA":
            return Finding(
                name, False, f"{completed[0]} is COMPLETED but not a replica in {replica}"
            )
    return Finding(name, True, f"of {len(listed)} objects sampled: {said}")


def replicated_backups(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    source: Source,
    now: datetime,
    rpo_target: float,
) -> tuple[Finding, float | None]:
    """(the finding, the DR region's RPO in seconds): how far behind the automated backups
    replicated to the DR region are, which is what losing the whole primary region now would
    lose."""
    assert settings.dr_region
    name = f"automated backups replicated to {settings.dr_region}"
    arns = [a for a in source.replicated_backups if f":{settings.dr_region}:" in a]
    if not arns:
        return Finding(
            name,
            False,
            f"{source.identifier} replicates no automated backups to {settings.dr_region}",
        ), None
    backups = clients("rds", settings.dr_region).describe_db_instance_automated_backups(
        DBInstanceAutomatedBackupsArn=arns[0]
    )["DBInstanceAutomatedBackups"]
    latest = next(
        (b["RestoreWindow"].get("LatestTime") for b in backups if "RestoreWindow" in b), None
    )
    if latest is None:
        statuses = ", ".join(str(b.get("Status")) for b in backups) or "not found"
        return Finding(name, False, f"{arns[0]} has no restore window yet ({statuses})"), None
    lag = (now - latest).total_seconds()
    return Finding(
        name,
        lag <= rpo_target,
        f"restorable in {settings.dr_region} to {iso(latest)}, {lag:.0f} s ago"
        f" (target {rpo_target:.0f} s)",
    ), lag


def images_replicated(settings: EnvironmentSettings, clients: ClientFactory) -> Finding:
    """The images the services run now, replicated to the DR region's registry: a failover
    releases them there (ECR copies only what was pushed after replication was set up)."""
    assert settings.dr_region
    name = f"images replicated to {settings.dr_region}"
    ssm, ecr = clients("ssm", settings.region), clients("ecr", settings.region)
    said: list[str] = []
    missing: list[str] = []
    for service in SERVICES:
        parameter = naming.release_parameter(settings.name, service)
        try:
            tag = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        except ClientError as refused:
            if error_code(refused) != "ParameterNotFound":
                raise
            missing.append(f"{service}: not released yet")
            continue
        statuses = ecr.describe_image_replication_status(
            repositoryName=naming.repository_name(settings.name, service),
            imageId={"imageTag": tag},
        )["replicationStatuses"]
        status = next(
            (s["status"] for s in statuses if s.get("region") == settings.dr_region), "none"
        )
        (said if status == "COMPLETE" else missing).append(f"{service}:{tag} {status}")
    if missing:
        return Finding(name, False, "; ".join(missing + said))
    return Finding(name, True, "; ".join(said))


def secrets_replicated(
    settings: EnvironmentSettings, clients: ClientFactory, arns: dict[str, str]
) -> Finding:
    """The secrets the services need (`arns`: what each is), in sync in the DR region."""
    assert settings.dr_region
    name = f"secrets replicated to {settings.dr_region}"
    secrets = clients("secretsmanager", settings.region)
    said: list[str] = []
    failing: list[str] = []
    for what, arn in arns.items():
        replicas = secrets.describe_secret(SecretId=arn).get("ReplicationStatus", [])
        status = next(
            (r.get("Status", "?") for r in replicas if r.get("Region") == settings.dr_region),
            "no replica",
        )
        (said if status == "InSync" else failing).append(f"{what}: {status}")
    return Finding(name, not failing, "; ".join(failing + said))
