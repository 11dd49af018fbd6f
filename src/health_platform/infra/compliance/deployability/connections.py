"""Database connections: an RDS for PostgreSQL instance admits a number of connections set
by its class's memory, and refuses the next ("too many clients") at run time, when
autoscaling has added tasks or a deployment runs old and new ones side by side. The rule
adds up what the API's tasks may open at their most and compares it with the class's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from health_platform.contract import DEFAULT_DATABASE_CONNECTIONS, env_name
from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)
from health_platform.infra.data.connections import RESERVED, max_connections

DEFAULT_MAXIMUM_PERCENT = 200  # ECS's, for a service that does not say


def _int(value: Any, default: int) -> int:
    text = literal(value) if not isinstance(value, int) else str(value)
    return int(text) if text and text.isdigit() else default


def _most_tasks(env: Environment, service: Resource) -> int:
    """The most tasks of `service` at once: its scaling's highest maximum (or its desired
    count), times its deployment's maximum percent."""
    highest = _int(service.properties.get("DesiredCount"), 1)
    for target in env.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        if any(
            p.resource == service
            for p in env.pointers_in(target.stack, target.properties.get("ResourceId"))
        ):
            actions = target.properties.get("ScheduledActions", [])
            highest = max(
                [
                    _int(target.properties.get("MaxCapacity"), highest),
                    *(
                        _int(a.get("ScalableTargetAction", {}).get("MaxCapacity"), 0)
                        for a in actions
                    ),
                ]
            )
    deployment = service.properties.get("DeploymentConfiguration", {})
    percent = _int(deployment.get("MaximumPercent"), DEFAULT_MAXIMUM_PERCENT)
    return highest * percent // 100


def _database_users(env: Environment, service: Resource) -> Iterator[tuple[Resource, int]]:
    """The database instances `service`'s containers connect to, each with the connections
    one task opens (DATABASE_CONNECTIONS, or the API's default)."""
    task = env.follow(service.stack, service.properties.get("TaskDefinition"))
    if task is None:
        return
    for container in task.resource.properties.get("ContainerDefinitions", []):
        variables = {
            item.get("Name"): item.get("Value") for item in container.get("Environment", [])
        }
        host = variables.get(env_name("database_host"))
        for pointer in env.pointers_in(task.resource.stack, host):
            if pointer.resource.type == "AWS::RDS::DBInstance":
                count = _int(
                    variables.get(env_name("database_connections")), DEFAULT_DATABASE_CONNECTIONS
                )
                yield pointer.resource, count


def _over_budget(env: Environment) -> Iterator[tuple[Resource, str]]:
    for service in env.resources("AWS::ECS::Service"):
        for instance, per_task in _database_users(env, service):
            instance_class = literal(instance.properties.get("DBInstanceClass"))
            if instance_class is None:
                continue
            try:
                admitted = max_connections(instance_class)
            except ValueError:
                yield service, f"cannot tell how many connections {instance_class} admits"
                continue
            tasks = _most_tasks(env, service)
            wanted = tasks * per_task + RESERVED
            if wanted > admitted:
                yield (
                    service,
                    (
                        f"{tasks} tasks at once (scaling's maximum through a deployment) may open"
                        f" {per_task} connections each, {wanted} with the {RESERVED} reserved,"
                        f" but {instance_class} admits about {admitted}: PostgreSQL refuses the"
                        " rest; lower DATABASE_CONNECTIONS or the task count, or use a larger class"
                    ),
                )


DATABASE_CONNECTION_BUDGET = Rule(
    "HP-RDS-CONNECTIONS",
    "The API's tasks at their most open no more connections than the instance admits",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections",
    _over_budget,
)
