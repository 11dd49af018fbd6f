"""The local platform's backups: where they live, when they are taken, and what the last
attempt said.

- `<backups>/pgbackrest`: pgBackRest's repository (WAL archive, full and differential
  backups, expired by retention);
- `<backups>/documents`: a copy of every uploaded document (documents_backup);
- `<backups>/database-passwords.json`: the passwords of the roles inside the backups;
- `<backups>/drills`: the reports of `hp dr drill local`;
- `<state>/run/backups.json`: the last attempt of each job, for `hp status` and the doctor.

The supervisor calls `BackupScheduler.tick` every few seconds: documents are copied every
DOCUMENTS_EVERY, a full backup is taken when there is none or the last is a week old, a
differential when the last backup is a day old. One job at a time, in a thread, so the
supervisor keeps watching the components meanwhile.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from health_platform.errors import LocalPlatformError
from health_platform.local import documents_backup
from health_platform.local.config import LocalConfig
from health_platform.local.credentials import write_private
from health_platform.local.pgbackrest import STANZA, BackupType, PgBackRest, RepositoryInfo

FULL_EVERY = timedelta(days=7)
DIFFERENTIAL_EVERY = timedelta(days=1)
DOCUMENTS_EVERY = 10.0  # seconds: well inside the RPO goal of a minute
# WAL is switched and archived at least this often while there are writes: the most a
# lost data folder can lose (recovery.LOCAL_RPO_GOAL_SECONDS is 60).
ARCHIVE_TIMEOUT_SECONDS = 30
CHECK_INFO_EVERY = 60.0  # seconds between looks at the repository for a due backup


# What hp keeps in the backups folder (it may be a folder of the user's, on another disk:
# hp deletes only these there).
REPOSITORY, DOCUMENTS, DRILLS = "pgbackrest", "documents", "drills"


def prepare_backups_dir(config: LocalConfig) -> None:
    """The backups folder stays the user's (a folder on another disk keeps its owner); the
    cluster's owner, which runs pgBackRest, only needs to pass through it to the repository."""
    folder = config.backups_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o711)
    folder.chmod(folder.stat().st_mode | stat.S_IXOTH)


def delete_backups(config: LocalConfig) -> None:
    folder = config.backups_dir
    for name in (REPOSITORY, DOCUMENTS, DRILLS, *LEGACY_COPIES):
        shutil.rmtree(folder / name, ignore_errors=True)
    credentials_copy(config).unlink(missing_ok=True)
    if folder.exists() and not any(folder.iterdir()):
        folder.rmdir()


def pgbackrest_for(config: LocalConfig) -> PgBackRest:
    """pgBackRest for the platform's cluster (a drill restores elsewhere with --pg1-path)."""
    return PgBackRest(
        config_file=config.path("pgbackrest", "pgbackrest.conf"),
        repository=config.backups_dir / REPOSITORY,
        data_dir=config.path("postgres", "data"),
        port=config.postgres_port,
        log_dir=config.log_dir / "pgbackrest",
        lock_dir=config.run_dir / "pgbackrest",
    )


def uploads_dir(config: LocalConfig) -> Path:
    return config.path("uploads")


def document_copies(config: LocalConfig) -> Path:
    return config.backups_dir / DOCUMENTS


def sync_documents(config: LocalConfig) -> int:
    return documents_backup.sync(uploads_dir(config), document_copies(config))


def due(info: RepositoryInfo, now: datetime) -> BackupType | None:
    """The backup the schedule wants now, if any."""
    full = info.latest_of("full")
    if full is None or now - full.stopped >= FULL_EVERY:
        return "full"
    latest = info.latest
    if latest is not None and now - latest.stopped >= DIFFERENTIAL_EVERY:
        return "diff"
    return None


# --- what the last attempts said -----------------------------------------------------------
def _journal(config: LocalConfig) -> Path:
    return config.run_dir / "backups.json"


def read_journal(config: LocalConfig) -> dict[str, Any]:
    try:
        return dict(json.loads(_journal(config).read_text()))
    except (OSError, ValueError):
        return {}


def record(config: LocalConfig, job: str, error: str | None) -> None:
    """Note an attempt of `job` ("backup", "documents", "stanza") and how it ended."""
    journal = read_journal(config)
    now = datetime.now(UTC).isoformat()
    entry = dict(journal.get(job, {}))
    entry["last_attempt"] = now
    if error is None:
        entry["last_success"], entry["last_error"] = now, None
    else:
        entry["last_error"] = error
    journal[job] = entry
    path = _journal(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file of its own: the supervisor and a command may write at once.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".backups-", suffix=".json")
    with os.fdopen(handle, "w") as file:
        file.write(json.dumps(journal))
    Path(temporary).replace(path)


def backups_without_a_database(config: LocalConfig) -> bool:
    """The repository holds backups but the data folder is gone (lost, or deleted): a start
    would make a new, empty cluster, which the repository then refuses."""
    backed_up = (config.backups_dir / REPOSITORY / "backup" / STANZA / "backup.info").exists()
    return backed_up and not config.path("postgres", "data", "PG_VERSION").exists()


def forget_journal(config: LocalConfig) -> None:
    _journal(config).unlink(missing_ok=True)


def failing_jobs(config: LocalConfig) -> dict[str, str]:
    """Jobs whose last attempt failed, with pgBackRest's (or the copy's) reason."""
    return {
        job: entry["last_error"]
        for job, entry in read_journal(config).items()
        if entry.get("last_error")
    }


# The passwords of the roles inside the database: a restored database knows only those.
DATABASE_PASSWORDS = ("postgres_superuser", "database", "runtime")


def credentials_copy(config: LocalConfig) -> Path:
    """The database roles' passwords, kept beside the backups (0600): the state folder may
    be lost with its disk. Only those: the repository holds every row they guard, so the copy
    gives nobody more than the backups do, while the session key and Redis' password would."""
    return config.backups_dir / "database-passwords.json"


def keep_credentials(config: LocalConfig) -> None:
    try:
        kept = json.loads(config.path("credentials.json").read_text())
    except (OSError, ValueError):
        return
    wanted = json.dumps({name: kept[name] for name in DATABASE_PASSWORDS if name in kept})
    copy = credentials_copy(config)
    if not copy.exists() or copy.read_text() != wanted:
        write_private(copy, wanted)


def take_backup(config: LocalConfig, kind: BackupType) -> int:
    """One backup, then the documents: the copy follows the database's point, so every
    row the backup holds finds its bytes. Recorded either way; returns how many documents
    were new."""
    try:
        pgbackrest_for(config).backup(kind)
    except LocalPlatformError as failure:
        record(config, "backup", str(failure))
        raise
    record(config, "backup", None)
    keep_credentials(config)
    return copy_documents(config)


def copy_documents(config: LocalConfig) -> int:
    try:
        copied = sync_documents(config)
    except OSError as failure:
        record(config, "documents", f"copying documents failed: {failure}")
        raise LocalPlatformError(f"Copying the documents failed: {failure}") from failure
    record(config, "documents", None)
    return copied


# What versions before pgBackRest left in the backups folder: a hand-written WAL copy and
# one base backup. pgBackRest's first full backup supersedes both.
LEGACY_COPIES = ("wal", "base")


def retire_legacy_copies(config: LocalConfig) -> list[Path]:
    retired = []
    for name in LEGACY_COPIES:
        folder = config.backups_dir / name
        if folder.is_dir():
            shutil.rmtree(folder)
            retired.append(folder)
    return retired


def in_recovery(superuser_url: str) -> bool:
    """The cluster replays WAL and refuses writes: a restore not yet promoted."""
    with psycopg.connect(superuser_url, connect_timeout=3) as connection:
        row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


@dataclass
class BackupScheduler:
    """Runs the schedule from the supervisor's loop, one job at a time in a thread."""

    config: LocalConfig
    superuser_url: str
    worker: threading.Thread | None = None
    documents_at: float = 0.0
    info_at: float = 0.0

    def tick(self) -> None:
        if self.worker is not None and self.worker.is_alive():
            return
        now = time.monotonic()
        if now - self.info_at >= CHECK_INFO_EVERY:
            self.info_at = self.documents_at = now
            self._start(self._scheduled_backup)
        elif now - self.documents_at >= DOCUMENTS_EVERY:
            self.documents_at = now
            self._start(self._documents)

    def wait(self, timeout: float) -> None:
        if self.worker is not None:
            self.worker.join(timeout)

    def _start(self, job: Any) -> None:
        self.worker = threading.Thread(target=job, name="backups", daemon=True)
        self.worker.start()

    def _documents(self) -> None:
        try:
            copy_documents(self.config)
        except Exception as failure:
            print(f"copying documents: {failure}", flush=True)

    def _scheduled_backup(self) -> None:
        try:
            if in_recovery(self.superuser_url):
                return  # a restored cluster is backed up once promoted
            backrest = pgbackrest_for(self.config)
            try:
                backrest.ensure_stanza()
            except LocalPlatformError as failure:
                record(self.config, "stanza", str(failure))
                print(failure, flush=True)
                return
            record(self.config, "stanza", None)
            kind = due(backrest.info(), datetime.now(UTC))
            if kind is None:
                copy_documents(self.config)
                return
            print(f"taking a {kind} backup", flush=True)
            take_backup(self.config, kind)
            print(f"{kind} backup taken", flush=True)
            for retired in retire_legacy_copies(self.config):
                print(f"deleted {retired}: pgBackRest's backups supersede it", flush=True)
        except Exception as failure:
            record(self.config, "backup", f"{type(failure).__name__}: {failure}")
            print(f"scheduled backup: {failure}", flush=True)
