"""`hp backup` against moto's RDS; what moto cannot show (a snapshot that takes time, AWS
Backup's recovery points, several pages) is answered by botocore's Stubber on RDS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from health_platform.errors import AwsError, ExitCode, RefusedError, TimedOutError
from health_platform.ops.backup import create_snapshot, list_snapshots, snapshot_identifier
from health_platform.settings import load_environment
from tests.integration.aws_answers import FakeTime

REGION = "us-east-1"
DATABASE = "health-platform-dev-db"
AT = datetime(2026, 3, 1, 9, 30, 5, tzinfo=UTC)


def create_database(identifier: str = DATABASE) -> None:
    boto3.client("rds", REGION).create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="hp_admin",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,  # moto then takes an automated snapshot at once
        StorageEncrypted=True,
    )


def moto_clients(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)


def described(
    identifier: str, kind: str, status: str, created: datetime | None = None
) -> dict[str, Any]:
    snapshot: dict[str, Any] = {
        "DBSnapshotIdentifier": identifier,
        "DBInstanceIdentifier": DATABASE,
        "Engine": "postgres",
        "AllocatedStorage": 50,
        "Status": status,
        "SnapshotType": kind,
        "Encrypted": True,
        "DBSnapshotArn": f"arn:aws:rds:us-east-1:111111111111:snapshot:{identifier}",
    }
    if created is not None:
        snapshot["SnapshotCreateTime"] = created
    return snapshot


def stubbed_rds() -> tuple[Any, Stubber]:
    rds = boto3.client(
        "rds",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - not a secret
    )
    return rds, Stubber(rds)


def test_the_identifier_is_the_database_and_the_utc_time() -> None:
    berlin = timezone(timedelta(hours=1))
    assert snapshot_identifier("dev", datetime(2026, 3, 1, 10, 30, 5, tzinfo=berlin)) == (
        "health-platform-dev-db-manual-20260301093005"
    )


@pytest.mark.usefixtures("aws")
def test_a_manual_snapshot_is_named_tagged_and_returned() -> None:
    create_database()
    fake = FakeTime()

    snapshot = create_snapshot(
        load_environment("dev"), moto_clients, now=lambda: AT, sleep=fake.sleep
    )

    assert snapshot.identifier == "health-platform-dev-db-manual-20260301093005"
    assert (snapshot.kind, snapshot.size_gb, snapshot.encrypted) == ("manual", 20, True)
    rds = boto3.client("rds", REGION)
    (stored,) = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot.identifier)["DBSnapshots"]
    assert stored["DBInstanceIdentifier"] == DATABASE
    tags = rds.list_tags_for_resource(ResourceName=stored["DBSnapshotArn"])["TagList"]
    assert {"Key": "created-by", "Value": "hp"} in tags
    assert fake.slept == []


def test_waiting_polls_until_the_snapshot_is_available() -> None:
    rds, stubber = stubbed_rds()
    identifier = "health-platform-dev-db-manual-20260301093005"
    stubber.add_response(
        "create_db_snapshot",
        {"DBSnapshot": described(identifier, "manual", "creating")},
        {
            "DBInstanceIdentifier": DATABASE,
            "DBSnapshotIdentifier": identifier,
            "Tags": [{"Key": "created-by", "Value": "hp"}],
        },
    )
    for status in ("creating", "available"):
        stubber.add_response(
            "describe_db_snapshots",
            {"DBSnapshots": [described(identifier, "manual", status, AT)]},
            {"DBSnapshotIdentifier": identifier},
        )
    fake = FakeTime()

    with stubber:
        snapshot = create_snapshot(
            load_environment("dev"),
            lambda service, region: rds,
            wait=True,
            now=lambda: AT,
            sleep=fake.sleep,
            clock=fake.clock,
            interval=20.0,
        )
        stubber.assert_no_pending_responses()

    assert (snapshot.status, snapshot.created) == ("available", AT)
    assert fake.slept == [20.0, 20.0]


def test_waiting_is_bounded_and_says_the_snapshot_goes_on() -> None:
    rds, stubber = stubbed_rds()
    identifier = "health-platform-dev-db-manual-20260301093005"
    stubber.add_response(
        "create_db_snapshot", {"DBSnapshot": described(identifier, "manual", "creating")}
    )
    for _ in range(3):  # at 20, 40 and 60 s
        stubber.add_response(
            "describe_db_snapshots", {"DBSnapshots": [described(identifier, "manual", "creating")]}
        )
    fake = FakeTime()

    with stubber, pytest.raises(TimedOutError) as slow:
        create_snapshot(
            load_environment("dev"),
            lambda service, region: rds,
            wait=True,
            now=lambda: AT,
            sleep=fake.sleep,
            clock=fake.clock,
            timeout=60.0,
            interval=20.0,
        )

    assert str(slow.value) == (
        f"{identifier} is still creating after 60 s; RDS keeps taking it"
        " (`hp backup dev --list` shows when it is available)."
    )
    assert sum(fake.slept) == 60.0


@pytest.mark.usefixtures("aws")
def test_the_list_is_this_databases_snapshots_newest_first() -> None:
    create_database()
    create_database("health-platform-staging-db")  # another environment's: not listed
    settings = load_environment("dev")
    older = create_snapshot(settings, moto_clients, now=lambda: AT)
    newer = create_snapshot(settings, moto_clients, now=lambda: AT + timedelta(hours=1))

    listed = list_snapshots(settings, moto_clients)

    assert [(s.identifier, s.kind) for s in listed[:2]] == [
        (newer.identifier, "manual"),
        (older.identifier, "manual"),
    ]
    (automated,) = listed[2:]
    assert automated.kind == "automated" and automated.identifier.startswith(f"rds:{DATABASE}-")
    assert all(s.status == "available" and s.encrypted and s.size_gb == 20 for s in listed)
    times = [s.created for s in listed if s.created is not None]
    assert len(times) == 3 and times == sorted(times, reverse=True)


def test_the_list_has_every_page_and_aws_backups_recovery_points() -> None:
    rds, stubber = stubbed_rds()
    stubber.add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceIdentifier": DATABASE, "DBInstanceStatus": "available"}]},
        {"DBInstanceIdentifier": DATABASE},
    )
    day = timedelta(days=1)
    stubber.add_response(
        "describe_db_snapshots",
        {
            "DBSnapshots": [
                described(f"rds:{DATABASE}-2026-02-28-03-10", "automated", "available", AT - day)
            ],
            "Marker": "page-2",
        },
        {"DBInstanceIdentifier": DATABASE},
    )
    stubber.add_response(
        "describe_db_snapshots",
        {"DBSnapshots": [described(f"{DATABASE}-manual-20260301093005", "manual", "creating")]},
        {"DBInstanceIdentifier": DATABASE, "Marker": "page-2"},
    )
    recovery_point = "awsbackup:job-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    stubber.add_response(
        "describe_db_snapshots",
        {"DBSnapshots": [described(recovery_point, "awsbackup", "available", AT - 2 * day)]},
        {"DBInstanceIdentifier": DATABASE, "SnapshotType": "awsbackup"},
    )

    with stubber:
        listed = list_snapshots(load_environment("dev"), lambda service, region: rds)
        stubber.assert_no_pending_responses()

    assert [(s.kind, s.status) for s in listed] == [
        ("manual", "creating"),  # being taken, so the newest
        ("automated", "available"),
        ("awsbackup", "available"),
    ]
    assert listed[2].identifier == recovery_point and listed[2].size_gb == 50


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("operation", [create_snapshot, list_snapshots])
def test_a_database_not_deployed_is_one_sentence(operation: Any) -> None:
    with pytest.raises(AwsError) as missing:
        operation(load_environment("dev"), moto_clients)
    assert str(missing.value) == (
        "health-platform-dev-db does not exist in us-east-1; deploy it with `hp infra apply dev`."
    )
    assert missing.value.exit_code == ExitCode.AWS_ERROR


def test_a_busy_database_is_one_sentence_naming_its_state() -> None:
    rds, stubber = stubbed_rds()
    stubber.add_client_error(
        "create_db_snapshot",
        service_error_code="InvalidDBInstanceState",
        service_message="Cannot create a snapshot because the database instance"
        f" {DATABASE} is not currently in the available state.",
        http_status_code=400,
    )
    stubber.add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceIdentifier": DATABASE, "DBInstanceStatus": "modifying"}]},
        {"DBInstanceIdentifier": DATABASE},
    )
    with stubber, pytest.raises(RefusedError) as busy:
        create_snapshot(load_environment("dev"), lambda service, region: rds, now=lambda: AT)
    assert str(busy.value).startswith(f"{DATABASE} is busy (modifying)")
    assert busy.value.exit_code == ExitCode.REFUSED
