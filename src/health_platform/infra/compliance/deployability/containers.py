"""ECS tasks: what Fargate does when it starts a container, which the template does not say.

- A task volume without a host path or EFS is a bind mount that Fargate creates owned by
  root with mode 0755, unless the image declares a VOLUME at that path: then the
  directory has the ownership the image gives it. A non-root user with a read-only root
  file system can write nowhere else.
- Secrets in a container definition are read once, when the container starts. A secret
  that rotates (RDS's managed master password, every 7 days; any secret with a rotation
  schedule) goes stale in a long-running service: its next connection fails."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from typing import Any

from health_platform.images.dockerfile import DockerfileError, read_dockerfile
from health_platform.images.fargate import bind_mount_volumes, user_ids, volume_owner
from health_platform.infra.compliance.deployability.model import Environment, Resource, Rule


def writable_by(owner: tuple[int, int, int], uid: int, gid: int) -> bool:
    owner_uid, owner_gid, mode = owner
    if uid == 0:
        return True
    if owner_uid == uid:
        return bool(mode & stat.S_IWUSR)
    if owner_gid == gid:
        return bool(mode & stat.S_IWGRP)
    return bool(mode & stat.S_IWOTH)


def _writable_paths(env: Environment) -> Iterator[tuple[Resource, str]]:
    for task in env.resources("AWS::ECS::TaskDefinition"):
        bind_mounts = bind_mount_volumes(task.properties)
        for container in task.properties.get("ContainerDefinitions", []):
            name = container.get("Name")
            dockerfile = env.dockerfiles.get(name)
            if dockerfile is None:
                yield task, f"container {name} has no known Dockerfile to check its user against"
                continue
            try:
                image = read_dockerfile(dockerfile)
            except (DockerfileError, OSError) as unreadable:
                yield task, f"container {name}: {unreadable}"
                continue
            user = container.get("User") or image.user or "0"
            ids = user_ids(user)
            if ids is None:
                yield task, f"container {name} runs as {user!r}: name a numeric uid"
                continue
            if image.user and container.get("User") and user_ids(image.user) != ids:
                yield (
                    task,
                    (
                        f"container {name} runs as {user} but {dockerfile.name} is built for USER"
                        f" {image.user}: the image's files and volumes belong to that user"
                    ),
                )
            for mount in container.get("MountPoints", []):
                if mount.get("ReadOnly") or mount.get("SourceVolume") not in bind_mounts:
                    continue
                path = mount["ContainerPath"]
                owner = volume_owner(image, path)
                if not writable_by(owner, *ids):
                    yield (
                        task,
                        (
                            f"container {name} runs as {user} and cannot write {path}: Fargate"
                            f" mounts it owned by {owner[0]}:{owner[1]} mode {owner[2]:o}. Declare"
                            f" it in the Dockerfile: `RUN install -d -o {ids[0]} -g {ids[1]} -m"
                            f' 1777 {path}` then `VOLUME ["{path}"]`'
                        ),
                    )


def _rotates(env: Environment, stack: str, value_from: Any) -> str | None:
    """Why the secret `value_from` names rotates, or None."""
    for pointer in env.pointers_in(stack, value_from):
        if pointer.resource.type == "AWS::RDS::DBInstance" and (pointer.attribute or "").startswith(
            "MasterUserSecret"
        ):
            return "RDS rotates a managed master password every 7 days"
    named = env.secrets_named(stack, value_from)
    for schedule in env.resources("AWS::SecretsManager::RotationSchedule"):
        scheduled = env.secrets_named(schedule.stack, schedule.properties.get("SecretId"))
        if {r.where for r in scheduled} & {r.where for r in named}:
            return "it has a rotation schedule"
    return None


def _services_tasks(env: Environment) -> Iterator[Resource]:
    for service in env.resources("AWS::ECS::Service"):
        pointer = env.follow(service.stack, service.properties.get("TaskDefinition"))
        if pointer is not None:
            yield pointer.resource


def _rotating_secrets(env: Environment) -> Iterator[tuple[Resource, str]]:
    for task in _services_tasks(env):
        for container in task.properties.get("ContainerDefinitions", []):
            for secret in container.get("Secrets", []):
                why = _rotates(env, task.stack, secret.get("ValueFrom"))
                if why:
                    yield (
                        task,
                        (
                            f"service container {container.get('Name')} receives"
                            f" {secret.get('Name')} once, at start, but {why}: its next connection"
                            " after a rotation fails. Sign in another way (IAM database"
                            " authentication) or read the secret when it is needed"
                        ),
                    )


CONTAINER_WRITABLE_PATHS = Rule(
    "HP-ECS-WRITABLE-PATHS",
    "A container's user can write the task volumes mounted for it",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html",
    _writable_paths,
)
SERVICE_ROTATING_SECRETS = Rule(
    "HP-ECS-ROTATING-SECRET",
    "A long-running service receives no secret that rotates",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html",
    _rotating_secrets,
)
