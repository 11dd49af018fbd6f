"""A database that a schedule stops (EventBridge Scheduler calling RDS's StopDBInstance, as
dev's office hours do): every job that needs it must run while it runs.

A stopped instance takes no automated backup, cannot be snapshotted (AWS Backup's job
fails), cannot be modified, and a rotation function cannot reach it
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html;
CreateDBSnapshot needs an `available` instance). CloudFormation accepts every such template;
the failures come later, at night, one job at a time. RDS's windows and Secrets Manager's
rotation are in UTC, so they must fall inside the running hours at both of the zone's
offsets from UTC (standard and daylight time)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)
from health_platform.office_hours import WEEKDAYS, utc_offsets

_CRON = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) \? \* (\S+) \*\)$")
_DAILY = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
_WEEKLY = re.compile(r"^([a-z]{3}):(\d\d):(\d\d)-([a-z]{3}):(\d\d):(\d\d)$")
DAY = dt.timedelta(days=1)


def _days(field: str) -> set[int] | None:
    """MON-FRI, MON,WED or SUN as weekday numbers (MON is 0), None if not that form."""
    found: set[int] = set()
    for part in field.split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            return None
        low, high = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        found.update(range(low, high + 1))
    return found


def _cron(expression: Any) -> tuple[dt.timedelta, set[int]] | None:
    """(time of day, weekdays) of a weekly cron(M H ? * DAYS *), else None."""
    matched = _CRON.match(literal(expression) or "")
    if not matched:
        return None
    days = _days(matched.group(3))
    if days is None:
        return None
    return dt.timedelta(hours=int(matched.group(2)), minutes=int(matched.group(1))), days


@dataclass(frozen=True)
class Running:
    """When a stopped-by-schedule database runs: from `starts` to `stops` on `days`, on the
    zone's clock."""

    zone: str
    days: set[int]
    starts: dt.timedelta
    stops: dt.timedelta

    def holds(self, day: int, begins: dt.timedelta, length: dt.timedelta) -> bool:
        """Whether a job of `length` from `begins` on `day` (local) falls while it runs."""
        return day in self.days and self.starts <= begins and begins + length <= self.stops

    def holds_utc(self, day: int | None, begins: dt.timedelta, length: dt.timedelta) -> bool:
        """The same for a UTC time (day None: every day), at both of the zone's offsets."""
        for offset in utc_offsets(self.zone):
            shift, local = divmod(begins + offset, DAY)
            days = self.days if day is None else {(day + shift) % 7}
            if not all(self.holds(d, local, length) for d in days):
                return False
        return True

    def describe(self) -> str:
        def clock(at: dt.timedelta) -> str:
            minutes = int(at.total_seconds() // 60)
            return f"{minutes // 60:02d}:{minutes % 60:02d}"

        days = ",".join(WEEKDAYS[d] for d in sorted(self.days))
        return f"{days} {clock(self.starts)}-{clock(self.stops)} {self.zone}"


def _database_of(env: Environment, schedule: Resource) -> Resource | None:
    target = schedule.properties.get("Target", {})
    for pointer in env.pointers_in(schedule.stack, target.get("Input")):
        if pointer.resource.type == "AWS::RDS::DBInstance":
            return pointer.resource
    return None


def _action(schedule: Resource) -> str:
    arn = schedule.properties.get("Target", {}).get("Arn")
    text = literal(arn) or "".join(
        part for part in (arn or {}).get("Fn::Join", ["", []])[1] if isinstance(part, str)
    )
    return text.rsplit(":", 1)[-1]


def _sleeping(env: Environment) -> Iterator[tuple[Resource, Resource, Running | None]]:
    """(the database, its stop schedule, when it runs: None when nothing starts it)."""
    schedules = list(env.resources("AWS::Scheduler::Schedule"))
    starts = {}
    for schedule in schedules:
        database = _database_of(env, schedule)
        if database is not None and _action(schedule) == "startDBInstance":
            starts[database.where] = schedule
    for stop in schedules:
        database = _database_of(env, stop)
        if database is None or _action(stop) != "stopDBInstance":
            continue
        start = starts.get(database.where)
        stopping, starting = _cron(stop.properties.get("ScheduleExpression")), None
        if start is not None:
            starting = _cron(start.properties.get("ScheduleExpression"))
        zone = literal(stop.properties.get("ScheduleExpressionTimezone")) or "UTC"
        if stopping is None or starting is None:
            yield database, stop, None
            continue
        yield database, stop, Running(zone, starting[1] & stopping[1], starting[0], stopping[0])


def _minutes(hours: str, minutes: str) -> dt.timedelta:
    return dt.timedelta(hours=int(hours), minutes=int(minutes))


def _windows(database: Resource, running: Running) -> Iterator[str]:
    backup = _DAILY.match(literal(database.properties.get("PreferredBackupWindow")) or "")
    if backup:
        begins = _minutes(*backup.group(1, 2))
        length = (_minutes(*backup.group(3, 4)) - begins) % DAY
        if not running.holds_utc(None, begins, length):
            yield f"its automated backup window {backup.group(0)} (UTC)"
    else:
        yield "no automated backup window (RDS picks one at random, at night)"
    maintenance = _WEEKLY.match(
        (literal(database.properties.get("PreferredMaintenanceWindow")) or "").lower()
    )
    if maintenance:
        day = [d.lower() for d in WEEKDAYS].index(maintenance.group(1))
        begins = _minutes(*maintenance.group(2, 3))
        ends = dt.timedelta(days=[d.lower() for d in WEEKDAYS].index(maintenance.group(4)))
        length = (ends + _minutes(*maintenance.group(5, 6)) - begins - day * DAY) % (7 * DAY)
        if not running.holds_utc(day, begins, length):
            yield f"its maintenance window {maintenance.group(0)} (UTC)"
    else:
        yield "no maintenance window (RDS picks one at random, at night)"


def _rotations(env: Environment, database: Resource, running: Running) -> Iterator[str]:
    for rotation in env.resources("AWS::SecretsManager::RotationSchedule"):
        attachments = [
            p.resource
            for p in env.pointers_in(rotation.stack, rotation.properties.get("SecretId"))
            if p.resource.type == "AWS::SecretsManager::SecretTargetAttachment"
        ]
        targets = [
            p.resource.where
            for attachment in attachments
            for p in env.pointers_in(attachment.stack, attachment.properties.get("TargetId"))
        ]
        if database.where not in targets:
            continue
        rules = rotation.properties.get("RotationRules", {})
        weekly = _cron(rules.get("ScheduleExpression"))
        duration = literal(rules.get("Duration"))
        if weekly is None:
            yield f"its secret's rotation {literal(rules.get('ScheduleExpression'))} (any hour)"
        elif not all(
            running.holds_utc(day, weekly[0], _rotation_window(weekly[0], duration))
            for day in weekly[1]
        ):
            yield f"its secret's rotation {literal(rules.get('ScheduleExpression'))} (UTC)"
        if rotation.properties.get("RotateImmediatelyOnUpdate") is not False:
            yield "its secret's rotation on every deployment (RotateImmediatelyOnUpdate)"


def _rotation_window(starts: dt.timedelta, duration: str | None) -> dt.timedelta:
    """Secrets Manager's window: Duration hours, or, without one, to the end of the UTC day
    (API_RotationRulesType.html)."""
    if duration:
        return dt.timedelta(hours=int(duration.removesuffix("h")))
    return DAY - starts


def _backups(env: Environment, database: Resource, running: Running) -> Iterator[str]:
    for selection in env.resources("AWS::Backup::BackupSelection"):
        chosen = selection.properties.get("BackupSelection", {}).get("Resources", [])
        if database.where not in {
            p.resource.where for p in env.pointers_in(selection.stack, chosen)
        }:
            continue
        plan = env.follow(selection.stack, selection.properties.get("BackupPlanId"))
        if plan is None:
            continue
        for rule in plan.resource.properties.get("BackupPlan", {}).get("BackupPlanRule", []):
            when = _cron(rule.get("ScheduleExpression"))
            zone = literal(rule.get("ScheduleExpressionTimezone")) or "UTC"
            length = dt.timedelta(
                minutes=int(rule.get("StartWindowMinutes", 480))
                + int(rule.get("CompletionWindowMinutes", 10080))
            )
            if zone not in (running.zone, "UTC"):
                yield f"AWS Backup's rule {rule.get('RuleName')}, timed in another zone ({zone})"
                continue
            holds = running.holds if zone == running.zone else running.holds_utc
            if when is None or not all(holds(day, when[0], length) for day in when[1]):
                yield f"AWS Backup's rule {rule.get('RuleName')} {rule.get('ScheduleExpression')}"


def _stopped_database_jobs(env: Environment) -> Iterator[tuple[Resource, str]]:
    for database, stop, running in _sleeping(env):
        if running is None:
            yield (
                stop,
                f"stops {database.logical_id}, but no weekly schedule of the same form starts"
                " it (cron(M H ? * DAYS *), startDBInstance): RDS starts a stopped instance by"
                " itself only after 7 days",
            )
            continue
        outside = [
            *_windows(database, running),
            *_rotations(env, database, running),
            *_backups(env, database, running),
        ]
        for job in outside:
            yield (
                database,
                f"is stopped outside {running.describe()}, but {job} falls outside those hours"
                " (a stopped instance is not backed up, snapshotted, modified or rotated)",
            )


STOPPED_DATABASE_JOBS = Rule(
    "HP-RDS-STOPPED-JOBS",
    "A database stopped by a schedule is backed up, maintained and rotated while it runs",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html",
    _stopped_database_jobs,
)
