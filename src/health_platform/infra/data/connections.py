"""How many connections an RDS for PostgreSQL instance admits, and each API task's share.

RDS sets max_connections to LEAST(DBInstanceClassMemory / 9531392, 5000), where
DBInstanceClassMemory is the class's memory less what RDS keeps for the operating system
(measured instances show about 90%: db.t2.small, 2 GiB, admits 198). Past it PostgreSQL
refuses connections ("too many clients"): the API's pools, times the tasks that may run at
once (autoscaling's maximum, doubled while a deployment replaces them), must fit with room
for the superusers, the migration and operators."""

from __future__ import annotations

import re

from health_platform.contract import DEFAULT_DATABASE_CONNECTIONS

BYTES_PER_CONNECTION = 9_531_392
CEILING = 5000
USABLE_MEMORY = 0.85  # of the class's memory, a little under what RDS leaves
# superuser_reserved_connections (3), rds.rds_superuser_reserved_connections (2), the
# migration task, hp's own sessions (doctor, drill checks).
RESERVED = 10
_GIB = 1024**3
# Memory of a "large" of each family kind, in GiB; each size up doubles it (xlarge = 2x).
_LARGE_GIB = {"t": 8, "m": 8, "r": 16, "x": 32}
_SMALL_SIZES = {"micro": 1, "small": 2, "medium": 4}
_CLASS = re.compile(r"^db\.(?P<family>[a-z]+)\d+[a-z]*\.(?P<size>\w+)$")


def memory_gib(instance_class: str) -> float:
    """The class's memory, from its family and size (db.t3.micro: 1, db.r6g.large: 16)."""
    match = _CLASS.match(instance_class)
    if match is None or match["family"][0] not in _LARGE_GIB:
        raise ValueError(f"unknown RDS instance class {instance_class!r}")
    family, size = match["family"][0], match["size"]
    if size in _SMALL_SIZES and family == "t":
        return _SMALL_SIZES[size]
    if size == "large":
        return _LARGE_GIB[family]
    sized = re.fullmatch(r"(\d*)xlarge", size)
    if sized is None:
        raise ValueError(f"unknown RDS instance class {instance_class!r}")
    return _LARGE_GIB[family] * 2 * int(sized[1] or 1)


def max_connections(instance_class: str) -> int:
    """What RDS's default max_connections comes to on this class (a low estimate)."""
    usable = memory_gib(instance_class) * _GIB * USABLE_MEMORY
    return min(int(usable // BYTES_PER_CONNECTION), CEILING)


def per_task(instance_class: str, most_tasks: int) -> int:
    """Each API task's share when `most_tasks` may run at once, at most the API's default."""
    share = (max_connections(instance_class) - RESERVED) // most_tasks
    if share < 3:
        raise ValueError(
            f"{instance_class} admits about {max_connections(instance_class)} connections:"
            f" too few for {most_tasks} API tasks at once; choose a larger class or fewer tasks"
        )
    return min(share, DEFAULT_DATABASE_CONNECTIONS)
