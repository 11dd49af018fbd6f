"""One-off Fargate tasks: the migration (`hp db migrate`, `hp release`) and the creation of
an administrator (`hp users create-admin`). A task runs in the private subnets with the
groups the database admits, its log is streamed while it runs, and its container's exit
code is the result. A task that outlives its timeout is stopped, not left running."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from health_platform.contract import MIGRATION
from health_platform.errors import AwsError, TimedOutError
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code, stack_outputs
from health_platform.ops.office_hours import require_awake
from health_platform.settings import EnvironmentSettings

POLL_SECONDS = 5.0
OnLog = Callable[[str], None]


@dataclass(frozen=True)
class TaskNetwork:
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]


@dataclass(frozen=True)
class TaskRun:
    task_arn: str
    exit_code: int | None  # None: the container never ran or never said
    stopped_reason: str  # ECS's, e.g. "Essential container in task exited"
    container_reason: str  # e.g. "CannotPullContainerError: …"

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]

    @property
    def summary(self) -> str:
        said = "; ".join(filter(None, (self.stopped_reason, self.container_reason)))
        code = "no exit code" if self.exit_code is None else f"exit {self.exit_code}"
        return f"task {self.task_id}, {code}" + (f": {said}" if said else "")


def task_network(settings: EnvironmentSettings, clients: ClientFactory) -> TaskNetwork:
    """Where one-off tasks run: the private subnets, in the migration's own group and the
    data clients' group (the only one the database and the cache admit)."""
    env, region = settings.name, settings.region
    with aws_errors(f"read {env}'s stack outputs"):
        network = stack_outputs(clients, env, naming.NETWORK, region)
        data = stack_outputs(clients, env, naming.DATA, region)
        services = stack_outputs(clients, env, naming.SERVICES, region)
    return TaskNetwork(
        subnets=tuple(network[naming.Output.PRIVATE_SUBNETS].split(",")),
        security_groups=(
            services[naming.Output.MIGRATION_GROUP],
            data[naming.Output.DATA_CLIENTS_GROUP],
        ),
    )


def migration_task_definition(settings: EnvironmentSettings, clients: ClientFactory) -> str:
    with aws_errors(f"read {settings.name}'s services stack"):
        outputs = stack_outputs(clients, settings.name, naming.SERVICES, settings.region)
    return outputs[naming.Output.MIGRATION_TASK_DEFINITION]


def run_migration(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    *,
    on_log: OnLog,
    timeout_s: float,
    task_definition: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TaskRun:
    """The migration task (the stack's, or `task_definition`: a release's new image)."""
    require_awake(settings, clients, "migrate its schema")
    return run_task(
        settings,
        clients,
        task_definition=task_definition or migration_task_definition(settings, clients),
        container=MIGRATION,
        network=task_network(settings, clients),
        on_log=on_log,
        timeout_s=timeout_s,
        sleep=sleep,
        clock=clock,
    )


def run_task(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    *,
    task_definition: str,
    container: str,
    network: TaskNetwork,
    on_log: OnLog,
    timeout_s: float,
    command: Sequence[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TaskRun:
    """Run `container` of `task_definition` once (with `command` instead of its own, which
    must hold no secret: overrides are visible to anyone who may describe the task)."""
    env, region = settings.name, settings.region
    ecs = clients("ecs", region)
    cluster = naming.cluster_name(env)
    overrides: dict[str, Any] = {}
    if command is not None:
        overrides = {"containerOverrides": [{"name": container, "command": list(command)}]}
    with aws_errors(f"start a {container} task in {env}"):
        started = ecs.run_task(
            cluster=cluster,
            taskDefinition=task_definition,
            launchType="FARGATE",
            count=1,
            startedBy="hp",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": list(network.subnets),
                    "securityGroups": list(network.security_groups),
                    "assignPublicIp": "DISABLED",
                }
            },
            overrides=overrides,
        )
    if started.get("failures") or not started.get("tasks"):
        reasons = "; ".join(
            f"{f.get('reason', '')} {f.get('detail', '')}".strip() for f in started["failures"]
        )
        raise AwsError(f"ECS did not start the {container} task: {reasons or 'no reason given'}.")
    task_arn = started["tasks"][0]["taskArn"]
    log = _LogStream(
        clients("logs", region),
        naming.task_log_group(env, container),
        naming.task_log_stream(container, task_arn.rsplit("/", 1)[-1]),
    )
    deadline = clock() + timeout_s
    while True:
        with aws_errors(f"follow the {container} task"):
            (task,) = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
            for line in log.new_lines():
                on_log(line)
        if task["lastStatus"] == "STOPPED":
            with aws_errors(f"read the {container} task's log"):
                for line in log.new_lines():  # what it wrote as it stopped
                    on_log(line)
            return _result(task, container)
        if clock() >= deadline:
            with aws_errors(f"stop the {container} task"):
                ecs.stop_task(
                    cluster=cluster, task=task_arn, reason=f"hp: timed out after {timeout_s:.0f} s"
                )
            raise TimedOutError(
                f"The {container} task {task_arn.rsplit('/', 1)[-1]} did not finish in"
                f" {timeout_s:.0f} s (last status {task['lastStatus']}); it has been stopped."
            )
        sleep(POLL_SECONDS)


def _result(task: dict[str, Any], container: str) -> TaskRun:
    ran: dict[str, Any] = next(
        (c for c in task.get("containers", []) if c.get("name") == container), {}
    )
    return TaskRun(
        task_arn=task["taskArn"],
        exit_code=ran.get("exitCode"),
        stopped_reason=task.get("stoppedReason", ""),
        container_reason=ran.get("reason", ""),
    )


class _LogStream:
    """The lines of one task's log stream not yet seen (the stream appears only once the
    container has started)."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self._logs, self._group, self._stream = logs, group, stream
        self._token: str | None = None

    def new_lines(self) -> list[str]:
        lines: list[str] = []
        while True:
            request: dict[str, Any] = {
                "logGroupName": self._group,
                "logStreamName": self._stream,
                "startFromHead": True,
            }
            if self._token:
                request["nextToken"] = self._token
            try:
                page = self._logs.get_log_events(**request)
            except ClientError as missing:
                if error_code(missing) == "ResourceNotFoundException":
                    return lines  # not started yet
                raise
            lines += [event["message"] for event in page["events"]]
            # The same token back means the end of the stream for now.
            if page.get("nextForwardToken") in (None, self._token):
                return lines
            self._token = page["nextForwardToken"]
            if not page["events"]:
                return lines


def register_with_image(
    clients: ClientFactory, region: str, task_definition: str, image: str
) -> str:
    """A new revision of `task_definition`'s family running `image`: how a release runs
    its migrations with the new backend image before the services stack changes (ECS
    cannot override a task's image at run time)."""
    ecs = clients("ecs", region)
    with aws_errors("read the migration task definition"):
        described = ecs.describe_task_definition(taskDefinition=task_definition, include=["TAGS"])
    definition = described["taskDefinition"]
    containers = [{**c, "image": image} for c in definition["containerDefinitions"]]
    kept = {
        key: definition[key]
        for key in (
            "family",
            "taskRoleArn",
            "executionRoleArn",
            "networkMode",
            "volumes",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "runtimePlatform",
            "ephemeralStorage",
        )
        if definition.get(key)
    }
    if described.get("tags"):
        kept["tags"] = described["tags"]
    with aws_errors("register the migration task with the new image"):
        registered = ecs.register_task_definition(**kept, containerDefinitions=containers)
    return str(registered["taskDefinition"]["taskDefinitionArn"])
