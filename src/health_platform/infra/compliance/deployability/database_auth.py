"""IAM database authentication: a task whose container signs in to RDS with IAM tokens
(DATABASE_AUTH=iam) connects only if its task role may `rds-db:connect` as that user of
that instance (`dbuser:<DbiResourceId>/<user>`) and the instance has IAM authentication
on. Neither is checked when the stacks deploy: the tasks start and every connection is
refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from health_platform.contract import env_name
from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)

AUTH = env_name("database_auth")
HOST = env_name("database_host")
USER = env_name("database_username")


def _statements(env: Environment, task: Resource) -> Iterator[dict[str, Any]]:
    """Every statement of the task role's managed policies."""
    for role in env.pointers_in(task.stack, task.properties.get("TaskRoleArn")):
        for arn in role.resource.properties.get("ManagedPolicyArns", []):
            for policy in env.pointers_in(role.resource.stack, arn):
                yield from policy.resource.properties.get("PolicyDocument", {}).get("Statement", [])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _tail(arn: Any) -> str:
    """The literal end of an ARN, written plainly or as an Fn::Join."""
    if isinstance(arn, dict) and "Fn::Join" in arn:
        return _tail(arn["Fn::Join"][1][-1])
    return arn if isinstance(arn, str) else ""


def _names_user(env: Environment, stack: str, arn: Any, instance: Resource, user: str) -> bool:
    """Whether an rds-db ARN is `dbuser:<this instance's DbiResourceId>/<user>`."""
    return _tail(arn).endswith(f"/{user}") and any(
        pointer.resource == instance and pointer.attribute == "DbiResourceId"
        for pointer in env.pointers_in(stack, arn)
    )


def _allows_connect(env: Environment, task: Resource, instance: Resource, user: str) -> bool:
    return any(
        statement.get("Effect") == "Allow"
        and {"rds-db:connect", "rds-db:*"} & set(_as_list(statement.get("Action")))
        and any(
            arn == "*" or _names_user(env, task.stack, arn, instance, user)
            for arn in _as_list(statement.get("Resource"))
        )
        for statement in _statements(env, task)
    )


def _iam_sign_in(env: Environment) -> Iterator[tuple[Resource, str]]:
    for task in env.resources("AWS::ECS::TaskDefinition"):
        for container in task.properties.get("ContainerDefinitions", []):
            variables = {v["Name"]: v["Value"] for v in container.get("Environment", [])}
            if variables.get(AUTH) != "iam":
                continue
            name, user = container.get("Name"), literal(variables.get(USER))
            instances = [
                pointer.resource
                for pointer in env.pointers_in(task.stack, variables.get(HOST))
                if pointer.resource.type == "AWS::RDS::DBInstance"
            ]
            if user is None or not instances:
                yield task, f"container {name} signs in with IAM but names no user or instance"
                continue
            (instance,) = instances
            if not instance.properties.get("EnableIAMDatabaseAuthentication"):
                yield (
                    task,
                    (
                        f"container {name} signs in with IAM tokens, but instance"
                        f" {instance.logical_id} has IAM database authentication off"
                    ),
                )
            if not _allows_connect(env, task, instance, user):
                yield (
                    task,
                    (
                        f"container {name} signs in with IAM tokens as {user}, but its task"
                        f" role may not rds-db:connect as dbuser:<DbiResourceId of"
                        f" {instance.logical_id}>/{user}: every connection is refused"
                    ),
                )


IAM_DATABASE_SIGN_IN = Rule(
    "HP-RDS-IAM-SIGN-IN",
    "A task that signs in to RDS with IAM tokens may connect as its user, to an instance"
    " with IAM authentication on",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html",
    _iam_sign_in,
)
