"""From a synthesized task definition to a rehearsal: what ECS would give the container,
with this machine standing in for the image and for the AWS resources it names.

The container receives exactly its task definition's environment and secret names (plus
what Fargate itself sets); a value that only exists in AWS (an endpoint, a bucket name)
or a secret becomes a local stand-in. For the API, every variable must be one its settings
read, and the whole environment must load as its settings: a name the task definition
spells and the API does not read is a failure here, not a silent default on AWS."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from health_platform.contract import (
    BACKEND,
    DATABASE_PORT,
    FRONTEND,
    DatabaseSettings,
    api_environment,
    env_name,
    field_of,
    read_environment,
    settings_from_environment,
)
from health_platform.images import image_of
from health_platform.images.fargate import bind_mount_volumes, volume_owner
from health_platform.local.nginx import FRONTEND_CONF, FRONTEND_DIST, FRONTEND_TASK_CERTIFICATE
from health_platform.rehearse.sandbox import DEFAULT_PATH, Rehearsal


@dataclass(frozen=True)
class ImageStandIn:
    """How this machine stands in for a service's image: its files bound read-only where
    the image has them, and a PATH that finds the image's programs."""

    binds: dict[str, Path]
    path: str
    hidden: tuple[str, ...] = ()


STAND_INS = {
    # Debian's nginx, openssl and curl with the image's nginx.conf, the built frontend and
    # the script that makes the task's certificate.
    FRONTEND: ImageStandIn(
        binds={
            "/etc/nginx/nginx.conf": FRONTEND_CONF,
            "/usr/share/nginx/html": FRONTEND_DIST,
            "/usr/local/bin/task-certificate": FRONTEND_TASK_CERTIFICATE,
        },
        path=DEFAULT_PATH,
    ),
    # This virtualenv's Python with the package installed, as the image's /usr/local (the
    # sandbox keeps the interpreter, the virtualenv and the package's sources visible, for
    # its own supervisor). Root's home, where pyenv or this checkout may live, is hidden:
    # as in an image, the task's user sees nothing of it but those folders.
    BACKEND: ImageStandIn(
        binds={},
        path=f"{Path(sys.executable).parent}:{DEFAULT_PATH}",
        hidden=("/root",),
    ),
}

# Local values for what only exists in AWS, by the API setting they fill.
AWS_STAND_INS = api_environment(
    database_host="127.0.0.1",
    database_port=DATABASE_PORT,
    redis_host="127.0.0.1",
    uploads_bucket="rehearsal-uploads",
    kms_key_id="alias/rehearsal",
)


def local_secrets() -> dict[str, str]:
    """Fresh values for the secrets a task definition names, by the setting they fill."""
    return api_environment(
        redis_auth_token=secrets.token_urlsafe(24),
        session_secret=secrets.token_hex(32),
        database_password=secrets.token_urlsafe(24),
        database_username="rehearsal",
    )


def fargate_environment(region: str) -> dict[str, str]:
    """What Fargate sets in every container (no credentials or metadata endpoint here)."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
    }


class PlanError(Exception):
    """The task definition cannot run as written; the message says why."""


def task_containers(
    template: dict[str, Any],
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """(task definition properties, container definition) of every container of the
    template's task definitions, by container name."""
    return {
        container["Name"]: (resource["Properties"], container)
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
        for container in resource["Properties"]["ContainerDefinitions"]
    }


def _environment(container: dict[str, Any], region: str) -> dict[str, str]:
    problems: list[str] = []
    environment = fargate_environment(region)
    for variable in container.get("Environment", []):
        name, value = variable["Name"], variable["Value"]
        if isinstance(value, str):
            environment[name] = value
        elif name in AWS_STAND_INS:
            environment[name] = AWS_STAND_INS[name]
        else:
            problems.append(f"{name} is set from AWS and has no local stand-in")
    made = local_secrets()
    for secret in container.get("Secrets", []):
        name = secret["Name"]
        if name in made:
            environment[name] = made[name]
        else:
            problems.append(f"secret {name} has no local stand-in")
    if problems:
        raise PlanError("; ".join(problems))
    return environment


def _given(container: dict[str, Any]) -> list[str]:
    return [v["Name"] for v in container.get("Environment", [])] + [
        s["Name"] for s in container.get("Secrets", [])
    ]


def check_api_environment(container: dict[str, Any], environment: dict[str, str]) -> None:
    """The task definition's variables are all ones the API reads, and they load."""
    unread = [name for name in _given(container) if field_of(name) is None]
    if unread:
        raise PlanError(
            f"the task definition sets {', '.join(unread)}, which the API does not read"
        )
    try:
        settings_from_environment(environment)
    except ValueError as invalid:
        raise PlanError(f"the API refuses its environment: {invalid}") from invalid


def check_migration_environment(container: dict[str, Any], region: str) -> None:
    """The migration task's variables are all database settings, and they load as the
    migration command reads them (the task is one-off: not started here)."""
    environment = _environment(container, region)
    readable = {env_name(field) for field in DatabaseSettings.model_fields}
    stray = [name for name in _given(container) if name not in readable]
    if stray:
        raise PlanError(f"the migration task sets {', '.join(stray)}, which it does not read")
    try:
        DatabaseSettings.model_validate(read_environment(environment, DatabaseSettings))
    except ValueError as invalid:
        raise PlanError(f"the migration refuses its environment: {invalid}") from invalid


def _seconds(value: Any, default: float) -> float:
    return float(value) if value is not None else default


def plan(service: str, task: dict[str, Any], container: dict[str, Any], region: str) -> Rehearsal:
    """The rehearsal of `service`'s container as ECS would start it."""
    image = image_of(service)
    stand_in = STAND_INS[service]
    environment = _environment(container, region)
    if service == BACKEND:
        check_api_environment(container, environment)
    bind_mounts = bind_mount_volumes(task)
    volumes = [
        mount["ContainerPath"]
        for mount in container.get("MountPoints", [])
        if mount["SourceVolume"] in bind_mounts
    ]
    command = container.get("Command") or list(image.cmd or ())
    if not command:
        raise PlanError("neither the task definition nor the Dockerfile gives a command")
    health = container.get("HealthCheck")
    if not health:
        raise PlanError("the container has no health check to judge it by")
    return Rehearsal(
        name=service,
        user=container.get("User") or image.user or "0",
        readonly_root=bool(container.get("ReadonlyRootFilesystem")),
        volumes=volumes,
        volume_owners={path: volume_owner(image, path) for path in volumes},
        binds=stand_in.binds,
        hidden=list(stand_in.hidden),
        command=list(command),
        environment=environment,
        port=int(container["PortMappings"][0]["ContainerPort"]),
        health_command=list(health["Command"]),
        health_interval_s=_seconds(health.get("Interval"), 30),
        health_timeout_s=_seconds(health.get("Timeout"), 5),
        health_retries=int(health.get("Retries", 3)),
        health_start_period_s=_seconds(health.get("StartPeriod"), 0),
        path=stand_in.path,
        workdir=image.workdir or "/",
    )
