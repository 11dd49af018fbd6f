"""`hp logs ENV [SERVICE]`: the tasks' CloudWatch log lines, merged in time order, and new
ones as they arrive (`-f`).

Each task (the two services and the migration) writes to its own log group, one stream per
task run (naming.task_log_group, naming.task_log_stream).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from health_platform.contract import MIGRATION, SERVICES
from health_platform.errors import InvalidInputError
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code
from health_platform.settings import EnvironmentSettings

# What `hp logs ENV SERVICE` accepts, and what it reads without one.
LOG_TASKS = (*SERVICES, MIGRATION)
POLL_SECONDS = 2.0
# A poll reads again this far behind the newest line it has seen: awslogs sends each task's
# lines in batches, so one stream's line can arrive after a later line of another stream.
# What was already shown is recognised by its event id.
LATE_ARRIVAL = timedelta(seconds=15)

_SINCE = re.compile(r"^([1-9][0-9]*)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_TASK_WIDTH = max(map(len, LOG_TASKS))

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime  # when the task wrote it (UTC)
    task: str  # frontend, backend or migrate
    stream: str  # the log stream: one per task run
    message: str
    event_id: str = ""  # CloudWatch's id of the event; what `follow_logs` de-duplicates by

    def render(self, prefix: bool) -> str:
        """One line for the terminal; `prefix` names the task (when several are shown)."""
        moment = self.timestamp.strftime("%Y-%m-%d %H:%M:%S")
        if prefix:
            return f"{self.task:<{_TASK_WIDTH}} {moment} {self.message}"
        return f"{moment} {self.message}"


@dataclass(frozen=True)
class Logs:
    lines: tuple[LogLine, ...]  # oldest first
    notes: tuple[str, ...]  # what could not be read, said for the user (a missing group)


def tasks_named(service: str | None) -> tuple[str, ...]:
    """The tasks whose logs `hp logs ENV [SERVICE]` reads: SERVICE, or all of them."""
    if service is None:
        return LOG_TASKS
    if service not in LOG_TASKS:
        raise InvalidInputError(f"No service {service!r} on AWS; one of: {', '.join(LOG_TASKS)}.")
    return (service,)


def parse_since(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `2d` as a timedelta."""
    matched = _SINCE.match(text.strip())
    if not matched:
        raise InvalidInputError(
            f"--since takes a whole number and a unit (s, m, h or d), such as 30m, 1h or 2d,"
            f" not {text!r}."
        )
    amount, unit = matched.groups()
    return timedelta(**{_UNITS[unit]: int(amount)})


def filter_pattern(text: str) -> str:
    """CloudWatch's filter pattern matching `text` literally: a quoted phrase, its inner
    backslashes and double quotes escaped (as aws-cdk's FilterPattern quotes its terms).
    Unquoted, `a b` would mean "a and b anywhere", `-a` "not a", `{...}` a JSON pattern."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_logs(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    tasks: Sequence[str],
    since: timedelta,
    filter_text: str | None,
    limit: int,
    *,
    now: Clock = _utcnow,
) -> Logs:
    """The newest `limit` lines of `tasks` written in the last `since`, oldest first (as
    `tail` would show them), that contain `filter_text` if given. A task whose log group
    does not exist yet (never deployed or never run) gives a note instead of lines."""
    if limit < 1:
        raise InvalidInputError(f"Ask for at least one line (--lines), not {limit}.")
    env = settings.name
    logs = clients("logs", settings.region)
    start = _millis(now() - since)
    newest: list[LogLine] = []
    notes: list[str] = []
    with aws_errors(f"read {env}'s logs"):
        for task in tasks:
            try:
                # Each group's newest lines; among them, the newest of all the groups.
                newest.extend(deque(_events(logs, env, task, start, filter_text), maxlen=limit))
            except ClientError as missing:
                if error_code(missing) != "ResourceNotFoundException":
                    raise
                notes.append(_no_group(env, task))
    merged = sorted(newest, key=_order)
    return Logs(tuple(merged[max(len(merged) - limit, 0) :]), tuple(notes))


def follow_logs(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    tasks: Sequence[str],
    filter_text: str | None,
    *,
    after: Sequence[LogLine] = (),
    since: timedelta = timedelta(0),
    sleep: Callable[[float], None] = time.sleep,
    stop: Callable[[], bool] | None = None,
    max_polls: int | None = None,
    now: Clock = _utcnow,
    interval: float = POLL_SECONDS,
) -> Iterator[LogLine]:
    """New lines of `tasks` as they arrive, each once, in time order within a poll: lines
    newer than the last of `after` (what is already shown), or than `since` ago without
    any. Polls every `interval` until `stop()` says so or `max_polls` polls were made
    (neither: until the caller stops iterating, e.g. on Ctrl-C). A group that does not
    exist yet is polled too, and read once it appears."""
    env = settings.name
    logs = clients("logs", settings.region)
    floor = max(_millis(line.timestamp) for line in after) if after else _millis(now() - since)
    newest = dict.fromkeys(tasks, floor)
    seen: dict[str, int] = {line.event_id: _millis(line.timestamp) for line in after}
    polls = 0
    while True:
        fresh: list[LogLine] = []
        with aws_errors(f"read {env}'s logs"):
            for task in tasks:
                begin = max(floor, newest[task] - _millis_of(LATE_ARRIVAL))
                try:
                    for line in _events(logs, env, task, begin, filter_text):
                        if line.event_id not in seen:
                            seen[line.event_id] = _millis(line.timestamp)
                            fresh.append(line)
                            newest[task] = max(newest[task], _millis(line.timestamp))
                except ClientError as missing:
                    if error_code(missing) != "ResourceNotFoundException":
                        raise
        yield from sorted(fresh, key=_order)
        # Only ids a later poll can read again are worth remembering.
        oldest = min(newest.values(), default=floor) - _millis_of(LATE_ARRIVAL)
        seen = {event: stamp for event, stamp in seen.items() if stamp >= oldest}
        polls += 1
        if (max_polls is not None and polls >= max_polls) or (stop is not None and stop()):
            return
        sleep(interval)


def last_log_lines(
    clients: ClientFactory, region: str, env: str, task: str, task_id: str, count: int
) -> list[LogLine]:
    """The last `count` lines of one task run's stream, oldest first: what a failed
    migration or release said last; none if the stream never appeared (the task never
    started: its image or a secret could not be fetched)."""
    logs = clients("logs", region)
    stream = naming.task_log_stream(task, task_id)
    with aws_errors(f"read the log of {task} task {task_id}"):
        try:
            events = logs.get_log_events(
                logGroupName=naming.task_log_group(env, task),
                logStreamName=stream,
                limit=count,
                startFromHead=False,
            )["events"]
        except ClientError as missing:
            if error_code(missing) != "ResourceNotFoundException":
                raise
            return []
    return [
        LogLine(_moment(event["timestamp"]), task, stream, event["message"].rstrip("\n"))
        for event in events
    ]


def _events(
    logs: Any, env: str, task: str, start: int, filter_text: str | None
) -> Iterable[LogLine]:
    request: dict[str, Any] = {"logGroupName": naming.task_log_group(env, task), "startTime": start}
    if filter_text:
        request["filterPattern"] = filter_pattern(filter_text)
    for page in logs.get_paginator("filter_log_events").paginate(**request):
        for event in page.get("events", []):
            yield LogLine(
                _moment(event["timestamp"]),
                task,
                event.get("logStreamName", ""),
                event["message"].rstrip("\n"),
                event.get("eventId", ""),
            )


def _no_group(env: str, task: str) -> str:
    return f"{naming.task_log_group(env, task)} does not exist yet: {task} has not run in {env}."


def _order(line: LogLine) -> tuple[datetime, str, str, str]:
    return (line.timestamp, line.task, line.stream, line.event_id)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _millis_of(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _moment(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)
