"""`hp wake` and the guard of work that needs the database, against moto: dev's database
stopped outside office hours is started and its services given their range; a migration
or a data-stack deployment meanwhile is one sentence naming `hp wake`."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber

from health_platform.cli import main
from health_platform.errors import ExitCode, RefusedError, TimedOutError
from health_platform.ops.aws import boto_clients
from health_platform.ops.office_hours import database_status, require_awake, wake
from health_platform.ops.status import environment_status
from health_platform.settings import load_environment

REGION = "us-east-1"
DATABASE = "health-platform-dev-db"


def _dev_database(*, stopped: bool) -> None:
    """Dev's database (stopped, as at night) and its two services (as the stacks leave them)."""
    ecs = boto3.client("ecs", REGION)
    ecs.create_cluster(clusterName="health-platform-dev")
    for service in ("frontend", "backend"):
        ecs.register_task_definition(
            family=f"health-platform-dev-{service}",
            containerDefinitions=[{"name": service, "image": f"{service}:1", "memory": 512}],
        )
        ecs.create_service(
            cluster="health-platform-dev",
            serviceName=service,
            taskDefinition=f"health-platform-dev-{service}",
            desiredCount=0,
        )
    rds = boto3.client("rds", REGION)
    rds.create_db_instance(
        DBInstanceIdentifier=DATABASE,
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="hp_admin",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
    )
    if stopped:
        rds.stop_db_instance(DBInstanceIdentifier=DATABASE)


@pytest.mark.usefixtures("aws")
def test_wake_starts_the_database_and_gives_the_services_their_range() -> None:
    dev = load_environment("dev")
    _dev_database(stopped=True)
    clients = boto_clients()
    assert database_status(dev, clients) == "stopped"
    said: list[str] = []
    woken = wake(dev, clients, timeout_s=60, on_progress=said.append, poll_seconds=1)
    assert woken.database_was == "stopped"
    assert database_status(dev, clients) == "available"
    assert any(line.startswith(f"Starting {DATABASE}") for line in said)
    targets = boto3.client("application-autoscaling", REGION).describe_scalable_targets(
        ServiceNamespace="ecs"
    )["ScalableTargets"]
    ranges = {t["ResourceId"]: (t["MinCapacity"], t["MaxCapacity"]) for t in targets}
    expected = (dev.ecs.min_tasks, dev.ecs.max_tasks)
    assert ranges == {
        "service/health-platform-dev/frontend": expected,
        "service/health-platform-dev/backend": expected,
    }
    assert woken.tasks == {"frontend": expected, "backend": expected}


@pytest.mark.usefixtures("aws")
def test_an_awake_database_is_left_as_it_is() -> None:
    dev = load_environment("dev")
    _dev_database(stopped=False)
    woken = wake(dev, boto_clients(), timeout_s=60, poll_seconds=1)
    assert woken.database_was == "available"
    require_awake(dev, boto_clients(), "migrate its schema")  # no refusal


@pytest.mark.usefixtures("aws")
def test_work_that_needs_the_database_is_refused_while_it_sleeps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dev = load_environment("dev")
    _dev_database(stopped=True)
    with pytest.raises(RefusedError) as refused:
        require_awake(dev, boto_clients(), "migrate its schema")
    assert "hp wake dev" in str(refused.value)
    assert main(["db", "migrate", "dev"]) == ExitCode.REFUSED
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said == (
        "error: dev is asleep outside its office hours (MON-FRI 07:00-19:00 America/New_York):"
        " its database is stopped, so it cannot migrate its schema; run `hp wake dev` first (it"
        " waits until the database is available)."
    )


@pytest.mark.usefixtures("aws")
def test_an_environment_without_office_hours_is_never_asleep(
    capsys: pytest.CaptureFixture[str],
) -> None:
    staging = load_environment("staging")
    require_awake(staging, boto_clients(), "migrate its schema")  # no call, no refusal
    assert main(["wake", "staging"]) == ExitCode.REFUSED
    assert capsys.readouterr().err.strip() == (
        "error: staging has no office hours; it never sleeps."
    )


@pytest.mark.usefixtures("aws")
def test_status_counts_a_database_asleep_outside_its_hours_as_healthy() -> None:
    dev = load_environment("dev")
    _dev_database(stopped=True)
    saturday = dt.datetime(2026, 12, 5, 17, 0, tzinfo=dt.UTC)
    monday = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)  # noon in New York
    (night, *_) = environment_status(dev, boto_clients(), now=saturday).data
    (day, *_) = environment_status(dev, boto_clients(), now=monday).data
    assert (night.status, night.asleep, night.healthy) == ("stopped", True, True)
    assert (day.status, day.asleep, day.healthy) == ("stopped", False, False)


def _described(status: str) -> dict[str, object]:
    return {"DBInstances": [{"DBInstanceIdentifier": DATABASE, "DBInstanceStatus": status}]}


@pytest.mark.usefixtures("aws")
def test_wake_waits_for_a_stop_under_way_before_starting() -> None:
    """Just after the evening stop: RDS refuses to start an instance that is stopping, and
    boto3 has no waiter for "stopped"."""
    dev = load_environment("dev")
    rds = boto3.client("rds", REGION)
    scaling = boto3.client("application-autoscaling", REGION)
    with Stubber(rds) as database, Stubber(scaling) as services:
        asked = {"DBInstanceIdentifier": DATABASE}
        for status in ("stopping", "stopping", "stopped"):
            database.add_response("describe_db_instances", _described(status), asked)
        database.add_response(
            "start_db_instance", {"DBInstance": {"DBInstanceStatus": "starting"}}, asked
        )
        for status in ("starting", "available"):
            database.add_response("describe_db_instances", _described(status), asked)
        for _ in range(2):
            services.add_response("register_scalable_target", {})
        said: list[str] = []
        woken = wake(
            dev,
            lambda service, _: rds if service == "rds" else scaling,
            timeout_s=60,
            on_progress=said.append,
            poll_seconds=0,
            sleep=lambda _: None,
        )
        database.assert_no_pending_responses()
    assert woken.database_was == "stopping"
    assert said[0] == f"{DATABASE} is stopping; waiting for it to stop before starting it"


@pytest.mark.usefixtures("aws")
def test_wake_gives_up_after_its_timeout_with_one_sentence() -> None:
    dev = load_environment("dev")
    rds = boto3.client("rds", REGION)
    moments = iter([0.0, 30.0, 61.0])
    with Stubber(rds) as database:
        for _ in range(3):
            database.add_response("describe_db_instances", _described("stopping"))
        with pytest.raises(TimedOutError) as late:
            wake(
                dev,
                lambda *_: rds,
                timeout_s=60,
                poll_seconds=0,
                sleep=lambda _: None,
                clock=lambda: next(moments),
            )
    assert str(late.value) == (
        f"{DATABASE} was stopping, not stopped, after 60 s; run `hp wake dev` again to keep"
        " waiting."
    )


@pytest.mark.usefixtures("aws")
def test_a_database_still_starting_is_not_ready_for_changes() -> None:
    dev = load_environment("dev")
    rds = boto3.client("rds", REGION)
    with Stubber(rds) as database:
        database.add_response("describe_db_instances", _described("starting"))
        with pytest.raises(RefusedError) as refused:
            require_awake(dev, lambda *_: rds, "migrate its schema")
    assert str(refused.value).startswith("dev is waking up outside its office hours")
