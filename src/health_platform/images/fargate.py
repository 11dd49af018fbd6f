"""What Fargate does with an image and a task definition that neither file says: how it
mounts a task volume, and whose it is; how it reads a container's user."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from health_platform.images.dockerfile import ImageSpec

# A task volume (a bind mount) at a path the image does not declare as a VOLUME: an empty
# directory owned by root, mode 0755. At a declared VOLUME, the image's directory (its
# owner and mode) is copied in.
FARGATE_VOLUME_OWNER = (0, 0, 0o755)
# The kinds of task volume that are not Fargate's bind mounts.
_OTHER_VOLUMES = frozenset({"Host", "EFSVolumeConfiguration", "DockerVolumeConfiguration"})
_USER = re.compile(r"(\d+)(?::(\d+))?")


def volume_owner(image: ImageSpec, path: str) -> tuple[int, int, int]:
    """(uid, gid, mode) of the task volume Fargate mounts at `path` for this image."""
    path = posixpath.normpath(path)
    if path in image.volumes:
        return image.volume_owners.get(path, FARGATE_VOLUME_OWNER)
    return FARGATE_VOLUME_OWNER


def bind_mount_volumes(task: dict[str, Any]) -> set[str]:
    """The names of a task definition's (CloudFormation properties) bind-mount volumes."""
    return {
        volume["Name"] for volume in task.get("Volumes", []) if not _OTHER_VOLUMES & volume.keys()
    }


def user_ids(user: str) -> tuple[int, int] | None:
    """(uid, gid) of a container's User ("uid" or "uid:gid"; a bare uid runs with gid =
    uid, as each of our images gives its user a group of the same number), or None for a
    user name, which Fargate would look up in the image."""
    match = _USER.fullmatch(user)
    if match is None:
        return None
    uid = int(match[1])
    return uid, int(match[2]) if match[2] is not None else uid
