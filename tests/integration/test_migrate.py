"""`hp db migrate ENV` and the one-off task runner against moto, with ECS's answers for a
task that stops (moto's never do)."""

from __future__ import annotations

import pytest

from health_platform.cli import main
from health_platform.contract import MIGRATION
from health_platform.errors import ExitCode, TimedOutError
from health_platform.ops.tasks import run_migration
from health_platform.settings import load_environment
from tests.integration import deployed
from tests.integration.aws_answers import Account, FakeTime, tasks_that_stop

pytestmark = pytest.mark.usefixtures("aws")


def test_the_migration_runs_in_the_private_subnets_and_streams_its_log() -> None:
    account = Account()
    deployment = deployed.deploy(account)
    tasks_that_stop(
        account("ecs", deployed.REGION),
        MIGRATION,
        exit_code=0,
        polls=2,
        started=lambda arn: deployed.log(
            account, MIGRATION, arn, "Running upgrade 0003 -> 0004", "schema at head"
        ),
    )
    seen: list[str] = []
    run = run_migration(
        load_environment("dev"), account, on_log=seen.append, timeout_s=60, sleep=lambda _: None
    )
    assert run.exit_code == 0
    assert seen == ["Running upgrade 0003 -> 0004", "schema at head"]  # each line once
    (started,) = account.params_of("ecs", "RunTask")
    assert started["taskDefinition"] == deployment.migration_task_definition
    assert started["launchType"] == "FARGATE"
    network = started["networkConfiguration"]["awsvpcConfiguration"]
    assert network == {
        "subnets": deployment.subnets,
        "securityGroups": [deployment.migration_group, deployment.clients_group],
        "assignPublicIp": "DISABLED",
    }
    assert started["overrides"] == {}  # the task definition's own command: no overrides


def test_hp_db_migrate_exits_with_the_tasks_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = Account()
    deployed.deploy(account)
    tasks_that_stop(
        account("ecs", deployed.REGION),
        MIGRATION,
        exit_code=3,
        started=lambda arn: deployed.log(account, MIGRATION, arn, "relation already exists"),
    )
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: account)
    monkeypatch.setattr("health_platform.ops.tasks.POLL_SECONDS", 0)
    assert main(["db", "migrate", "dev"]) == 3
    captured = capsys.readouterr()
    assert "relation already exists" in captured.out
    assert "The migration failed" in captured.err and "exit 3" in captured.err


def test_a_task_that_never_ran_is_a_failure_with_its_reason() -> None:
    account = Account()
    deployed.deploy(account)
    tasks_that_stop(
        account("ecs", deployed.REGION),
        MIGRATION,
        exit_code=None,
        reason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
    )
    run = run_migration(
        load_environment("dev"), account, on_log=print, timeout_s=60, sleep=lambda _: None
    )
    assert run.exit_code is None
    assert "CannotPullContainerError" in run.summary
    assert "no exit code" in run.summary


def test_a_migration_past_its_timeout_is_stopped_and_exits_8() -> None:
    account = Account()
    deployed.deploy(account)
    tasks_that_stop(account("ecs", deployed.REGION), MIGRATION, exit_code=0, polls=1000)
    time = FakeTime()
    with pytest.raises(TimedOutError, match="did not finish in 30 s") as timed_out:
        run_migration(
            load_environment("dev"),
            account,
            on_log=print,
            timeout_s=30,
            sleep=time.sleep,
            clock=time.clock,
        )
    assert timed_out.value.exit_code == ExitCode.TIMED_OUT
    (stopped,) = account.params_of("ecs", "StopTask")
    assert stopped["reason"] == "hp: timed out after 30 s"


def test_migrate_before_the_services_stack_exists_names_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = Account()
    deployed.deploy(account, services_stack=False)
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: account)
    assert main(["db", "migrate", "dev"]) == ExitCode.AWS_ERROR
    assert "health-platform-dev-services is not deployed" in capsys.readouterr().err


def test_a_services_stack_without_outputs_is_one_sentence_with_its_state(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = Account()
    deployed.deploy(account, services_stack=False)
    # A first services deployment that rolled back: the stack is there, without outputs.
    account("cloudformation", deployed.REGION).create_stack(
        StackName="health-platform-dev-services",
        TemplateBody='{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}',
    )
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: account)
    assert main(["db", "migrate", "dev"]) == ExitCode.AWS_ERROR
    err = capsys.readouterr().err
    assert "health-platform-dev-services has no output MigrationTaskDefinitionArn" in err
    assert "hp infra apply dev" in err and "Traceback" not in err
