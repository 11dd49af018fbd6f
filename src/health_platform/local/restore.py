"""`hp restore local`: a real recovery of the local platform from its backups.

1. The platform stops; the data folder is moved aside (kept, never deleted here).
2. pgBackRest restores the newest backup before the target and PostgreSQL replays the WAL
   archive up to it: to a time (`--to TIME`, then it pauses there), or to the end of the
   archive (`latest`, as a standby that keeps replaying). Either way the restored cluster is
   read-only: the API answers reads and refuses writes (503 read_only), `hp status local`
   says so, and nothing new is archived into the repository.
3. The platform starts again with Redis emptied (everyone signs in again); the documents
   of every restored row are put back from their copies.
4. `hp restore local --promote` ends recovery: the database takes writes on a new timeline,
   migrations catch up, and an incremental backup starts the new timeline's history.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from health_platform.errors import InvalidInputError, LocalPlatformError, RefusedError
from health_platform.local import documents_backup
from health_platform.local.backups import (
    credentials_copy,
    document_copies,
    forget_journal,
    in_recovery,
    pgbackrest_for,
    record,
    take_backup,
    uploads_dir,
)
from health_platform.local.components import libpq_url
from health_platform.local.config import LocalConfig
from health_platform.local.credentials import write_private
from health_platform.local.pgbackrest import (
    Backup,
    PgBackRest,
    RepositoryInfo,
    give_to_cluster_owner,
    lsn_of,
)
from health_platform.local.platform import credentials_of, down, migrate, supervisor_pid
from health_platform.local.wal import archive_a_commit

LATEST = "latest"
PROMOTE_WAIT_SECONDS = 60


def parse_target(text: str) -> datetime | None:
    """`latest` (None), or a time: ISO 8601, UTC unless it names its zone."""
    if text == LATEST:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"--to {text!r} is neither `latest` nor a time such as 2026-11-30T14:05:00Z."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_target(info: RepositoryInfo, target: datetime | None, now: datetime) -> None:
    """Refuse, before anything stops, a restore the repository cannot make."""
    earliest = info.earliest_recovery_time
    if earliest is None:
        raise RefusedError(
            "There is no backup to restore from yet; take one with `hp backup local`."
        )
    if target is not None and not earliest <= target <= now:
        raise InvalidInputError(
            f"--to {target:%Y-%m-%d %H:%M:%S %Z} is outside what the backups can reach:"
            f" from {earliest:%Y-%m-%d %H:%M:%S %Z} to now."
        )


def ancestors(history: str) -> dict[int, int]:
    """A timeline history file: each ancestor timeline and the LSN where it was left."""
    switches = {}
    for line in history.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            switches[int(fields[0])] = lsn_of(fields[1])
    return switches


def backup_for(info: RepositoryInfo, history: str, target: datetime) -> Backup:
    """The newest backup before `target` from which the newest timeline can be reached.

    pgBackRest picks the newest backup before the time, whatever its timeline; after a
    restore to an earlier point, backups taken later on the abandoned timeline are newer but
    lead nowhere (PostgreSQL stops: "record with incorrect prev-link")."""
    newest, left_at = info.latest_timeline, ancestors(history)

    def reaches_newest(backup: Backup) -> bool:
        return backup.timeline == newest or (
            backup.timeline in left_at and backup.stop_lsn <= left_at[backup.timeline]
        )

    usable = [b for b in info.backups if b.stopped <= target and reaches_newest(b)]
    if not usable:
        raise InvalidInputError(
            f"No backup that leads to the current timeline ends before"
            f" {target:%Y-%m-%d %H:%M:%S %Z}; choose a later time."
        )
    return usable[-1]


def restore_options(target: datetime | None, backup: Backup | None = None) -> list[str]:
    if target is None:
        # A standby replays every archived segment and stays read-only until promoted.
        return ["--type=standby"]
    return [
        "--type=time",
        f"--target={target.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f+00}",
        "--target-action=pause",
        *([f"--set={backup.label}"] if backup else []),
    ]


def restore_command(backrest: PgBackRest, target: datetime | None) -> list[str]:
    """What `pgbackrest restore` is told, for the platform's cluster or a drill's."""
    if target is None:
        return restore_options(None)
    info = backrest.info()
    return restore_options(target, backup_for(info, backrest.timeline_history(info), target))


@dataclass(frozen=True)
class Restored:
    target: datetime | None
    set_aside: Path | None  # the data folder as it was before the restore


def restore(config: LocalConfig, target: datetime | None) -> Restored:
    """Steps 1 and 2; the caller starts the platform again, then calls `put_back_documents`."""
    backrest = pgbackrest_for(config)
    backrest.write_config()  # gone with the state folder after `hp reset local`
    check_target(backrest.info(), target, datetime.now(UTC))
    options = restore_command(backrest, target)  # refused here, before anything stops
    if target is not None and supervisor_pid(config) is not None:
        # Replay stops at the first commit after the time; without one in the archive
        # PostgreSQL ends the recovery with a FATAL error instead.
        archive_a_commit(libpq_url(config, credentials_of(config), "superuser"), lambda _: None)
    down(config)
    forget_the_present(config)
    data_dir = config.path("postgres", "data")
    set_aside = None
    if data_dir.exists():
        set_aside = data_dir.with_name(f"data.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        data_dir.rename(set_aside)
    data_dir.mkdir(parents=True, mode=0o700)
    give_to_cluster_owner(data_dir.parent, data_dir)
    bring_back_credentials(config)
    try:
        backrest.run("restore", *options)
    except LocalPlatformError as failed:
        shutil.rmtree(data_dir, ignore_errors=True)
        if set_aside is not None and not data_dir.exists():
            set_aside.rename(data_dir)  # as it was: nothing lost
        elif set_aside is not None:
            raise LocalPlatformError(
                f"{failed} The data folder as it was is {set_aside}; move it back to {data_dir}."
            ) from failed
        raise
    return Restored(target, set_aside)


def forget_the_present(config: LocalConfig) -> None:
    """What describes the database as it was before the restore goes with it: Redis' data
    (sessions of accounts or roles the restore may undo, cached lists that would show rows
    it removed, rate counters) and the backup journal (failures of the cluster set aside).
    Everyone signs in again."""
    shutil.rmtree(config.path("redis", "appendonlydir"), ignore_errors=True)
    config.path("redis", "dump.rdb").unlink(missing_ok=True)
    forget_journal(config)


def bring_back_credentials(config: LocalConfig) -> None:
    """The state folder's passwords, from the copy kept with the backups, when the state
    folder lost them (a new disk, `hp reset local` of an older version)."""
    kept, copy = config.path("credentials.json"), credentials_copy(config)
    if not kept.exists() and copy.exists():
        config.state_dir.mkdir(parents=True, exist_ok=True)
        write_private(kept, copy.read_text())  # the rest (session key, Redis) is made anew


def put_back_documents(config: LocalConfig) -> documents_backup.DocumentCheck:
    """Step 3: the bytes of every document row the restored database holds."""
    url = libpq_url(config, credentials_of(config), "owner")
    with psycopg.connect(url, connect_timeout=5) as connection:
        rows = documents_backup.rows_in(connection)
    return documents_backup.restore(rows, document_copies(config), uploads_dir(config))


def promote(config: LocalConfig) -> None:
    """Step 4."""
    if supervisor_pid(config) is None:
        raise LocalPlatformError("The local platform is not running; start it with `hp up`.")
    url = libpq_url(config, credentials_of(config), "superuser")
    if not in_recovery(url):
        raise RefusedError("The database is not being restored; there is nothing to promote.")
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute("SELECT pg_promote(true, %s)", (PROMOTE_WAIT_SECONDS,)).fetchone()
        if row and row[0]:
            # Promotion leaves its checkpoint to run in the background; pgBackRest reads the
            # new timeline from pg_control, which only that checkpoint writes.
            connection.execute("CHECKPOINT")
    if not (row and row[0]):
        raise LocalPlatformError(
            f"PostgreSQL did not finish promoting in {PROMOTE_WAIT_SECONDS} s;"
            " see `hp logs local postgres`."
        )
    migrate(config)
    pgbackrest_for(config).ensure_stanza()
    record(config, "stanza", None)
    # An incremental, not a full: retention counts fulls, and a full per restore would
    # expire the history before it within two restores.
    take_backup(config, "incr")
