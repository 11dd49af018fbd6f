"""`hp dr drill local`: restore the backups into a scratch cluster while the platform runs,
verify the restore, and measure what a loss of the data folder would cost.

- **RPO** (what a loss at the drill's start would lose): the WAL that PostgreSQL has
  written but pgBackRest has not archived yet is read with pg_waldump; the oldest commit
  in it is the first acknowledged write a restore could not bring back. RPO is the time
  from that commit to the drill's start (0 when everything is archived).
- **The recovery point** (a restore to `latest`): the drill blocks writes for an instant
  (SHARE locks on every table), creates a named restore point and exports the snapshot
  that sees exactly what the restore point holds, then lets writes go on. The reference
  row counts and checksums are computed from that snapshot, the WAL is switched so the
  restore point reaches the archive, and the documents are copied.
- **RTO**: from the start of the restore to a verified cluster: pgBackRest's restore,
  PostgreSQL's replay up to the point, every table's rows and checksum compared with the
  reference, and every document's SHA-256 checked against its copy.

With `--to TIME` the restore goes to that time instead; there is no reference snapshot
then, so the tables are counted and the documents checked, not compared.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from health_platform.contract import DATABASE_NAME
from health_platform.errors import InvalidInputError, LocalPlatformError
from health_platform.local import documents_backup
from health_platform.local.backups import (
    copy_documents,
    document_copies,
    pgbackrest_for,
    take_backup,
)
from health_platform.local.components import (
    libpq_url,
    postgres_argv,
    present_certificate,
    server_settings,
)
from health_platform.local.config import LocalConfig
from health_platform.local.pgbackrest import PgBackRest, give_to_cluster_owner, lsn_of
from health_platform.local.platform import credentials_of, supervisor_pid
from health_platform.local.ports import free_ports
from health_platform.local.postgres import owner_user
from health_platform.local.restore import restore_command
from health_platform.local.tls import certificate_paths
from health_platform.local.wal import archive_a_commit, unarchived_commit, wait_until_archived
from health_platform.recovery import LOCAL_TARGETS, DrillReport, Finding, TableResult

REPLAY_WAIT_SECONDS = 600
# Waiting for writes in flight before the restore point: every new write queues behind the
# lock meanwhile, so wait briefly and try again rather than hold the queue for long.
LOCK_TIMEOUT = "1s"
LOCK_ATTEMPTS = 5
# Rows rendered the same way on both clusters, whatever a session's defaults.
SESSION_SETTINGS = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3"

Progress = Callable[[str], None]


# --- the reference at a restore point ------------------------------------------------------------
def _tables(connection: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    return [
        str(row[0])
        for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]


def table_fingerprints(
    connection: psycopg.Connection[tuple[object, ...]], tables: list[str]
) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows in a fixed order."""
    connection.execute(SESSION_SETTINGS)
    fingerprints = {}
    for table in tables:
        row = connection.execute(
            sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '')"
                " FROM (SELECT md5(t::text) AS h FROM public.{} AS t) AS rows"
            ).format(sql.Identifier(table))
        ).fetchone()
        assert row is not None
        fingerprints[table] = (int(str(row[0])), str(row[1]))
    return fingerprints


@dataclass(frozen=True)
class Reference:
    restore_point: str
    lsn: int
    fingerprints: dict[str, tuple[int, str]]
    schema_version: str | None


def reference_at_restore_point(database: str, name: str) -> Reference:
    """A restore point and the exact data it holds (see the module's docstring), after a
    few short tries for the locks when writes keep them busy."""
    for attempt in range(LOCK_ATTEMPTS):
        try:
            return _reference(database, name)
        except psycopg.errors.LockNotAvailable:
            time.sleep(0.5 * (attempt + 1))
    raise LocalPlatformError(
        f"The tables stayed busy with writes through {LOCK_ATTEMPTS} tries of"
        f" {LOCK_TIMEOUT}; run the drill again."
    )


def _reference(database: str, name: str) -> Reference:
    with (
        psycopg.connect(database, connect_timeout=5) as holder,
        psycopg.connect(database, connect_timeout=5) as reader,
    ):
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        tables = _tables(reader)
        reader.rollback()
        holder.execute(
            sql.SQL("LOCK TABLE {} IN SHARE MODE").format(
                sql.SQL(", ").join(sql.Identifier("public", t) for t in tables)
            )
        )
        row = holder.execute(
            "SELECT pg_create_restore_point(%s)::text, pg_export_snapshot()", (name,)
        ).fetchone()
        assert row is not None
        lsn, snapshot = lsn_of(str(row[0])), str(row[1])
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        reader.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        holder.commit()  # writes go on; the reader keeps the snapshot
        fingerprints = table_fingerprints(reader, tables)
        version = _schema_version(reader, tables)
        reader.rollback()
    return Reference(name, lsn, fingerprints, version)


def _schema_version(
    connection: psycopg.Connection[tuple[object, ...]], tables: list[str]
) -> str | None:
    if "alembic_version" not in tables:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


# --- the scratch cluster ---------------------------------------------------------------------
@dataclass
class ScratchCluster:
    folder: Path
    port: int
    certificate: tuple[Path, Path]
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def start(self) -> None:
        """Started in the background; `wait_until_paused` follows its replay."""
        settings = {
            **server_settings(self.data_dir, self.port),
            "archive_mode": "off",  # never into the platform's repository
        }
        present_certificate(self.data_dir, self.certificate)
        log = (self.folder / "postgres.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            postgres_argv(self.data_dir, settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=owner_user(),
            start_new_session=True,
        )
        log.close()

    def log_tail(self, lines: int = 15) -> list[str]:
        try:
            return (self.folder / "postgres.log").read_text().splitlines()[-lines:]
        except OSError:
            return []

    def stopped(self) -> bool:
        return self.process is None or self.process.poll() is not None

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT): nothing of a scratch copy is worth a checkpoint."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_until_paused(url: str, cluster: ScratchCluster) -> None:
    """Replay reaches the target and pauses there (pgBackRest's --target-action=pause)."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    said = "no answer"
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, connect_timeout=2) as connection:
                row = connection.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
            if row and row[0] == "paused":
                return
            said = f"replay is {row[0] if row else 'unknown'}"
        except psycopg.OperationalError as refused:
            said = str(refused).strip()
            if cluster.stopped():
                raise LocalPlatformError(
                    "The scratch cluster stopped during replay:\n" + "\n".join(cluster.log_tail())
                ) from None
        time.sleep(0.2)
    raise LocalPlatformError(
        f"Replay did not reach the target in {REPLAY_WAIT_SECONDS} s ({said}):\n"
        + "\n".join(cluster.log_tail())
    )


# --- the drill ---------------------------------------------------------------------------------
def drill(config: LocalConfig, *, to: datetime | None, progress: Progress) -> DrillReport:
    if supervisor_pid(config) is None:
        raise LocalPlatformError("The local platform is not running; start it with `hp up`.")
    credentials = credentials_of(config)
    superuser = libpq_url(config, credentials, "superuser")
    # The superuser: only it may create a restore point.
    database = make_conninfo(superuser, dbname=DATABASE_NAME)
    backrest = pgbackrest_for(config)
    started = datetime.now(UTC)
    if to is not None and to > started:
        raise InvalidInputError(f"--to {to:%Y-%m-%d %H:%M:%S %Z} is in the future.")
    info = backrest.info()
    if info.latest is None:
        progress("no backup yet: taking a full one first")
        take_backup(config, "full")
        info = backrest.info()
    if to is not None and info.earliest_recovery_time and to < info.earliest_recovery_time:
        raise InvalidInputError(
            f"--to {to:%Y-%m-%d %H:%M:%S %Z} is before the oldest backup"
            f" ({info.earliest_recovery_time:%Y-%m-%d %H:%M:%S %Z})."
        )

    report = DrillReport("local", "latest" if to is None else to.isoformat(), started)
    report.targets = LOCAL_TARGETS
    first_lost = unarchived_commit(config, info.archive_max, superuser)
    report.rpo_seconds = 0.0 if first_lost is None else (started - first_lost).total_seconds()
    report.notes.append(
        "RPO: the oldest commit in the WAL not yet archived at the drill's start"
        f" ({'none' if first_lost is None else first_lost.isoformat()}), read with pg_waldump."
    )

    reference = None
    if to is None:
        name = f"hp-drill-{started:%Y%m%dT%H%M%S%fZ}"
        progress(f"restore point {name}: the reference snapshot")
        reference = reference_at_restore_point(database, name)
        wait_until_archived(superuser, reference.lsn, progress)
        copy_documents(config)  # after the point: every row's bytes are in the copies
        report.notes.append(
            f"Verified against restore point {name}: row counts and checksums from the"
            " snapshot taken while writes were held at that point."
        )
    else:
        # Replay stops at the first commit after the time: make sure the archive has one.
        archive_a_commit(superuser, progress)
        report.notes.append("Restored to a past time: tables counted, no reference to compare.")

    cluster = ScratchCluster(
        config.path("drill", f"{started:%Y%m%dT%H%M%SZ}"),
        free_ports(1)[0],
        certificate_paths(config.path("tls")),
    )
    try:
        clock = time.monotonic()
        progress(f"restoring into a scratch cluster on 127.0.0.1:{cluster.port}")
        restore_into(backrest, cluster, reference.restore_point if reference else None, to)
        cluster.start()
        wait_until_paused(make_conninfo(superuser, port=cluster.port), cluster)
        progress("verifying the restored tables and documents")
        scratch = make_conninfo(database, port=cluster.port)
        verify(report, scratch, reference, config)
        report.rto_seconds = time.monotonic() - clock
    finally:
        progress("removing the scratch cluster")
        cluster.stop()
    return report


def restore_into(
    backrest: PgBackRest, cluster: ScratchCluster, restore_point: str | None, to: datetime | None
) -> None:
    cluster.data_dir.mkdir(parents=True, mode=0o700)
    give_to_cluster_owner(cluster.folder, cluster.data_dir)
    if restore_point is not None:
        target = ["--type=name", f"--target={restore_point}", "--target-action=pause"]
    else:
        target = restore_command(backrest, to)
    backrest.run("restore", f"--pg1-path={cluster.data_dir}", *target)


def verify(
    report: DrillReport, database: str, reference: Reference | None, config: LocalConfig
) -> None:
    with psycopg.connect(database, connect_timeout=5) as connection:
        tables = _tables(connection)
        fingerprints = table_fingerprints(connection, tables)
        version = _schema_version(connection, tables)
        rows = documents_backup.rows_in(connection) if "documents" in tables else []
    for table, (count, checksum) in fingerprints.items():
        expected = reference.fingerprints.get(table) if reference else None
        report.tables.append(
            TableResult(
                table,
                count,
                expected[0] if expected else None,
                None if expected is None else expected[1] == checksum,
            )
        )
    if reference is not None:
        missing = sorted(set(reference.fingerprints) - set(fingerprints))
        report.findings.append(
            Finding(
                "tables",
                not missing,
                "every table restored" if not missing else f"missing: {', '.join(missing)}",
            )
        )
        report.findings.append(
            Finding(
                "schema version",
                version == reference.schema_version,
                f"{version} (the primary's at the point: {reference.schema_version})",
            )
        )
    documents = documents_backup.verify(rows, document_copies(config))
    report.findings.append(
        Finding(
            "documents",
            documents.ok,
            f"{documents.checked} checked by SHA-256"
            + (f"; no copy of {len(documents.missing)}" if documents.missing else "")
            + (f"; {len(documents.different)} differ" if documents.different else ""),
        )
    )
