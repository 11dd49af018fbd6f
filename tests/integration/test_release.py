"""`hp release ENV` against moto: the order of operations, and every way it stops.

moto serves SSM, ECR, EC2, Logs, STS and most of ECS and CloudFormation; AWS's answers
stand in where moto cannot: a task that stops (RunTask/DescribeTasks), and a stack update
that re-reads its SSM parameters, rolls, fails or is cancelled."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from health_platform.cli import main
from health_platform.contract import BACKEND, FRONTEND, MIGRATION, SERVICES
from health_platform.errors import ExitCode, InvalidInputError, RefusedError
from health_platform.images import BUILD_INPUTS
from health_platform.infra import naming
from health_platform.ops.docker import Docker
from health_platform.ops.release import (
    ReleaseError,
    execute,
    plan_release,
    previous_release,
    read_history,
)
from health_platform.settings import load_environment
from tests.integration import deployed
from tests.integration.aws_answers import Account, FakeTime, answer, error, tasks_that_stop

NEW_TAG = "a1b2c3d4e5f6"
SERVICES_STACK = naming.stack_name(deployed.ENV, naming.SERVICES)


class RecordingDocker(Docker):
    """Docker as the release drives it, recorded in the account's timeline (no engine here)."""

    def __init__(self, account: Account) -> None:
        super().__init__("docker")
        self.account = account

    def available(self) -> bool:
        return True

    def login(self, registry: str, username: str, password: str) -> None:
        self.account.calls.append(("docker", "login", {"registry": registry, "user": username}))

    def build(self, dockerfile: Path, context: Path, image: str) -> None:
        self.account.calls.append(("docker", "build", {"image": image, "file": dockerfile}))

    def push(self, image: str) -> None:
        self.account.calls.append(("docker", "push", {"image": image}))


def stack_rolls(
    account: Account, statuses: list[str], events: Sequence[dict[str, Any]] = ()
) -> None:
    """The services stack's update as CloudFormation answers it: accepted, then `statuses`
    one describe after another (moto would say "No updates", as it does not re-read SSM)."""
    cloudformation = account("cloudformation", deployed.REGION)
    updating: dict[str, Any] = {"on": False, "step": 0, "status": "UPDATE_IN_PROGRESS"}

    def update(params: dict[str, Any]) -> dict[str, Any]:
        updating["on"] = True
        return {
            "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{SERVICES_STACK}/1"
        }

    def describe(params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("StackName") != SERVICES_STACK or not updating["on"]:
            return None
        status = statuses[min(updating["step"], len(statuses) - 1)]
        updating["step"] += 1
        updating["status"] = status
        if updating["step"] == len(statuses) and not status.endswith("IN_PROGRESS"):
            updating.update(on=False, step=0)  # done: moto describes it again (outputs)
        return {
            "Stacks": [
                {
                    "StackName": SERVICES_STACK,
                    "StackStatus": status,
                    "CreationTime": datetime.now(UTC) - timedelta(days=1),
                }
            ]
        }

    def stack_events(params: dict[str, Any]) -> dict[str, Any]:
        return {"StackEvents": list(events)}

    answer(cloudformation, "UpdateStack", update)
    answer(cloudformation, "DescribeStacks", describe)
    answer(cloudformation, "DescribeStackEvents", stack_events)

    def cancel(params: dict[str, Any]) -> dict[str, Any]:
        # CloudFormation cancels only an update in progress (CancelUpdateStack).
        if updating["status"] != "UPDATE_IN_PROGRESS":
            return error(
                "ValidationError",
                f"Stack:{SERVICES_STACK} is in {updating['status']} state and can not be updated.",
            )
        return {}

    answer(cloudformation, "CancelUpdateStack", cancel)


def release(account: Account, **options: Any) -> Any:
    settings = load_environment("dev")
    plan = plan_release(
        settings,
        account,
        services=options.pop("services", list(SERVICES)),
        image_tag=options.pop("image_tag", None),
        allow_dirty=True,
        rollback=options.pop("rollback", False),
    )
    steps: list[str] = []
    logs: list[str] = []
    time = FakeTime()  # every wait ends: a loop that would not is a failure, not a hang
    entry = execute(
        settings,
        account,
        plan,
        docker=RecordingDocker(account),
        on_step=steps.append,
        on_log=logs.append,
        timeout_s=options.pop("timeout_s", 600),
        rollout=options.pop("rollout", True),
        sleep=time.sleep,
        clock=time.clock,
    )
    return entry, plan, steps, logs


def tags(account: Account) -> dict[str, str]:
    ssm = account("ssm", deployed.REGION)
    return {
        s: ssm.get_parameter(Name=naming.release_parameter("dev", s))["Parameter"]["Value"]
        for s in SERVICES
    }


@pytest.fixture
def account(aws: None) -> Account:
    made = Account()
    deployed.deploy(made)
    return made


def test_a_release_builds_migrates_then_rolls_the_services_in_that_order(account: Account) -> None:
    tasks_that_stop(account("ecs", deployed.REGION), MIGRATION, exit_code=0)
    stack_rolls(
        account, ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
    )
    entry, plan, _, _ = release(account)
    tag = plan.tags[BACKEND]
    assert entry.outcome == "released" and entry.tags == plan.tags
    assert tags(account) == plan.tags

    timeline = [
        step
        for step in account.operations("docker", "ecs", "ssm", "cloudformation")
        if step
        in {
            "docker.login",
            "docker.build",
            "docker.push",
            "ecs.RegisterTaskDefinition",
            "ecs.RunTask",
            "ssm.PutParameter",
            "cloudformation.UpdateStack",
        }
    ]
    # The deployment's own calls (registering task definitions, writing the first tags)
    # come before the release starts.
    timeline = timeline[timeline.index("docker.login") :]
    assert timeline == [
        "docker.login",
        "docker.build",
        "docker.push",
        "docker.build",
        "docker.push",
        "ecs.RegisterTaskDefinition",  # the migration, with the new backend image
        "ecs.RunTask",
        "ssm.PutParameter",  # the release parameters…
        "ssm.PutParameter",
        "cloudformation.UpdateStack",  # …then the stack that reads them
        "ssm.PutParameter",  # the history
    ]
    migration = account.params_of("ecs", "RegisterTaskDefinition")[-1]
    assert migration["family"] == naming.task_family("dev", MIGRATION)
    (container,) = migration["containerDefinitions"]
    assert container["image"] == f"{plan.repositories[BACKEND]}:{tag}"
    assert container["readonlyRootFilesystem"] is True  # the rest of the definition kept
    assert migration["executionRoleArn"].endswith("role/execution")
    (update,) = account.params_of("cloudformation", "UpdateStack")
    assert update["UsePreviousTemplate"] is True
    assert update["Parameters"] == [
        {"ParameterKey": f"{s.capitalize()}ImageTag", "UsePreviousValue": True} for s in SERVICES
    ]
    pushed = [p["image"] for s, op, p in account.calls if (s, op) == ("docker", "push")]
    assert pushed == [f"{plan.repositories[s]}:{plan.tags[s]}" for s in SERVICES]


def test_the_docker_login_password_comes_from_ecr_and_goes_nowhere_else(account: Account) -> None:
    tasks_that_stop(account("ecs", deployed.REGION), MIGRATION, exit_code=0)
    stack_rolls(account, ["UPDATE_COMPLETE"])
    release(account)
    (login,) = [p for s, op, p in account.calls if (s, op) == ("docker", "login")]
    token = account("ecr", deployed.REGION).get_authorization_token()["authorizationData"][0]
    user, _ = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    assert login == {"registry": login["registry"], "user": user}
    assert login["registry"].endswith(".amazonaws.com")


def test_a_failed_migration_stops_the_release_and_leaves_the_services_untouched(
    account: Account,
) -> None:
    tasks_that_stop(account("ecs", deployed.REGION), MIGRATION, exit_code=1)
    stack_rolls(account, ["UPDATE_COMPLETE"])
    with pytest.raises(ReleaseError, match="The migrations failed") as failed:
        release(account)
    assert failed.value.exit_code == ExitCode.AWS_ERROR
    assert f"still run frontend {deployed.RUNNING_TAG}, backend" in str(failed.value)
    assert "cloudformation.UpdateStack" not in account.operations()
    assert tags(account) == dict.fromkeys(SERVICES, deployed.RUNNING_TAG)
    (latest, *_) = read_history(load_environment("dev"), account)
    assert latest.outcome == "failed"


def test_a_rollout_that_never_stabilises_times_out_restores_the_tags_and_says_why(
    account: Account,
) -> None:
    ecs = account("ecs", deployed.REGION)
    # A frontend task that died during the rollout: ECS keeps it listed as STOPPED.
    stopped_arn = "arn:aws:ecs:us-east-1:123456789012:task/health-platform-dev/0123456789abcdef"
    answer(
        ecs,
        "ListTasks",
        lambda params: {"taskArns": [stopped_arn] if params.get("serviceName") == FRONTEND else []},
    )
    described = {"n": 0}

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        described["n"] += 1
        return {
            "tasks": [
                {
                    "taskArn": stopped_arn,
                    "lastStatus": "STOPPED",
                    "stoppedReason": "Task failed container health checks",
                    "containers": [{"name": FRONTEND, "exitCode": 137}],
                }
            ],
            "failures": [],
        }

    answer(ecs, "DescribeTasks", describe)
    deployed.log(account, FRONTEND, stopped_arn, "host not found in upstream")
    _with_image(account, FRONTEND, NEW_TAG)
    stack_rolls(account, ["UPDATE_IN_PROGRESS"])
    with pytest.raises(ReleaseError, match="not stable after 60 s") as failed:
        release(
            account,
            services=[FRONTEND],
            image_tag=NEW_TAG,
            timeout_s=60,
        )
    assert failed.value.exit_code == ExitCode.TIMED_OUT
    assert "cloudformation.CancelUpdateStack" in account.operations()
    assert tags(account)[FRONTEND] == deployed.RUNNING_TAG  # put back
    diagnostics = "\n".join(failed.value.diagnostics)
    assert "Task failed container health checks" in diagnostics
    assert "exit 137" in diagnostics
    assert "host not found in upstream" in diagnostics


def _with_image(account: Account, service: str, tag: str) -> None:
    """An image already in ECR under `tag` (pushed elsewhere)."""
    account("ecr", deployed.REGION).put_image(
        repositoryName=naming.repository_name("dev", service),
        imageManifest=json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            }
        ),
        imageTag=tag,
    )


def test_a_rollout_that_cloudformation_rolls_back_names_the_failed_resource(
    account: Account,
) -> None:
    _with_image(account, FRONTEND, NEW_TAG)
    failure = {
        "EventId": "1",
        "StackName": SERVICES_STACK,
        "LogicalResourceId": "FrontendServiceA1B2C3",
        "ResourceType": "AWS::ECS::Service",
        "Timestamp": datetime.now(UTC) + timedelta(seconds=5),
        "ResourceStatus": "UPDATE_FAILED",
        "ResourceStatusReason": "ECS Deployment Circuit Breaker was triggered",
    }
    stack_rolls(account, ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"], [failure])
    with pytest.raises(ReleaseError, match="CloudFormation rolled back") as failed:
        release(account, services=[FRONTEND], image_tag=NEW_TAG)
    assert any("Circuit Breaker" in line for line in failed.value.diagnostics)
    assert tags(account)[FRONTEND] == deployed.RUNNING_TAG


def test_releasing_an_image_tag_that_is_not_in_ecr_is_one_sentence(account: Account) -> None:
    before = len(account.calls)
    with pytest.raises(InvalidInputError, match="has no image tagged nope"):
        release(account, services=[FRONTEND], image_tag="nope")
    assert "ssm.PutParameter" not in account.operations()[before:]


def test_rollback_returns_to_the_previous_tags_without_migrations(account: Account) -> None:
    for service in SERVICES:
        for tag in (deployed.RUNNING_TAG, NEW_TAG):
            _with_image(account, service, tag)
    stack_rolls(account, ["UPDATE_COMPLETE"])
    tasks_that_stop(account("ecs", deployed.REGION), MIGRATION, exit_code=0)
    release(account, image_tag=deployed.RUNNING_TAG)  # what ran first
    release(account, image_tag=NEW_TAG)
    assert tags(account) == dict.fromkeys(SERVICES, NEW_TAG)
    runs_before = len(account.params_of("ecs", "RunTask"))

    entry, plan, _, _ = release(account, rollback=True)
    assert entry.outcome == "rolled back"
    assert tags(account) == dict.fromkeys(SERVICES, deployed.RUNNING_TAG)
    assert len(account.params_of("ecs", "RunTask")) == runs_before  # no migration
    assert any("does not reverse database migrations" in s for s in plan.steps)
    history = read_history(load_environment("dev"), account)
    assert [h.outcome for h in history] == ["rolled back", "released", "released"]
    # A second rollback goes further back, not forth: here there is nothing before.
    with pytest.raises(RefusedError, match="no earlier release"):
        previous_release(load_environment("dev"), account)


def test_rollback_with_no_previous_release_is_refused(account: Account) -> None:
    with pytest.raises(RefusedError, match="no release history"):
        previous_release(load_environment("dev"), account)
    _with_image(account, FRONTEND, NEW_TAG)
    stack_rolls(account, ["UPDATE_COMPLETE"])
    release(account, services=[FRONTEND], image_tag=NEW_TAG)
    with pytest.raises(RefusedError, match="no earlier release"):
        previous_release(load_environment("dev"), account)


def test_hp_release_rollback_without_history_exits_6(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: account)
    assert main(["release", "dev", "--rollback"]) == ExitCode.REFUSED
    assert "no release history" in capsys.readouterr().err


def test_the_first_release_pushes_and_sets_the_tags_and_names_the_next_commands(
    aws: None,
) -> None:
    account = Account()
    deployed.deploy(account, services_stack=False)
    entry, _, steps, _ = release(account)
    assert tags(account) == entry.tags
    assert "ecs.RunTask" not in account.operations()
    assert "`hp infra apply dev`, then `hp db migrate dev`" in steps[-1]


def test_a_release_without_rollout_migrates_and_sets_the_tags_but_leaves_the_services(
    account: Account,
) -> None:
    tasks_that_stop(account("ecs", deployed.REGION), MIGRATION, exit_code=0)
    entry, _, steps, _ = release(account, rollout=False)
    assert tags(account) == entry.tags
    assert "ecs.RunTask" in account.operations()  # the migrations ran
    assert "cloudformation.UpdateStack" not in account.operations()
    assert "until `hp infra apply dev` deploys them" in steps[-1]


def _git(repo: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *arguments],
        check=True,
        capture_output=True,
    )


def _head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout[:12]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A repository holding each image's inputs, all committed once."""
    for service in SERVICES:
        for path in BUILD_INPUTS[service]:
            file = tmp_path / path / "x.txt" if "." not in Path(path).name else tmp_path / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text("first")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_each_image_is_tagged_with_the_last_commit_that_changed_its_own_files(
    account: Account, checkout: Path
) -> None:
    first = _head(checkout)
    (checkout / "frontend" / "x.txt").write_text("second")
    (checkout / "infra.txt").write_text("neither image's")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-q", "-m", "frontend only")
    plan = plan_release(
        load_environment("dev"),
        account,
        services=list(SERVICES),
        image_tag=None,
        allow_dirty=False,
        repo=checkout,
    )
    assert plan.tags == {FRONTEND: _head(checkout), BACKEND: first}


def test_an_image_in_ecr_already_is_not_rebuilt_and_an_unchanged_backend_is_not_migrated(
    account: Account, checkout: Path
) -> None:
    settings = load_environment("dev")
    tag = _head(checkout)
    account("ssm", deployed.REGION).put_parameter(
        Name=naming.release_parameter("dev", BACKEND), Value=tag, Type="String", Overwrite=True
    )
    _with_image(account, BACKEND, tag)
    stack_rolls(account, ["UPDATE_COMPLETE"])
    plan = plan_release(
        settings, account, services=list(SERVICES), image_tag=None, allow_dirty=False, repo=checkout
    )
    assert plan.in_registry == (BACKEND,) and not plan.migrates
    assert any("not rebuilt" in step for step in plan.steps)
    execute(
        settings,
        account,
        plan,
        docker=RecordingDocker(account),
        on_step=print,
        on_log=print,
        timeout_s=60,
        sleep=lambda _: None,
    )
    built = [p["image"] for s, op, p in account.calls if (s, op) == ("docker", "build")]
    assert built == [f"{plan.repositories[FRONTEND]}:{tag}"]
    assert "ecs.RunTask" not in account.operations()


def test_uncommitted_changes_to_an_image_are_refused_unless_allowed(
    account: Account, checkout: Path
) -> None:
    (checkout / "frontend" / "x.txt").write_text("uncommitted")
    (checkout / "elsewhere.txt").write_text("not an image's: no matter")
    settings = load_environment("dev")
    common = {"services": list(SERVICES), "image_tag": None, "repo": checkout}
    with pytest.raises(RefusedError, match="frontend image's files have uncommitted changes"):
        plan_release(settings, account, allow_dirty=False, **common)
    planned = plan_release(settings, account, allow_dirty=False, planning=True, **common)
    assert planned.notes == ("frontend: uncommitted changes; releasing needs a commit",)
    allowed = plan_release(settings, account, allow_dirty=True, **common)
    assert "-dirty-" in allowed.tags[FRONTEND]
    assert allowed.tags[BACKEND] == _head(checkout)  # its files are committed


def test_the_plan_without_credentials_prints_what_it_can_and_exits_4(
    no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["release", "dev", "--plan", "--image-tag", NEW_TAG]) == ExitCode.NO_CREDENTIALS
    captured = capsys.readouterr()
    assert "Release plan for dev" in captured.out
    assert f"/health-platform/dev/release/backend: (unknown) → {NEW_TAG}" in captured.out
    assert "run the migrations with the new backend image" in captured.out
    assert "No AWS credentials" in captured.err


def test_the_plan_changes_nothing(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: account)
    before = len(account.calls)
    assert main(["release", "dev", "--plan", "--image-tag", NEW_TAG]) == ExitCode.OK
    made = {op for _, op, _ in account.calls[before:]}
    assert made <= {"GetParameters", "DescribeStacks", "DescribeImages"}  # reads only
    assert f"{deployed.RUNNING_TAG} → {NEW_TAG}" in capsys.readouterr().out


def test_throttling_is_retried_by_the_clients_hp_makes(aws: None) -> None:
    from botocore.awsrequest import AWSResponse

    from health_platform.ops.aws import boto_clients

    ssm = boto_clients()("ssm", deployed.REGION)
    throttled = {"left": 2}

    def throttle(**_: Any) -> AWSResponse | None:
        if throttled["left"]:
            throttled["left"] -= 1
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse("https://ssm.invalid", 400, {}, _Raw(body))
        return None

    ssm.meta.events.register_first("before-send.ssm.DescribeParameters", throttle)
    assert ssm.describe_parameters()["Parameters"] == []
    assert throttled["left"] == 0


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def test_a_timeout_during_cloudformations_own_rollback_cancels_nothing_and_restores_the_tags(
    account: Account,
) -> None:
    _with_image(account, FRONTEND, NEW_TAG)
    # The circuit breaker fired: CloudFormation is rolling back when the wait runs out.
    stack_rolls(account, ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"])
    with pytest.raises(
        ReleaseError, match="UPDATE_ROLLBACK_IN_PROGRESS and finishes by itself"
    ) as failed:
        release(
            account,
            services=[FRONTEND],
            image_tag=NEW_TAG,
            timeout_s=15,
        )
    assert failed.value.exit_code == ExitCode.TIMED_OUT
    assert "cloudformation.CancelUpdateStack" not in account.operations()
    assert tags(account)[FRONTEND] == deployed.RUNNING_TAG


def test_aws_refusing_mid_rollout_still_restores_the_tags_and_records_the_failure(
    account: Account,
) -> None:
    _with_image(account, FRONTEND, NEW_TAG)
    stack_rolls(account, ["UPDATE_IN_PROGRESS"])
    answer(
        account("cloudformation", deployed.REGION),
        "DescribeStackEvents",
        lambda params: error("AccessDenied", "not allowed to read stack events"),
    )
    with pytest.raises(ReleaseError, match="AccessDenied") as failed:
        release(account, services=[FRONTEND], image_tag=NEW_TAG)
    assert failed.value.exit_code == ExitCode.AWS_ERROR
    assert tags(account)[FRONTEND] == deployed.RUNNING_TAG
    assert read_history(load_environment("dev"), account)[0].outcome == "failed"


def test_the_history_records_every_services_tags_so_a_rollback_restores_a_whole_state(
    account: Account,
) -> None:
    for service in SERVICES:
        for tag in (deployed.RUNNING_TAG, NEW_TAG, "b2b2b2b2b2b2"):
            _with_image(account, service, tag)
    stack_rolls(account, ["UPDATE_COMPLETE"])
    tasks_that_stop(account("ecs", deployed.REGION), MIGRATION, exit_code=0)
    release(account, image_tag=deployed.RUNNING_TAG)  # both services: R
    release(account, services=[BACKEND], image_tag="b2b2b2b2b2b2")  # backend only
    release(account, services=[FRONTEND], image_tag=NEW_TAG)  # frontend only
    history = read_history(load_environment("dev"), account)
    assert history[0].tags == {FRONTEND: NEW_TAG, BACKEND: "b2b2b2b2b2b2"}
    _, plan, _, _ = release(account, rollback=True)
    assert plan.tags == {FRONTEND: deployed.RUNNING_TAG, BACKEND: "b2b2b2b2b2b2"}
    assert tags(account) == plan.tags
