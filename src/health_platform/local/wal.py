"""The WAL as the local backups see it: segment names and LSNs, the commits pg_waldump
reads, and waiting until a point has reached pgBackRest's archive."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from health_platform.errors import LocalPlatformError
from health_platform.local.config import LocalConfig
from health_platform.local.pgbackrest import lsn_of
from health_platform.local.postgres import as_owner, postgres_bin

ARCHIVE_WAIT_SECONDS = 120  # for a segment to reach the archive
COMMIT = re.compile(r"desc: COMMIT (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC")

Progress = Callable[[str], None]


def segment_end_lsn(segment: str, segment_bytes: int) -> tuple[int, int]:
    """The timeline of a WAL segment's name and the LSN where the segment ends."""
    timeline, log, number = int(segment[:8], 16), int(segment[8:16], 16), int(segment[16:24], 16)
    per_log = 0x100000000 // segment_bytes
    return timeline, (log * per_log + number + 1) * segment_bytes


def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def oldest_commit(waldump_output: str) -> datetime | None:
    times = [
        datetime.fromisoformat(found).replace(tzinfo=UTC)
        for found in COMMIT.findall(waldump_output)
    ]
    return min(times) if times else None


def archive_a_commit(superuser: str, progress: Progress) -> None:
    """Commit a transaction (it writes nothing but its commit record, timestamped now) and
    wait until it is archived: PostgreSQL stops a replay to a time at the first commit
    after it, and fails the recovery when the archive ends before one."""
    with psycopg.connect(superuser, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute("SELECT txid_current(), pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    wait_until_archived(superuser, lsn_of(str(row[1])), progress)


def wait_until_archived(superuser: str, lsn: int, progress: Progress) -> None:
    """Switch WAL and wait until the segment holding `lsn` is in the archive."""
    with psycopg.connect(superuser, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT pg_walfile_name(%s::pg_lsn), pg_switch_wal()", (lsn_text(lsn),)
        ).fetchone()
        assert row is not None
        segment = str(row[0])
        progress(f"waiting for WAL segment {segment} to reach the archive")
        deadline = time.monotonic() + ARCHIVE_WAIT_SECONDS
        while True:
            archived = connection.execute(
                "SELECT last_archived_wal FROM pg_stat_archiver"
            ).fetchone()
            last = str(archived[0]) if archived and archived[0] else ""
            # A .backup or .partial name counts by its segment; a timeline's history does not.
            if not last.endswith(".history") and last[:24] >= segment:
                return
            if time.monotonic() > deadline:
                raise LocalPlatformError(
                    f"WAL segment {segment} was not archived in {ARCHIVE_WAIT_SECONDS} s;"
                    " see `hp doctor local`."
                )
            time.sleep(0.2)


def unarchived_commit(
    config: LocalConfig, archive_max: str | None, primary: str
) -> datetime | None:
    """The oldest commit in the WAL the archive does not have yet, if any."""
    with psycopg.connect(primary, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT pg_current_wal_lsn()::text,"
            " (SELECT setting::int FROM pg_settings WHERE name = 'wal_segment_size')"
        ).fetchone()
    assert row is not None
    current, segment_bytes = lsn_of(str(row[0])), int(str(row[1]))
    if archive_max is None:
        raise LocalPlatformError(
            "The WAL archive is empty; is archiving working? See `hp doctor local`."
        )
    timeline, archived_to = segment_end_lsn(archive_max, segment_bytes)
    if current <= archived_to:
        return None
    dumped = subprocess.run(  # noqa: S603
        as_owner(
            [
                postgres_bin("pg_waldump"),
                f"--path={config.path('postgres', 'data', 'pg_wal')}",
                f"--timeline={timeline}",
                f"--start={lsn_text(archived_to)}",
                f"--end={lsn_text(current)}",
                "--rmgr=Transaction",
            ]
        ),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TZ": "UTC"},  # it prints commit times in its own time zone
    )
    if dumped.returncode != 0:
        raise LocalPlatformError(
            f"pg_waldump could not read the unarchived WAL: {dumped.stderr.strip()}"
        )
    return oldest_commit(dumped.stdout)
