"""Office hours: every job that needs the database falls inside the hours on the zone's
clock, in winter and in summer, wherever the zone is."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from health_platform.office_hours import (
    AWS_BACKUP_COMPLETION_WINDOW,
    AWS_BACKUP_START,
    AWS_BACKUP_START_WINDOW,
    BACKUP_WINDOW,
    DATABASE_LAG,
    DATABASE_LEAD,
    MAINTENANCE_WINDOW,
    WEEKDAYS,
    OfficeHours,
)

WORKING_WEEK = ["MON", "TUE", "WED", "THU", "FRI"]
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC")
SEASONS = (dt.date(2026, 1, 14), dt.date(2026, 7, 15))  # a Wednesday in each


def _hours(zone: str, start: str = "07:00", stop: str = "19:00") -> OfficeHours:
    return OfficeHours(time_zone=zone, days=WORKING_WEEK, start=start, stop=stop)


def _local(utc_clock: str, day: dt.date, zone: str) -> dt.datetime:
    hour, minute = map(int, utc_clock.split(":"))
    at = dt.datetime.combine(day, dt.time(hour, minute), dt.UTC)
    return at.astimezone(zoneinfo.ZoneInfo(zone))


def _inside(hours: OfficeHours, begins: dt.datetime, ends: dt.datetime) -> bool:
    opens = dt.datetime.combine(begins.date(), dt.time()) + hours.opens
    closes = dt.datetime.combine(begins.date(), dt.time()) + hours.closes
    naive = begins.replace(tzinfo=None), ends.replace(tzinfo=None)
    return opens <= naive[0] and naive[1] <= closes


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("season", SEASONS)
def test_the_utc_backup_window_falls_inside_the_hours_in_every_season(
    zone: str, season: dt.date
) -> None:
    hours = _hours(zone)
    assert not hours.problems()
    first, last = hours.utc_daily_window(BACKUP_WINDOW).split("-")
    begins = _local(first, season, zone)
    ends = begins + BACKUP_WINDOW[1]
    assert _local(last, season, zone).time() == ends.time()
    assert _inside(hours, begins, ends), (zone, season, begins, ends)


def _in_week_of(monday: dt.date, day: str, utc_clock: str, zone: str) -> dt.datetime:
    """A weekly UTC time on the zone's clock, in the local week that starts on `monday` (the
    UTC day may be the Sunday before, in a zone ahead of UTC)."""
    for weeks in (0, 1):
        utc_day = monday + dt.timedelta(days=WEEKDAYS.index(day.upper()) + 7 * weeks)
        at = _local(utc_clock, utc_day, zone)
        if at.date() >= monday:
            return at
    raise AssertionError("unreachable")


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("season", SEASONS)
def test_maintenance_and_rotation_fall_on_the_first_office_day_inside_the_hours(
    zone: str, season: dt.date
) -> None:
    hours = _hours(zone)
    monday = season - dt.timedelta(days=season.weekday())
    day, clock = hours.utc_weekly_window(MAINTENANCE_WINDOW).split("-")[0].split(":", 1)
    maintenance = _in_week_of(monday, day, clock, zone)
    assert maintenance.strftime("%a").upper() == "MON"
    assert _inside(hours, maintenance, maintenance + MAINTENANCE_WINDOW[1]), (zone, season)
    expression, duration = hours.rotation_rules()
    assert duration == "2h"
    minute, hour, _, _, weekday, _ = expression.removeprefix("cron(").removesuffix(")").split()
    assert minute == "0"
    assert int(hour) + 2 <= 24  # "must not extend into the next UTC day"
    rotation = _in_week_of(monday, weekday, f"{hour}:00", zone)
    assert rotation.strftime("%a").upper() == "MON"
    assert _inside(hours, rotation, rotation + dt.timedelta(hours=2)), (zone, season)


def test_aws_backup_runs_by_the_zones_own_clock_and_ends_before_the_stop() -> None:
    hours = _hours("America/New_York")
    assert hours.cron(hours.opens + AWS_BACKUP_START) == "0 11 ? * MON,TUE,WED,THU,FRI *"
    latest = hours.opens + AWS_BACKUP_START + AWS_BACKUP_START_WINDOW
    assert latest + AWS_BACKUP_COMPLETION_WINDOW <= hours.closes


def test_the_database_starts_before_the_tasks_and_stops_after_them() -> None:
    hours = _hours("Europe/Berlin", "08:00", "18:00")
    assert hours.cron(hours.opens - DATABASE_LEAD) == "30 7 ? * MON,TUE,WED,THU,FRI *"
    assert hours.cron(hours.closes + DATABASE_LAG) == "15 18 ? * MON,TUE,WED,THU,FRI *"


def test_the_running_share_of_a_week() -> None:
    hours = _hours("America/New_York")
    assert hours.running_share(database=False) == pytest.approx(5 * 12 / 168)
    assert hours.running_share(database=True) == pytest.approx(5 * 12.75 / 168)


def test_days_are_described_as_a_span_or_a_list() -> None:
    assert _hours("UTC").describe() == "MON-FRI 07:00-19:00 UTC"
    odd = OfficeHours(time_zone="UTC", days=["WED", "MON"], start="07:00", stop="19:00")
    assert odd.describe() == "MON,WED 07:00-19:00 UTC"
    assert odd.cron(odd.opens) == "0 7 ? * MON,WED *"


def test_the_database_runs_from_half_an_hour_before_to_a_quarter_after_on_office_days() -> None:
    hours = _hours("America/New_York")
    new_york = zoneinfo.ZoneInfo("America/New_York")

    def at(day: int, clock: str) -> bool:  # day 0: Monday 2026-11-30
        hour, minute = map(int, clock.split(":"))
        local = dt.datetime(2026, 11, 30, hour, minute, tzinfo=new_york)
        return hours.database_runs_at(local + dt.timedelta(days=day))

    assert not at(0, "06:29") and at(0, "06:30") and at(0, "19:14") and not at(0, "19:15")
    assert not at(5, "12:00")  # Saturday
    assert hours.database_runs_at(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC))  # 12:00 local


def test_recovery_points_outlast_the_longest_gap_between_office_days() -> None:
    week = _hours("UTC")
    assert week.longest_gap_days == 3  # Friday to Monday
    assert week.recovery_point_days(1) == 4 and week.recovery_point_days(7) == 7
    odd = OfficeHours(time_zone="UTC", days=["TUE", "THU"], start="07:00", stop="19:00")
    assert odd.longest_gap_days == 5  # Thursday to Tuesday
