"""Where PostgreSQL 15's programs are, and as which user a cluster runs: PostgreSQL refuses
to run as root, so when invoked as root the cluster belongs to the `postgres` system user
that Debian's package creates. (The platform's cluster itself: components.LocalPostgres.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from health_platform.errors import ToolchainError

MAJOR = "15"


def postgres_bin(tool: str) -> str:
    packaged = Path(f"/usr/lib/postgresql/{MAJOR}/bin/{tool}")
    if packaged.exists():
        return str(packaged)
    found = shutil.which(tool)
    if found is None:
        raise ToolchainError(
            f"PostgreSQL {MAJOR} is not installed ({tool} not found); run `make setup`."
        )
    return found


CLUSTER_OWNER = "postgres"  # Debian's user for clusters; PostgreSQL refuses to run as root


def as_root() -> bool:
    return os.geteuid() == 0


def owner_user() -> str | None:
    """The user a cluster's processes run as: Debian's `postgres` when we are root."""
    return CLUSTER_OWNER if as_root() else None


def as_owner(argv: list[str]) -> list[str]:
    """`argv` run as the cluster's owner: as root, Debian's `postgres` user."""
    return ["runuser", "-u", CLUSTER_OWNER, "--", *argv] if as_root() else argv
