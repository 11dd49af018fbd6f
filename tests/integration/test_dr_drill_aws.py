"""`hp dr drill ENV` on AWS (ops/dr_drill.py, ops/dr/) against moto: the database, its
network, the services' task definitions and the buckets are made by direct API calls; moto
restores the database and deletes it. What moto lacks is answered in AWS's documented
shapes (aws_answers.answer): a restore window, AWS Backup's recovery points, S3's
replication status, the automated backups replicated to the DR region, an instance that
stays `creating`, and ECS tasks that stop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from health_platform.contract import MIGRATION
from health_platform.errors import AwsError, ExitCode, InvalidInputError, TimedOutError
from health_platform.infra import naming
from health_platform.ops.dr.verify import VERIFY_COMMAND
from health_platform.ops.dr_drill import drill_aws
from health_platform.recovery import SEED_TARGETS, DrillReport
from health_platform.settings import load_environment
from tests.integration import deployed
from tests.integration.aws_answers import Account, FakeTime, answer, tasks_that_stop

pytestmark = pytest.mark.usefixtures("aws")

REGION = deployed.REGION
DR_REGION = "us-west-2"  # prod's, environments/prod.yaml
ACCOUNT = "123456789012"  # moto's
# The drill's clock: five minutes after moto's LatestRestorableTime (moto says "now").
LAG = timedelta(minutes=5)
VERIFIED = {
    "schema_version": "0004",
    "head_revision": "0004",
    "schema_known": True,
    "tables": {"alembic_version": 1, "audit_records": 40, "users": 12},
}


@dataclass
class Platform:
    env: str
    account: Account
    deployment: deployed.Deployment
    database: dict[str, Any]  # as DescribeDBInstances describes it
    secret_arn: str  # the master secret, as the data stack's output names it
    password: str  # the master secret's current password


@pytest.fixture
def dev(monkeypatch: pytest.MonkeyPatch) -> Platform:
    return platform("dev", monkeypatch)


@pytest.fixture
def prod(monkeypatch: pytest.MonkeyPatch) -> Platform:
    return platform("prod", monkeypatch)


def platform(env: str, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """`env` deployed as far as a drill reads it, with a restore window of 7 days and a
    recovery point of AWS Backup from 5 hours ago. Its master password is the data stack's
    generated secret (not one RDS manages: DescribeDBInstances names no MasterUserSecret),
    rotated since the instance was created."""
    monkeypatch.setattr(deployed, "ENV", env)  # deployed.py builds "dev" unless told
    account = Account()
    deployment = deployed.deploy(account)
    ec2, rds = account("ec2", REGION), account("rds", REGION)
    vpc = ec2.describe_subnets(SubnetIds=deployment.subnets)["Subnets"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="database", Description="database", VpcId=vpc)
    rds.create_db_subnet_group(
        DBSubnetGroupName=f"{env}-database-subnets",
        DBSubnetGroupDescription="database subnets",
        SubnetIds=deployment.subnets,
    )
    rds.create_db_parameter_group(
        DBParameterGroupName=f"{env}-tls-only",
        DBParameterGroupFamily="postgres15",
        Description="TLS only",
    )
    database = rds.create_db_instance(
        DBInstanceIdentifier=naming.database_identifier(env),
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        DBName="health_platform",
        MasterUsername="hp_admin",
        MasterUserPassword="generated-when-the-stack-was-created",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
        StorageEncrypted=True,
        DBSubnetGroupName=f"{env}-database-subnets",
        VpcSecurityGroupIds=[group["GroupId"]],
        DBParameterGroupName=f"{env}-tls-only",
        EnableIAMDatabaseAuthentication=True,
        # Not DeletionProtection: moto's restore ignores an override that is False and would
        # copy it (RDS does not: DeletionProtection=False is asserted on the request instead).
    )["DBInstance"]
    secrets = account("secretsmanager", REGION)
    attached = {
        "engine": "postgres",
        "host": database["Endpoint"]["Address"],
        "port": database["Endpoint"]["Port"],
        "dbname": "health_platform",
        "dbInstanceIdentifier": database["DBInstanceIdentifier"],
        "username": "hp_admin",
    }
    secret_arn = secrets.create_secret(
        Name=f"{env}-master",
        SecretString=json.dumps({**attached, "password": "generated-when-the-stack-was-created"}),
    )["ARN"]
    rotated = "rotated-since-by-the-rotation-function"
    secrets.put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({**attached, "password": rotated})
    )
    data_output(account, env, naming.Output.DATABASE_SECRET, secret_arn)
    restore_window(account, database)
    recovery_points(account, env, age=timedelta(hours=5))
    return Platform(env, account, deployment, database, secret_arn, rotated)


def data_output(account: Account, env: str, key: str, value: str | None) -> None:
    """Write (or, with None, remove) an output of the data stack deployed.deploy made."""
    cloudformation = account("cloudformation", REGION)
    name = naming.stack_name(env, naming.DATA)
    template = json.loads(json.dumps(cloudformation.get_template(StackName=name)["TemplateBody"]))
    if value is None:
        template["Outputs"].pop(key, None)
    else:
        template["Outputs"][key] = {"Value": value}
    cloudformation.update_stack(StackName=name, TemplateBody=json.dumps(template))


def restore_window(account: Account, database: dict[str, Any]) -> None:
    """DescribeDBInstanceAutomatedBackups with its RestoreWindow (moto's has none)."""
    now = datetime.now(UTC)

    def respond(params: dict[str, Any]) -> dict[str, Any]:
        return {
            "DBInstanceAutomatedBackups": [
                {
                    "DBInstanceArn": database["DBInstanceArn"],
                    "DbiResourceId": params["DbiResourceId"],
                    "Region": REGION,
                    "DBInstanceIdentifier": database["DBInstanceIdentifier"],
                    "RestoreWindow": {"EarliestTime": now - timedelta(days=7), "LatestTime": now},
                    "Status": "active",
                    "Engine": "postgres",
                    "Encrypted": True,
                    "BackupRetentionPeriod": 7,
                }
            ]
        }

    answer(account("rds", REGION), "DescribeDBInstanceAutomatedBackups", respond)


def recovery_points(account: Account, env: str, age: timedelta) -> None:
    """AWS Backup's ListRecoveryPointsByResource (moto has none): one completed point."""

    def respond(params: dict[str, Any]) -> dict[str, Any]:
        return {
            "RecoveryPoints": [
                {
                    "RecoveryPointArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:job-1",
                    "CreationDate": datetime.now(UTC) - age,
                    "EncryptionKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/data",
                    "Status": "COMPLETED",
                    "BackupSizeBytes": 21474836480,
                    "BackupVaultName": naming.resource_name(env),
                }
            ]
        }

    answer(account("backup", REGION), "ListRecoveryPointsByResource", respond)


def verify_task(platform: Platform, exit_code: int, *lines: str) -> None:
    """The verification task: it stops with `exit_code` after writing `lines`."""
    tasks_that_stop(
        platform.account("ecs", REGION),
        MIGRATION,
        exit_code=exit_code,
        started=lambda arn: deployed.log(platform.account, MIGRATION, arn, *lines),
    )


def drill(platform: Platform, **options: Any) -> tuple[DrillReport, list[str]]:
    said: list[str] = []
    time = FakeTime()
    report = drill_aws(
        load_environment(platform.env),
        platform.account,
        to=options.pop("to", None),
        progress=said.append,
        now=lambda: datetime.now(UTC) + LAG,
        clock=time.clock,
        sleep=time.sleep,
        **options,
    )
    return report, said


def drill_instances(platform: Platform) -> list[str]:
    prefix = naming.drill_database_prefix(platform.env)
    described = platform.account("rds", REGION).describe_db_instances()["DBInstances"]
    return [
        i["DBInstanceIdentifier"] for i in described if i["DBInstanceIdentifier"].startswith(prefix)
    ]


def finding(report: DrillReport, name: str) -> Any:
    (found,) = [f for f in report.findings if f.name == name]
    return found


def test_a_drill_restores_into_the_databases_network_verifies_measures_and_deletes(
    dev: Platform,
) -> None:
    verify_task(dev, 0, "connecting to the restored database", json.dumps(VERIFIED))

    report, said = drill(dev)

    (restored,) = dev.account.params_of("rds", "RestoreDBInstanceToPointInTime")
    identifier = restored["TargetDBInstanceIdentifier"]
    assert identifier.startswith("health-platform-dev-db-drill-")
    database = dev.database
    assert restored == {
        "SourceDBInstanceIdentifier": "health-platform-dev-db",
        "TargetDBInstanceIdentifier": identifier,
        "UseLatestRestorableTime": True,
        "DBInstanceClass": "db.t4g.micro",
        "DBSubnetGroupName": "dev-database-subnets",
        "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in database["VpcSecurityGroups"]],
        "MultiAZ": False,
        "PubliclyAccessible": False,
        "DeletionProtection": False,
        "EnableIAMDatabaseAuthentication": True,
        "BackupRetentionPeriod": 0,
        "CopyTagsToSnapshot": False,
        "Tags": [{"Key": "hp:drill", "Value": "dev"}, {"Key": "created-by", "Value": "hp"}],
        "DBParameterGroupName": "dev-tls-only",
        "CACertificateIdentifier": database["CACertificateIdentifier"],
    }
    # The master password the task's secret holds now, set on the restored instance only;
    # the secret is the one the data stack names (RDS manages none: no MasterUserSecret).
    assert "MasterUserSecret" not in dev.database
    (read,) = dev.account.params_of("secretsmanager", "GetSecretValue")
    assert read == {"SecretId": dev.secret_arn}
    (aligned,) = dev.account.params_of("rds", "ModifyDBInstance")
    assert aligned == {
        "DBInstanceIdentifier": identifier,
        "MasterUserPassword": dev.password,
        "ApplyImmediately": True,
    }
    (deleted,) = dev.account.params_of("rds", "DeleteDBInstance")
    assert deleted == {
        "DBInstanceIdentifier": identifier,
        "SkipFinalSnapshot": True,
        "DeleteAutomatedBackups": True,
    }
    assert drill_instances(dev) == []

    assert report.verified
    assert (report.environment, report.target, report.targets) == ("dev", "latest", SEED_TARGETS)
    assert [(t.name, t.rows, t.expected_rows) for t in report.tables] == [
        ("alembic_version", 1, None),
        ("audit_records", 40, None),
        ("users", 12, None),
    ]
    assert report.rpo_seconds == pytest.approx(LAG.total_seconds(), abs=30)
    assert report.rto_seconds is not None and report.meets_targets
    assert [f.name for f in report.findings] == [
        "verification task",
        "schema version",
        "temporary database deleted",
        "AWS Backup recovery point",
    ]
    assert finding(report, "temporary database deleted").detail == (
        f"{identifier} is being deleted (no final snapshot, no retained backups)"
    )
    assert finding(report, "schema version").detail == "0004, the release's head revision"
    assert any(note.startswith("RPO:") for note in report.notes)
    assert any(note.startswith("RTO:") for note in report.notes)
    assert "  connecting to the restored database" in said  # the task's log, shown
    assert not any(line.startswith("  {") for line in said)  # its report is not chatter
    # dev has no DR region: nothing there is asked, and no bucket is.
    assert not any(region == DR_REGION for (_, region) in dev.account._clients)
    assert dev.account.operations("s3") == []


def test_no_secret_reaches_the_tasks_overrides(dev: Platform) -> None:
    verify_task(dev, 0, json.dumps(VERIFIED))

    drill(dev)

    (started,) = dev.account.params_of("ecs", "RunTask")
    (instance,) = dev.account.params_of("rds", "RestoreDBInstanceToPointInTime")
    assert started["taskDefinition"] == dev.deployment.migration_task_definition
    host = f"{instance['TargetDBInstanceIdentifier']}."  # moto's endpoint: <id>.<hash>.<region>…
    (override,) = started["overrides"]["containerOverrides"]
    assert set(override) == {"name", "command"}  # no environment, no secrets
    assert override["name"] == MIGRATION
    assert override["command"][:-1] == [*VERIFY_COMMAND, "--host"]
    assert override["command"][-1].startswith(host)
    assert dev.password not in json.dumps(started, default=str)


def test_a_verification_task_that_fails_is_a_report_not_verified_and_the_instance_is_deleted(
    dev: Platform,
) -> None:
    verify_task(
        dev,
        1,
        'verification failed: OperationalError: password authentication failed for user "hp_admin"',
    )

    report, _ = drill(dev)

    assert not report.verified and report.rto_seconds is None and report.tables == []
    task = finding(report, "verification task")
    assert not task.ok
    assert "exit 1" in task.detail and "password authentication failed" in task.detail
    assert not finding(report, "schema version").ok
    assert len(dev.account.params_of("rds", "DeleteDBInstance")) == 1
    assert drill_instances(dev) == []


def test_a_restore_that_never_becomes_available_times_out_and_is_deleted(
    dev: Platform,
) -> None:
    prefix = naming.drill_database_prefix("dev")

    def still_creating(params: dict[str, Any]) -> dict[str, Any] | None:
        identifier = params.get("DBInstanceIdentifier", "")
        if not identifier.startswith(prefix):
            return None  # moto answers the rest
        return {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": identifier,
                    "DBInstanceClass": "db.t4g.micro",
                    "Engine": "postgres",
                    "DBInstanceStatus": "creating",
                    "MultiAZ": False,
                    "PendingModifiedValues": {},
                }
            ]
        }

    answer(dev.account("rds", REGION), "DescribeDBInstances", still_creating)

    with pytest.raises(TimedOutError) as timed_out:
        drill(dev, timeout_seconds=600, poll_seconds=30)

    assert timed_out.value.exit_code == ExitCode.TIMED_OUT
    assert "is still creating after 600 s (the restore); the drill deletes it." in str(
        timed_out.value
    )
    (deleted,) = dev.account.params_of("rds", "DeleteDBInstance")
    assert deleted["DBInstanceIdentifier"].startswith(prefix)
    assert deleted["SkipFinalSnapshot"] is True
    assert drill_instances(dev) == []
    assert dev.account.params_of("ecs", "RunTask") == []


def test_leftovers_of_earlier_drills_are_deleted_first_and_nothing_else(dev: Platform) -> None:
    rds = dev.account("rds", REGION)

    def instance(identifier: str, tags: list[dict[str, str]]) -> None:
        rds.create_db_instance(
            DBInstanceIdentifier=identifier,
            DBInstanceClass="db.t4g.micro",
            Engine="postgres",
            MasterUsername="hp_admin",
            MasterUserPassword="not-a-real-password",
            AllocatedStorage=20,
            Tags=tags,
        )

    leftover = "health-platform-dev-db-drill-20260101000000"
    instance(leftover, [{"Key": "hp:drill", "Value": "dev"}])
    instance("health-platform-dev-db-drill-by-hand", [])  # named alike, not tagged: kept
    instance(
        "health-platform-staging-db-drill-20260101000000", [{"Key": "hp:drill", "Value": "staging"}]
    )
    verify_task(dev, 0, json.dumps(VERIFIED))

    report, said = drill(dev)

    deleted = [p["DBInstanceIdentifier"] for p in dev.account.params_of("rds", "DeleteDBInstance")]
    assert deleted[0] == leftover and len(deleted) == 2  # the leftover, then its own
    operations = dev.account.operations("rds")
    assert operations.index("rds.DeleteDBInstance") < operations.index(
        "rds.RestoreDBInstanceToPointInTime"
    )
    assert finding(report, "leftovers of earlier drills deleted").ok
    assert f"Deleting {leftover}, left by an earlier drill" in said
    remaining = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert {
        "health-platform-dev-db-drill-by-hand",
        "health-platform-staging-db-drill-20260101000000",
    } <= remaining
    assert leftover not in remaining


def test_a_data_stack_that_names_no_master_secret_stops_the_drill_before_anything_is_made(
    dev: Platform,
) -> None:
    data_output(dev.account, "dev", naming.Output.DATABASE_SECRET, None)

    with pytest.raises(AwsError) as refused:
        drill(dev)

    assert str(refused.value) == (
        "health-platform-dev-data has no output DatabaseSecretArn (it is UPDATE_COMPLETE);"
        " deploy it with `hp infra apply dev`."
    )
    assert refused.value.exit_code == ExitCode.AWS_ERROR
    operations = dev.account.operations()
    for made in ("RestoreDBInstanceToPointInTime", "DeleteDBInstance", "ModifyDBInstance"):
        assert f"rds.{made}" not in operations
    assert "ecs.RunTask" not in operations


@pytest.mark.parametrize(
    ("to", "said"),
    [
        (datetime.now(UTC) - timedelta(days=30), "is outside the restore window"),
        (datetime.now(UTC) + timedelta(hours=1), "is outside the restore window"),
        (datetime(2026, 3, 1, 9, 30), "with its zone"),  # no zone: ambiguous
    ],
)
def test_a_time_outside_the_restore_window_is_refused_before_anything_is_created(
    dev: Platform, to: datetime, said: str
) -> None:
    with pytest.raises(InvalidInputError, match=said) as refused:
        drill(dev, to=to)

    assert refused.value.exit_code == ExitCode.INVALID_INPUT
    operations = dev.account.operations()
    for made in (
        "RestoreDBInstanceToPointInTime",
        "DeleteDBInstance",
        "ModifyDBInstance",
        "RunTask",
    ):
        assert not any(op.endswith(f".{made}") for op in operations)


def test_a_time_inside_the_window_is_restored_to_and_may_predate_the_last_migration(
    dev: Platform,
) -> None:
    to = datetime.now(UTC) - timedelta(days=2)
    earlier = {**VERIFIED, "schema_version": "0003"}
    verify_task(dev, 0, json.dumps(earlier))

    report, _ = drill(dev, to=to)

    (restored,) = dev.account.params_of("rds", "RestoreDBInstanceToPointInTime")
    assert restored["RestoreTime"] == to and "UseLatestRestorableTime" not in restored
    assert report.target == to.isoformat()
    schema = finding(report, "schema version")
    assert schema.ok and schema.detail.startswith("0003, an earlier revision of the release")
    assert report.verified


# --- production: the DR region's copies ------------------------------------------------------
def replicated(platform: Platform, lag: timedelta) -> str:
    """The database replicates its automated backups to the DR region (moto cannot): the
    source lists the replication, the DR region describes its restore window."""
    arn = f"arn:aws:rds:{DR_REGION}:{ACCOUNT}:auto-backup:ab-drcopyexample"
    moto = boto3.client("rds", REGION)  # unanswered: moto's own description
    source = naming.database_identifier(platform.env)

    def with_replication(params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("DBInstanceIdentifier") != source:
            return None
        described = moto.describe_db_instances(DBInstanceIdentifier=source)
        described.pop("ResponseMetadata")
        described["DBInstances"][0]["DBInstanceAutomatedBackupsReplications"] = [
            {"DBInstanceAutomatedBackupsArn": arn}
        ]
        return described

    answer(platform.account("rds", REGION), "DescribeDBInstances", with_replication)
    now = datetime.now(UTC)
    answer(
        platform.account("rds", DR_REGION),
        "DescribeDBInstanceAutomatedBackups",
        lambda params: {
            "DBInstanceAutomatedBackups": [
                {
                    "DBInstanceArn": platform.database["DBInstanceArn"],
                    "DbiResourceId": "db-EXAMPLE",
                    "Region": REGION,
                    "DBInstanceIdentifier": source,
                    "RestoreWindow": {
                        "EarliestTime": now - timedelta(days=7),
                        "LatestTime": now - lag,
                    },
                    "Status": "replicating",
                    "Engine": "postgres",
                    "Encrypted": True,
                    "BackupRetentionPeriod": 7,
                    "DBInstanceAutomatedBackupsArn": params["DBInstanceAutomatedBackupsArn"],
                }
            ]
        },
    )
    return arn


def dr_vault_copy(platform: Platform, status: str = "COMPLETED") -> None:
    """AWS Backup's ListRecoveryPointsByBackupVault in the DR region: one copy 3 hours old."""
    vaults = f"arn:aws:backup:{{region}}:{ACCOUNT}:backup-vault:{{name}}"

    def respond(params: dict[str, Any]) -> dict[str, Any]:
        return {
            "RecoveryPoints": [
                {
                    "RecoveryPointArn": f"arn:aws:rds:{DR_REGION}:{ACCOUNT}:snapshot:awsbackup:c1",
                    "BackupVaultName": params["BackupVaultName"],
                    "BackupVaultArn": vaults.format(
                        region=DR_REGION, name=params["BackupVaultName"]
                    ),
                    "SourceBackupVaultArn": vaults.format(
                        region=REGION, name=naming.resource_name(platform.env)
                    ),
                    "ResourceArn": params["ByResourceArn"],
                    "ResourceType": "RDS",
                    "Status": status,
                    "CreationDate": datetime.now(UTC) - timedelta(hours=3),
                    "IsEncrypted": True,
                }
            ]
        }

    answer(platform.account("backup", DR_REGION), "ListRecoveryPointsByBackupVault", respond)


def replicating_uploads(platform: Platform, status: str) -> None:
    """The uploads bucket with its replication rule to the replica (as infra/data/buckets.py
    writes it) and one object, whose replication status S3 reports as `status`."""
    env, account = platform.env, load_environment(platform.env).account
    bucket = naming.bucket_name(env, "uploads", account)
    replica = naming.bucket_name(env, "uploads-replica", account)
    s3, dr_s3 = platform.account("s3", REGION), platform.account("s3", DR_REGION)
    s3.create_bucket(Bucket=bucket)
    dr_s3.create_bucket(Bucket=replica, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
    for client, name in ((s3, bucket), (dr_s3, replica)):
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket=bucket,
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
            "Rules": [
                {
                    "ID": "disaster-recovery",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Enabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{replica}"},
                }
            ],
        },
    )
    s3.put_object(Bucket=bucket, Key="documents/7f3a.pdf", Body=b"%PDF")

    def head(replication_status: str) -> Any:
        return lambda params: {
            "ContentLength": 4,
            "ContentType": "application/pdf",
            "ETag": '"0f343b0931126a20f133d67c2b018a3b"',
            "ServerSideEncryption": "aws:kms",
            "BucketKeyEnabled": True,
            "VersionId": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
            "ReplicationStatus": replication_status,
        }

    answer(s3, "HeadObject", head(status))
    answer(dr_s3, "HeadObject", head("REPLICA"))


def failover_copies(platform: Platform, image: str = "COMPLETE", replica: str = "InSync") -> None:
    """What a failover needs in the DR region, as ECR and Secrets Manager describe it (moto
    has no DescribeImageReplicationStatus, nor replica statuses)."""
    answer(
        platform.account("ecr", REGION),
        "DescribeImageReplicationStatus",
        lambda params: {
            "repositoryName": params["repositoryName"],
            "imageId": params["imageId"],
            "replicationStatuses": [{"region": DR_REGION, "registryId": ACCOUNT, "status": image}],
        },
    )
    secrets = platform.account("secretsmanager", REGION)
    token = secrets.create_secret(Name=f"{platform.env}-redis-token", SecretString="t0ken")
    data_output(platform.account, platform.env, naming.Output.CACHE_AUTH_TOKEN_SECRET, token["ARN"])
    answer(
        secrets,
        "DescribeSecret",
        lambda params: {
            "ARN": params["SecretId"],
            "Name": params["SecretId"].rsplit(":", 1)[-1],
            "PrimaryRegion": REGION,
            "ReplicationStatus": [
                {
                    "Region": DR_REGION,
                    "KmsKeyId": naming.dr_key_alias(platform.env),
                    "Status": replica,
                    "StatusMessage": "Replication succeeded" if replica == "InSync" else "KMS",
                }
            ],
        },
    )


@pytest.fixture
def prod_copies(prod: Platform) -> Iterator[Platform]:
    verify_task(prod, 0, json.dumps(VERIFIED))
    yield prod


def test_prod_checks_the_dr_copies_the_uploads_replication_and_the_dr_rpo(
    prod_copies: Platform,
) -> None:
    replicated(prod_copies, lag=timedelta(minutes=10))
    dr_vault_copy(prod_copies)
    replicating_uploads(prod_copies, "COMPLETED")
    failover_copies(prod_copies)

    report, said = drill(prod_copies)

    assert report.verified, report.as_markdown()
    names = [f.name for f in report.findings]
    assert names[-6:] == [
        "AWS Backup recovery point",
        f"AWS Backup copy in {DR_REGION}",
        f"uploads replicated to {DR_REGION}",
        f"automated backups replicated to {DR_REGION}",
        f"images replicated to {DR_REGION}",
        f"secrets replicated to {DR_REGION}",
    ]
    tag = deployed.RUNNING_TAG
    assert finding(report, f"images replicated to {DR_REGION}").detail == (
        f"frontend:{tag} COMPLETE; backend:{tag} COMPLETE"
    )
    assert finding(report, f"secrets replicated to {DR_REGION}").detail == (
        "database master secret: InSync; Redis auth token: InSync"
    )
    dr_rpo = finding(report, f"automated backups replicated to {DR_REGION}")
    assert dr_rpo.ok and "s ago (target 3600 s)" in dr_rpo.detail
    assert any(note.startswith(f"RPO in {DR_REGION}:") for note in report.notes)
    assert finding(report, f"uploads replicated to {DR_REGION}").detail == (
        "of 1 objects sampled: 1 COMPLETED"
    )
    (asked,) = prod_copies.account.params_of("backup", "ListRecoveryPointsByBackupVault")
    assert asked["BackupVaultName"] == naming.dr_backup_vault_name("prod")
    assert asked["ByResourceArn"] == prod_copies.database["DBInstanceArn"]
    assert f"Checking the backups and the copies in {DR_REGION}" in said


def test_prod_without_copies_or_replication_is_not_verified_and_says_what_is_missing(
    prod_copies: Platform,
) -> None:
    dr_vault_copy(prod_copies, status="CREATING")
    replicating_uploads(prod_copies, "FAILED")
    failover_copies(prod_copies, image="FAILED", replica="Failed")

    report, _ = drill(prod_copies)

    assert not report.verified
    assert finding(report, "verification task").ok  # the restore itself was fine
    copy = finding(report, f"AWS Backup copy in {DR_REGION}")
    assert not copy.ok and "none completed in vault health-platform-prod-dr" in copy.detail
    uploads = finding(report, f"uploads replicated to {DR_REGION}")
    assert not uploads.ok and "1 FAILED" in uploads.detail
    backups = finding(report, f"automated backups replicated to {DR_REGION}")
    assert not backups.ok
    assert (
        backups.detail == f"health-platform-prod-db replicates no automated backups to {DR_REGION}"
    )
    images = finding(report, f"images replicated to {DR_REGION}")
    assert not images.ok and "backend:" in images.detail and "FAILED" in images.detail
    secrets = finding(report, f"secrets replicated to {DR_REGION}")
    assert not secrets.ok and secrets.detail.startswith("database master secret: Failed")


def test_a_check_aws_refuses_is_that_checks_failure_only(dev: Platform) -> None:
    answer(
        dev.account("backup", REGION),
        "ListRecoveryPointsByResource",
        lambda params: {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
    )
    verify_task(dev, 0, json.dumps(VERIFIED))

    report, _ = drill(dev)

    refused = finding(report, "AWS Backup recovery point")
    assert not refused.ok
    assert refused.detail == "could not check: AccessDeniedException: not allowed"
    assert finding(report, "verification task").ok


def test_hp_dr_drill_on_aws_prints_and_keeps_the_report_and_exits_0_when_met(
    dev: Platform,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command as an operator runs it: the same drill, the report printed, written to the
    checkout's reports/drills and to --json, exit 0 when verified within the targets."""
    from health_platform.cli import main

    verify_task(dev, 0, json.dumps(VERIFIED))
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: dev.account)
    monkeypatch.setattr("health_platform.ops.tasks.POLL_SECONDS", 0)
    monkeypatch.setattr(
        "health_platform.cli.dr.drill_reports_dir", lambda: tmp_path / "reports" / "drills"
    )

    code = main(["dr", "drill", "dev", "--json", str(tmp_path / "drill.json")])

    printed = capsys.readouterr()
    assert code == ExitCode.OK, printed.out + printed.err
    assert "# Disaster-recovery drill: dev" in printed.out and "Targets met." in printed.out
    report = json.loads((tmp_path / "drill.json").read_text())
    assert report["verified"] is True and report["environment"] == "dev"
    assert report["targets"] == {"rpo_seconds": 3600, "rto_seconds": 14400}
    kept = sorted(path.suffix for path in (tmp_path / "reports" / "drills").iterdir())
    assert kept == [".json", ".md"]
    assert drill_instances(dev) == []


def test_hp_dr_drill_exits_1_when_the_restore_does_not_verify(
    dev: Platform,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from health_platform.cli import main

    verify_task(dev, 1, "could not connect to the restored database")
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: dev.account)
    monkeypatch.setattr("health_platform.ops.tasks.POLL_SECONDS", 0)
    monkeypatch.setattr(
        "health_platform.cli.dr.drill_reports_dir", lambda: tmp_path / "reports" / "drills"
    )

    code = main(["dr", "drill", "dev"])

    assert code == ExitCode.FINDINGS
    assert "| verified | NO | yes |" in capsys.readouterr().out
