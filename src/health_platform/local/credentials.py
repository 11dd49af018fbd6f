"""The local platform's passwords and signing key: made once, at random, kept in the state
folder readable by its owner only (never in the repository, never printed)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Credentials:
    postgres_superuser: str  # the cluster's `postgres` role
    database: str  # the database's owner, `health_platform`: migrations run as it
    redis: str
    session_secret: str
    runtime: str  # the API's runtime role (contract.RUNTIME_ROLE)


def load_or_create(path: Path) -> Credentials:
    """The folder's credentials; any that a state folder made by an older version lacks
    are made now and kept."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    made = Credentials(
        **{
            spec.name: kept.get(spec.name) or secrets.token_urlsafe(32)
            for spec in fields(Credentials)
        }
    )
    if asdict(made) != kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(asdict(made)))
    return made


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write `text` to a file created readable by its owner only (0600) from the start: no
    moment when another user could read it. `exclusive`: fail if it exists already."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    with os.fdopen(os.open(path, flags, 0o600), "w") as file:
        file.write(text)
