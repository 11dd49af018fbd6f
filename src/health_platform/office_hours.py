"""Office hours: an environment that runs only in its team's working week (dev's cost option).

Outside the hours the database is stopped (EventBridge Scheduler calls RDS's StopDBInstance,
and StartDBInstance before the day begins) and the services run no task (scheduled scaling
to zero). A stopped instance takes no automated backup, AWS Backup cannot snapshot it, a
rotation cannot reach it and RDS cannot modify it
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html), so every job
that needs the database is placed inside the hours, one after another:

    start - 30 min   the database starts (it takes minutes; the tasks come after)
    start            the tasks start
    + 0:30 .. 1:30   RDS's automated backup window (UTC)
    + 2:00 .. 3:00   RDS's maintenance window, on the week's first office day (UTC)
    + 4:00           AWS Backup's job on office days (the zone's own clock), done within 3 h
    + 5:00 .. 7:00   the master secret's rotation window, on the first office day (UTC)
    stop             the tasks stop
    stop + 15 min    the database stops

RDS and Secrets Manager take their windows in UTC, so those are placed by the zone's
smallest offset from UTC and must still end before `stop` at its largest (daylight saving
time): office hours must be long enough for both. AWS Backup's recovery points are kept over
the longest gap between office days (a weekend), so one always exists.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
WEEKDAYS: tuple[Weekday, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

DATABASE_LEAD = dt.timedelta(minutes=30)  # the database starts this long before the tasks
DATABASE_LAG = dt.timedelta(minutes=15)  # and stops this long after them

# Jobs inside the hours: (offset from start, length), as the module's docstring lays out.
BACKUP_WINDOW = (dt.timedelta(minutes=30), dt.timedelta(hours=1))
MAINTENANCE_WINDOW = (dt.timedelta(hours=2), dt.timedelta(hours=1))
AWS_BACKUP_START = dt.timedelta(hours=4)
AWS_BACKUP_START_WINDOW = dt.timedelta(hours=1)
AWS_BACKUP_COMPLETION_WINDOW = dt.timedelta(hours=2)
ROTATION_WINDOW = (dt.timedelta(hours=5), dt.timedelta(hours=2))

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock(value: object) -> str:
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 07:00 as a number (sexagesimal)
        raise ValueError(f"{value} is not a time: write it in quotes, e.g. '07:00'")
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError(f"{value!r} is not a time of day as HH:MM (24-hour clock)")
    return value


def _zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/New_York)") from None
    return value


Clock = Annotated[object, AfterValidator(_clock)]


def _parse(clock: str) -> dt.timedelta:
    hours, minutes = clock.split(":")
    return dt.timedelta(hours=int(hours), minutes=int(minutes))


def _hhmm(since_midnight: dt.timedelta) -> str:
    minutes = int(since_midnight.total_seconds() // 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@functools.cache
def utc_offsets(zone: str) -> tuple[dt.timedelta, dt.timedelta]:
    """The zone's smallest and largest offset from UTC over this year and the next."""
    tz = zoneinfo.ZoneInfo(zone)
    first = dt.date(dt.date.today().year, 1, 1)
    offsets = {
        dt.datetime.combine(first + dt.timedelta(days=n), dt.time(12), tz).utcoffset()
        for n in range(2 * 366)
    }
    known = [offset for offset in offsets if offset is not None]
    return min(known), max(known)


class OfficeHours(BaseModel):
    """When an environment runs: its days and hours in its team's time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: Annotated[str, AfterValidator(_zone)]
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)]
    start: Clock
    stop: Clock

    # --- the day's plan ---------------------------------------------------------------

    @property
    def opens(self) -> dt.timedelta:
        return _parse(str(self.start))

    @property
    def closes(self) -> dt.timedelta:
        return _parse(str(self.stop))

    @property
    def ordered_days(self) -> list[Weekday]:
        return [day for day in WEEKDAYS if day in self.days]

    @property
    def first_day(self) -> Weekday:
        return self.ordered_days[0]

    def cron_fields(self, at: dt.timedelta) -> tuple[str, str, str]:
        """Minute, hour and days of week of `at` past midnight on each office day."""
        minutes = int(at.total_seconds() // 60)
        return str(minutes % 60), str(minutes // 60), ",".join(self.ordered_days)

    def cron(self, at: dt.timedelta) -> str:
        """Six-field cron (EventBridge Scheduler, Application Auto Scaling, AWS Backup) for
        `at` past midnight on each office day, in the zone's own clock."""
        minute, hour, days = self.cron_fields(at)
        return f"{minute} {hour} ? * {days} *"

    @property
    def daylight_shift(self) -> dt.timedelta:
        """How far a UTC time moves on the zone's clock between its offsets (DST)."""
        smallest, largest = utc_offsets(self.time_zone)
        return largest - smallest

    def _utc(self, local: dt.timedelta) -> dt.timedelta:
        """A local time as UTC by the zone's smallest offset: the earliest it falls locally."""
        smallest, _ = utc_offsets(self.time_zone)
        return local - smallest

    def utc_daily_window(self, job: tuple[dt.timedelta, dt.timedelta]) -> str:
        """RDS's PreferredBackupWindow / ElastiCache's SnapshotWindow form: HH:MM-HH:MM."""
        offset, length = job
        begins = self._utc(self.opens + offset)
        return f"{_hhmm(begins)}-{_hhmm(begins + length)}"

    def _utc_on_first_day(self, offset: dt.timedelta) -> dt.datetime:
        """`offset` past the start of the week's first office day, as a UTC date and time (a
        day of 2024's first week) by the zone's smallest offset."""
        monday = dt.datetime(2024, 1, 1)
        local = monday + dt.timedelta(days=WEEKDAYS.index(self.first_day)) + self.opens + offset
        return local - utc_offsets(self.time_zone)[0]

    def utc_weekly_window(self, job: tuple[dt.timedelta, dt.timedelta]) -> str:
        """RDS's PreferredMaintenanceWindow form, on the first office day: ddd:HH:MM-ddd:HH:MM."""
        offset, length = job
        begins = self._utc_on_first_day(offset)
        return "-".join(
            f"{at.strftime('%a').lower()}:{at.strftime('%H:%M')}"
            for at in (begins, begins + length)
        )

    def _rotation_start(self) -> dt.datetime:
        begins = self._utc_on_first_day(ROTATION_WINDOW[0])
        return begins + dt.timedelta(minutes=(60 - begins.minute) % 60)

    def rotation_rules(self) -> tuple[str, str]:
        """Secrets Manager's ScheduleExpression (UTC, on the hour) and Duration: the window
        of the week's first office day."""
        begins = self._rotation_start()
        hours = math.ceil(ROTATION_WINDOW[1].total_seconds() / 3600)
        return f"cron(0 {begins.hour} ? * {WEEKDAYS[begins.weekday()]} *)", f"{hours}h"

    # --- what the hours must hold ------------------------------------------------------

    @property
    def needed(self) -> dt.timedelta:
        """How long the hours must be for every job to end before `stop`, in either offset."""
        rotation_rounding = dt.timedelta(hours=1)  # its start is put on the hour
        utc_jobs = max(
            sum(BACKUP_WINDOW, dt.timedelta()),
            sum(MAINTENANCE_WINDOW, dt.timedelta()),
            sum(ROTATION_WINDOW, dt.timedelta()) + rotation_rounding,
        )
        local_jobs = AWS_BACKUP_START + AWS_BACKUP_START_WINDOW + AWS_BACKUP_COMPLETION_WINDOW
        return max(utc_jobs + self.daylight_shift, local_jobs)

    def problems(self) -> list[tuple[str, str]]:
        """(key, message) for each way these hours cannot hold the plan above."""
        found: list[tuple[str, str]] = []
        lead, lag = (int(delta.total_seconds() // 60) for delta in (DATABASE_LEAD, DATABASE_LAG))
        if self.opens < DATABASE_LEAD:
            message = f"{self.start} leaves no time to start the database {lead} min before"
            found.append(("start", message))
        if self.closes + DATABASE_LAG >= dt.timedelta(days=1):
            message = f"{self.stop} leaves no time to stop the database {lag} min after, that day"
            found.append(("stop", message))
        length = self.closes - self.opens
        if length < self.needed:
            message = (
                f"office hours of {_hhmm(length)} are too short: the backups, the maintenance"
                " window and the secret's rotation need the database for"
                f" {_hhmm(self.needed)} (with this zone's daylight saving time)"
            )
            found.append(("stop", message))
        elif self._rotation_start().hour + ROTATION_WINDOW[1].total_seconds() / 3600 > 24:
            # Secrets Manager: "The window must not extend into the next UTC day".
            found.append(("start", f"{self.start} puts the secret's rotation window across"
                                   " midnight UTC, which Secrets Manager refuses"))  # fmt: skip
        return found

    def database_runs_at(self, moment: dt.datetime) -> bool:
        """Whether the schedule keeps the database running at `moment` (an aware time)."""
        local = moment.astimezone(zoneinfo.ZoneInfo(self.time_zone))
        since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            WEEKDAYS[local.weekday()] in self.days
            and self.opens - DATABASE_LEAD <= since_midnight < self.closes + DATABASE_LAG
        )

    @property
    def longest_gap_days(self) -> int:
        """The most days from one office day to the next (MON-FRI: 3, Friday to Monday)."""
        days = [WEEKDAYS.index(day) for day in self.ordered_days]
        following = [*days[1:], days[0] + 7]
        return max(later - earlier for earlier, later in zip(days, following, strict=True))

    def recovery_point_days(self, retention_days: int) -> int:
        """How long AWS Backup keeps a recovery point taken on office days only: the
        environment's retention, or over the longest gap and a day, whichever is longer."""
        return max(retention_days, self.longest_gap_days + 1)

    def running_share(self, *, database: bool) -> float:
        """The share of a week the tasks (or the database, which starts earlier and stops
        later) run."""
        day = (
            self.closes
            - self.opens
            + ((DATABASE_LEAD + DATABASE_LAG) if database else dt.timedelta())
        )
        return len(self.days) * day.total_seconds() / dt.timedelta(weeks=1).total_seconds()

    def describe(self) -> str:
        """MON-FRI 07:00-19:00 America/New_York."""
        days = self.ordered_days
        first, last = WEEKDAYS.index(days[0]), WEEKDAYS.index(days[-1])
        span = (
            f"{days[0]}-{days[-1]}"
            if len(days) > 2 and last - first + 1 == len(days)
            else ",".join(days)
        )
        return f"{span} {self.start}-{self.stop} {self.time_zone}"
