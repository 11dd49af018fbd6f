"""The documents' half of a recovery point. Documents are written once under a key that is
never reused (a delete only marks the row), so their backup is a copy of each new file,
kept by key: a restore to any time finds the bytes of every row it brings back.

A file is written (and fsynced) before its row is committed, so a copy made after a
moment holds every document whose row committed before it: `hp backup`, the drill and
the supervisor's schedule copy after the database's point, never before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

PARTIAL_SUFFIX = ".partial"  # an upload still being written (api.storage._FileWriter)
HIDDEN_PREFIX = "."  # the storage's readiness probe, a copy in progress


def _stored_files(root: Path) -> Iterable[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            if not name.endswith(PARTIAL_SUFFIX) and not name.startswith(HIDDEN_PREFIX):
                yield Path(folder) / name


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy under a hidden name, fsync, then rename: a crash leaves no half file under the
    real name, and the next sync copies it again."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = target.with_name(f"{HIDDEN_PREFIX}{target.name}.copying")
    # Health data: readable by its owner only, whatever the folder's or the umask's mode.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with source.open("rb") as reader, os.fdopen(descriptor, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
        writer.flush()
        os.fsync(writer.fileno())
    temporary.replace(target)


def sync(uploads: Path, copies: Path) -> int:
    """Copy every document not yet in `copies`; returns how many were copied."""
    if not uploads.exists():
        return 0
    copied = 0
    for source in _stored_files(uploads):
        target = copies / source.relative_to(uploads)
        if not target.exists():
            _copy_atomically(source, target)
            copied += 1
    return copied


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class DocumentRow:
    """What the database says a document is."""

    storage_key: str
    sha256: str


def rows_in(connection: psycopg.Connection[tuple[object, ...]]) -> list[DocumentRow]:
    """Every document row of a database (the platform's, or a drill's restored copy)."""
    return [
        DocumentRow(str(key), str(sha256))
        for key, sha256 in connection.execute("SELECT storage_key, sha256 FROM documents")
    ]


@dataclass(frozen=True)
class DocumentCheck:
    checked: int
    missing: list[str]  # keys with no copy
    different: list[str]  # keys whose copy's SHA-256 is not the row's

    @property
    def ok(self) -> bool:
        return not self.missing and not self.different


def verify(rows: Iterable[DocumentRow], copies: Path) -> DocumentCheck:
    """Every row's bytes are in `copies` and hash to the row's SHA-256."""
    checked, missing, different = 0, [], []
    for row in rows:
        checked += 1
        copy = copies / row.storage_key
        if not copy.is_file():
            missing.append(row.storage_key)
        elif sha256_of(copy) != row.sha256:
            different.append(row.storage_key)
    return DocumentCheck(checked, missing, different)


def restore(rows: Iterable[DocumentRow], copies: Path, uploads: Path) -> DocumentCheck:
    """Put back every row's document whose file is missing or differs; what cannot be put
    back (no copy, or a copy that does not match) is reported."""
    checked, missing, different = 0, [], []
    for row in rows:
        checked += 1
        live = uploads / row.storage_key
        if live.is_file() and sha256_of(live) == row.sha256:
            continue
        copy = copies / row.storage_key
        if not copy.is_file():
            missing.append(row.storage_key)
        elif sha256_of(copy) != row.sha256:
            different.append(row.storage_key)
        else:
            _copy_atomically(copy, live)
    return DocumentCheck(checked, missing, different)
