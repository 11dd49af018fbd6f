"""pgBackRest for the local cluster: its configuration, and the commands the platform runs
(archive-push from PostgreSQL itself; stanza-create, backup, check, verify, info, restore).

Why pgBackRest rather than our own copy: its archive is atomic and checksummed (a crash
mid-push leaves no partial segment that blocks archiving for good), it takes full,
differential and incremental backups, expires them by retention, verifies the repository,
and restores to a time, a named point or the end of the archive.

The repository lives outside the data folder (`LocalConfig.backups_dir`), so a lost data
folder or `hp reset local` leaves it. pgBackRest runs as the cluster's owner: as root,
that is Debian's `postgres` user, and the repository belongs to it.
"""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from health_platform.errors import LocalPlatformError, ToolchainError
from health_platform.local.postgres import CLUSTER_OWNER, as_owner, as_root

STANZA = "hp"  # pgBackRest's name for the cluster it backs up
FULL_BACKUPS_KEPT = 2  # with their differentials and the WAL to replay from the older one
DIFFERENTIAL_BACKUPS_KEPT = 7
COMMAND_TIMEOUT = 30 * 60  # seconds; a backup of a large cluster takes a while

BackupType = Literal["full", "diff", "incr"]


def pgbackrest_binary() -> str:
    found = shutil.which("pgbackrest") or (
        "/usr/bin/pgbackrest" if Path("/usr/bin/pgbackrest").exists() else None
    )
    if found is None:
        raise ToolchainError(
            "pgBackRest is not installed (pgbackrest not found); run `make setup`."
        )
    return found


def give_to_cluster_owner(*paths: Path) -> None:
    """As root, hand `paths` to the `postgres` user, which runs the cluster and pgBackRest."""
    if as_root():
        entry = pwd.getpwnam(CLUSTER_OWNER)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass(frozen=True)
class Backup:
    """One backup in the repository, as `pgbackrest info` describes it."""

    label: str
    kind: BackupType
    started: datetime
    stopped: datetime
    size_bytes: int  # of the database
    repository_bytes: int  # what it takes in the repository (compressed, deduplicated)
    wal_start: str
    wal_stop: str
    stop_lsn: int

    @property
    def timeline(self) -> int:
        return int(self.wal_start[:8], 16)


@dataclass(frozen=True)
class RepositoryInfo:
    """What the repository holds: its backups (oldest first) and the WAL archive's range."""

    status: str  # pgBackRest's own words: "ok", "no valid backups", "missing stanza path"...
    backups: list[Backup]
    archive_min: str | None
    archive_max: str | None
    archive_id: str | None = None  # the archive's folder for this PostgreSQL version: "15-1"

    @property
    def latest_timeline(self) -> int:
        names = [self.archive_max or "", *(b.wal_stop for b in self.backups)]
        return max((int(name[:8], 16) for name in names if name), default=1)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def latest(self) -> Backup | None:
        return self.backups[-1] if self.backups else None

    def latest_of(self, *kinds: BackupType) -> Backup | None:
        matching = [backup for backup in self.backups if backup.kind in kinds]
        return matching[-1] if matching else None

    @property
    def earliest_recovery_time(self) -> datetime | None:
        """The first time a restore can reach: the end of the oldest backup."""
        return self.backups[0].stopped if self.backups else None


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def parse_info(answer: list[dict[str, Any]]) -> RepositoryInfo:
    """`pgbackrest info --output=json` for our stanza (pgBackRest 2.x's layout)."""
    stanza = next((s for s in answer if s.get("name") == STANZA), None)
    if stanza is None:
        return RepositoryInfo("missing stanza", [], None, None)
    backups = [
        Backup(
            label=entry["label"],
            kind=entry["type"],
            started=_time(entry["timestamp"]["start"]),
            stopped=_time(entry["timestamp"]["stop"]),
            size_bytes=int(entry["info"]["size"]),
            repository_bytes=int(entry["info"]["repository"]["delta"]),
            wal_start=entry["archive"]["start"],
            wal_stop=entry["archive"]["stop"],
            stop_lsn=lsn_of(entry["lsn"]["stop"]),
        )
        for entry in stanza.get("backup", [])
    ]
    archives = [a for a in stanza.get("archive", []) if a.get("min")]
    return RepositoryInfo(
        status=str(stanza.get("status", {}).get("message", "unknown")),
        backups=backups,
        archive_min=archives[0]["min"] if archives else None,
        archive_max=archives[-1]["max"] if archives else None,
        archive_id=archives[-1]["id"] if archives else None,
    )


def lsn_of(text: str) -> int:
    """An LSN as PostgreSQL writes it ("0/A007CC0") as a number."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass(frozen=True)
class PgBackRest:
    """The commands for one cluster (`data_dir`, `port`) and one repository."""

    config_file: Path  # written by `write_config`; every command names it
    repository: Path
    data_dir: Path
    port: int
    log_dir: Path
    lock_dir: Path

    def write_config(self) -> None:
        for folder in (self.repository, self.log_dir, self.lock_dir, self.config_file.parent):
            folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        give_to_cluster_owner(
            self.repository,
            self.lock_dir,
            self.log_dir,
            self.config_file.parent,
        )
        settings = {
            "global": {
                "repo1-path": str(self.repository),
                "repo1-retention-full": str(FULL_BACKUPS_KEPT),
                "repo1-retention-diff": str(DIFFERENTIAL_BACKUPS_KEPT),
                # zstd: smaller than gzip at a fraction of the CPU (pgBackRest's advice).
                "compress-type": "zst",
                "start-fast": "y",  # an immediate checkpoint: a backup starts at once
                "process-max": "2",
                "log-path": str(self.log_dir),
                "log-level-console": "warn",
                "log-level-file": "info",
                "lock-path": str(self.lock_dir),
            },
            STANZA: {
                "pg1-path": str(self.data_dir),
                "pg1-port": str(self.port),
                # Over the cluster's Unix socket, as its owner (peer authentication).
                "pg1-socket-path": str(self.data_dir),
                "pg1-user": "postgres",
            },
        }
        text = "".join(
            f"[{section}]\n" + "".join(f"{key}={value}\n" for key, value in values.items()) + "\n"
            for section, values in settings.items()
        )
        self.config_file.write_text(text)
        self.config_file.chmod(0o640)
        give_to_cluster_owner(self.config_file)

    # --- the commands ---------------------------------------------------------------------
    def argv(self, command: str, *options: str) -> list[str]:
        return [
            pgbackrest_binary(),
            f"--config={self.config_file}",
            f"--stanza={STANZA}",
            *options,
            command,
        ]

    @property
    def archive_command(self) -> str:
        """PostgreSQL's `archive_command`: pgBackRest pushes the segment, or fails (and
        PostgreSQL keeps it and tries again)."""
        return shlex.join(self.argv("archive-push")) + " %p"  # through sh: paths quoted

    def run(self, command: str, *options: str, timeout: float = COMMAND_TIMEOUT) -> str:
        argv = as_owner(self.argv(command, *options))
        try:
            done = subprocess.run(  # noqa: S603
                argv, capture_output=True, text=True, check=False, timeout=timeout
            )
        except subprocess.TimeoutExpired as slow:
            raise LocalPlatformError(
                f"pgbackrest {command} did not finish in {timeout:.0f} s."
            ) from slow
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            errors = [line.strip() for line in said if "ERROR:" in line]
            raise LocalPlatformError(
                f"pgbackrest {command} failed (exit {done.returncode}): "
                + (errors[0] if errors else said[-1].strip() if said else "no message")
            )
        return done.stdout

    def info(self) -> RepositoryInfo:
        return parse_info(json.loads(self.run("info", "--output=json") or "[]"))

    def timeline_history(self, info: RepositoryInfo) -> str:
        """The history file of the newest timeline: each ancestor and where it ended."""
        if info.archive_id is None or info.latest_timeline == 1:
            return ""
        history = (
            self.repository
            / "archive"
            / STANZA
            / info.archive_id
            / f"{info.latest_timeline:08X}.history"
        )
        return history.read_text() if history.exists() else ""

    def ensure_stanza(self) -> None:
        """Create the stanza (idempotent for the same cluster; refused, with pgBackRest's
        reason, when the repository belongs to another cluster)."""
        self.run("stanza-create")

    def backup(self, kind: BackupType) -> None:
        self.run("backup", f"--type={kind}")

    def check(self) -> None:
        """pgBackRest's own end-to-end test: the configuration, and that a WAL segment
        just switched reaches the archive."""
        self.run("check")

    def verify(self) -> None:
        """Read every file of every backup and archived segment back and check it."""
        self.run("verify")
