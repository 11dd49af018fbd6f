"""Are the local backups working? The WAL archive, the scheduled jobs, the newest backup,
and a restore left unpromoted: checks for `hp doctor local`, and the lines under
`hp status local`'s table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from health_platform.checks import Check, guarded
from health_platform.local.backups import (
    ARCHIVE_TIMEOUT_SECONDS,
    DIFFERENTIAL_EVERY,
    failing_jobs,
    pgbackrest_for,
)
from health_platform.local.components import libpq_url
from health_platform.local.config import LocalConfig
from health_platform.local.platform import credentials_of, supervisor_pid

# A backup later than its schedule by this much is late (the schedule looks every minute).
LATE_AFTER = DIFFERENTIAL_EVERY + timedelta(hours=1)
LOGS = "hp logs local supervisor"


def backup_checks(config: LocalConfig, now: datetime | None = None) -> list[Check]:
    moment = now or datetime.now(UTC)
    url = libpq_url(config, credentials_of(config), "superuser")
    checks = guarded("backups", "WAL archive", lambda: [_archive(url)], "hp logs local postgres")
    checks += guarded("backups", "newest backup", lambda: [_newest(config, moment)], LOGS)
    checks += _jobs(config)
    return checks


def _archive(url: str) -> Check:
    with psycopg.connect(url, connect_timeout=3) as connection:
        row = connection.execute(
            "SELECT pg_is_in_recovery(), archived_count, last_archived_time, failed_count,"
            " last_failed_time FROM pg_stat_archiver"
        ).fetchone()
    assert row is not None
    recovering, archived, last_archived, failed, last_failed = row
    if recovering:
        return Check(
            "backups",
            "WAL archive",
            "warn",
            "paused: the database is restored and read-only until promoted",
            "hp restore local --promote",
        )
    if last_failed and (last_archived is None or last_failed > last_archived):
        return Check(
            "backups",
            "WAL archive",
            "fail",
            f"failing: {failed} failed attempt(s), the last at {last_failed:%Y-%m-%d %H:%M:%S %Z}",
            "hp logs local postgres (pgBackRest's reason is in its archive-push lines)",
        )
    if not archived:
        return Check(
            "backups",
            "WAL archive",
            "warn",
            f"no segment archived yet (one is, at least every {ARCHIVE_TIMEOUT_SECONDS} s"
            " while there are writes)",
            "wait, then run `hp doctor local` again",
        )
    return Check(
        "backups",
        "WAL archive",
        "pass",
        f"{archived} segment(s) archived, the last at {last_archived:%Y-%m-%d %H:%M:%S %Z}",
    )


def _newest(config: LocalConfig, now: datetime) -> Check:
    info = pgbackrest_for(config).info()
    newest = info.latest
    if newest is None:
        return Check(
            "backups",
            "newest backup",
            "warn",
            f"none yet ({info.status}); the first full backup starts right after `hp up`",
            "hp backup local",
        )
    age = now - newest.stopped
    detail = f"{newest.kind} {newest.label}, {_age(age)} ago, in {config.backups_dir}"
    if age > LATE_AFTER:
        return Check("backups", "newest backup", "warn", detail + " (late)", "hp backup local")
    return Check("backups", "newest backup", "pass", detail)


# pgBackRest's words when the repository holds another cluster's backups: the data folder
# was lost or deleted, and `hp up` made a new, empty cluster in its place.
ANOTHER_CLUSTER = "do not match the database"


def _jobs(config: LocalConfig) -> list[Check]:
    return [
        Check(
            "backups",
            f"{job} job",
            "fail",
            reason,
            "the backups are of the cluster this one replaced: `hp restore local --to latest"
            " --yes` brings it back (or `hp reset local --yes --delete-backups` starts over)"
            if ANOTHER_CLUSTER in reason
            else LOGS,
        )
        for job, reason in failing_jobs(config).items()
    ]


def _age(age: timedelta) -> str:
    minutes = age.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def backup_summary(config: LocalConfig) -> list[Check]:
    """The backup checks for `hp status local`; none when the platform is not running."""
    return backup_checks(config) if supervisor_pid(config) is not None else []
