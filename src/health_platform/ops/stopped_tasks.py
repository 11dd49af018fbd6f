"""A service's stopped ECS tasks, and why each stopped, in the words `hp doctor` and a
failed `hp release` both print."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DESCRIBE_AT_MOST = 100  # tasks per DescribeTasks call


def stopped_tasks(ecs: Any, cluster: str, service: str) -> list[dict[str, Any]]:
    """The service's tasks ECS still lists as stopped (an hour at least), newest first."""
    arns = [
        arn
        for page in ecs.get_paginator("list_tasks").paginate(
            cluster=cluster, serviceName=service, desiredStatus="STOPPED"
        )
        for arn in page["taskArns"]
    ]
    tasks = [
        task
        for start in range(0, len(arns), DESCRIBE_AT_MOST)
        for task in ecs.describe_tasks(
            cluster=cluster, tasks=arns[start : start + DESCRIBE_AT_MOST]
        )["tasks"]
    ]
    return sorted(tasks, key=stopped_at, reverse=True)


def stopped_at(task: dict[str, Any]) -> datetime:
    moment = task.get("stoppedAt") or task.get("stoppingAt") or task.get("createdAt")
    return moment if isinstance(moment, datetime) else datetime.min.replace(tzinfo=UTC)


def task_id(task: dict[str, Any]) -> str:
    return str(task["taskArn"]).rsplit("/", 1)[-1]


def why_stopped(task: dict[str, Any]) -> str:
    """`<task id>: <ECS's reason>, <container> exit <code>: <its reason>`."""
    said = [task.get("stoppedReason") or task.get("stopCode") or "no reason given"]
    for container in task.get("containers", []):
        code, reason = container.get("exitCode"), container.get("reason")
        if code is not None or reason:
            exit_said = f"exit {code}" if code is not None else "no exit code"
            said.append(f"{container['name']} {exit_said}" + (f": {reason}" if reason else ""))
    return f"{task_id(task)}: " + ", ".join(said)
