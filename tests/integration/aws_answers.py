"""moto clients for the operations moto serves, and AWS's own answers for the few it does
not serve faithfully (an ECS task never stops in moto; its CloudFormation does not re-read
SSM parameters on update and cannot cancel one).

`Account` hands out one client per (service, region), so what a test arranges on a client
is what the code under test calls; it records every call in order. `answer()` is botocore's
Stubber narrowed to one operation: the response is built from AWS's documented shape, and
every other operation still reaches moto.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

Respond = Callable[[dict[str, Any]], dict[str, Any] | None]


class FakeTime:
    """A clock that moves only when slept on, so waiting and polling tests take no time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Account:
    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], Any] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            client = boto3.client(service, region_name=region)
            client.meta.events.register("before-parameter-build", self._record)
            self._clients[key] = client
        return self._clients[key]

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.service_model.service_name, model.name, dict(params)))

    def operations(self, *services: str) -> list[str]:
        """'service.Operation' of every call so far (of `services` only, if named)."""
        return [f"{s}.{op}" for s, op, _ in self.calls if not services or s in services]

    def params_of(self, service: str, operation: str) -> list[dict[str, Any]]:
        return [p for s, op, p in self.calls if (s, op) == (service, operation)]


def answer(client: Any, operation: str, respond: Respond) -> None:
    """Answer `operation` with `respond(api_params)`: a parsed response, an
    `error(code, message)`, or None to let moto answer. A later answer for the same
    operation replaces the earlier one."""
    answers: dict[str, Respond] = client.meta.__dict__.setdefault("answers", {})
    if operation not in answers:
        _route(client, operation, answers)
    answers[operation] = respond


def _route(client: Any, operation: str, answers: dict[str, Respond]) -> None:
    service = client.meta.service_model.service_name
    pending: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        pending.append(dict(params))

    def reply(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        parsed = answers[operation](pending.pop())
        if parsed is None:
            return None
        status = 400 if "Error" in parsed else 200
        return AWSResponse("https://answer.invalid", status, {}, None), {
            **parsed,
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    client.meta.events.register(f"before-parameter-build.{service}.{operation}", capture)
    client.meta.events.register(f"before-call.{service}.{operation}", reply)


def error(code: str, message: str) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": message}}


def stopped_task(
    arn: str, container: str, exit_code: int | None, reason: str = ""
) -> dict[str, Any]:
    """A task as ECS's DescribeTasks describes it once it has stopped."""
    ran: dict[str, Any] = {"name": container, "lastStatus": "STOPPED"}
    if exit_code is not None:
        ran["exitCode"] = exit_code
    if reason:
        ran["reason"] = reason
    return {
        "taskArn": arn,
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stopCode": "EssentialContainerExited" if exit_code is not None else "TaskFailedToStart",
        "stoppedReason": "Essential container in task exited"
        if exit_code is not None
        else "Task failed to start",
        "containers": [ran],
    }


def tasks_that_stop(
    ecs: Any,
    container: str,
    exit_code: int | None,
    reason: str = "",
    polls: int = 1,
    started: Callable[[str], None] | None = None,
) -> None:
    """RunTask starts a task (moto's fails for awsvpc tasks); DescribeTasks says RUNNING
    `polls` times, then STOPPED with `exit_code`; `started` is told each task's ARN when it
    is first described (to write its log)."""
    seen = {"count": 0}

    def run(params: dict[str, Any]) -> dict[str, Any]:
        cluster = params["cluster"]
        arn = f"arn:aws:ecs:us-east-1:123456789012:task/{cluster}/{uuid.uuid4().hex}"
        return {
            "tasks": [
                {
                    "taskArn": arn,
                    "clusterArn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{cluster}",
                    "taskDefinitionArn": params["taskDefinition"],
                    "lastStatus": "PROVISIONING",
                    "desiredStatus": "RUNNING",
                    "launchType": "FARGATE",
                    "containers": [{"name": container, "lastStatus": "PENDING"}],
                }
            ],
            "failures": [],
        }

    answer(ecs, "RunTask", run)
    answer(
        ecs,
        "StopTask",
        lambda params: {
            "task": {"taskArn": params["task"], "lastStatus": "RUNNING", "desiredStatus": "STOPPED"}
        },
    )

    def respond(params: dict[str, Any]) -> dict[str, Any]:
        seen["count"] += 1
        if seen["count"] == 1 and started is not None:
            for arn in params["tasks"]:
                started(arn)
        if seen["count"] <= polls:
            return {
                "tasks": [
                    {"taskArn": arn, "lastStatus": "RUNNING", "containers": [{"name": container}]}
                    for arn in params["tasks"]
                ],
                "failures": [],
            }
        return {
            "tasks": [stopped_task(arn, container, exit_code, reason) for arn in params["tasks"]],
            "failures": [],
        }

    answer(ecs, "DescribeTasks", respond)
