"""`hp logs ENV`: CloudWatch Logs read through moto. Each task has its own log group; lines
come back merged in time order, filtered, windowed, and followed without repeats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from health_platform.errors import InvalidInputError
from health_platform.ops.aws import boto_clients
from health_platform.ops.logs import (
    LOG_TASKS,
    LogLine,
    filter_pattern,
    follow_logs,
    last_log_lines,
    parse_since,
    read_logs,
    tasks_named,
)
from health_platform.settings import EnvironmentSettings, load_environment

REGION = "us-east-1"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def dev(aws: None) -> EnvironmentSettings:
    return load_environment("dev")


def write(task: str, task_id: str, *lines: tuple[timedelta, str]) -> None:
    """`lines` (age, message) into task `task_id`'s stream, creating group and stream."""
    logs = boto3.client("logs", REGION)
    group = f"/aws/ecs/health-platform-dev/{task}"
    stream = f"{task}/{task}/{task_id}"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    if not logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=stream)["logStreams"]:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": int((NOW - age).timestamp() * 1000), "message": message}
            for age, message in lines
        ],
    )


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_lines_of_every_task_merge_in_time_order(dev: EnvironmentSettings) -> None:
    write("backend", "b1", (minutes(50), "backend one"), (minutes(20), "backend three"))
    write("backend", "b2", (minutes(30), "backend two (second task)"))
    write("frontend", "f1", (minutes(40), "frontend one"), (minutes(10), "frontend two"))
    write("migrate", "m1", (minutes(45), "migrated"))

    shown = read_logs(
        dev, boto_clients(), LOG_TASKS, timedelta(hours=1), None, 100, now=lambda: NOW
    )

    assert [line.message for line in shown.lines] == [
        "backend one",
        "migrated",
        "frontend one",
        "backend two (second task)",
        "backend three",
        "frontend two",
    ]
    assert shown.notes == ()
    second = shown.lines[3]
    assert (second.task, second.stream) == ("backend", "backend/backend/b2")
    assert second.timestamp == NOW - minutes(30)
    assert second.render(prefix=True).startswith("backend  ")
    assert second.render(prefix=False).endswith(" backend two (second task)")


def test_since_and_limit_keep_the_newest_lines_of_the_window(dev: EnvironmentSettings) -> None:
    write("backend", "b1", (minutes(120), "too old"), (minutes(50), "a"), (minutes(5), "c"))
    write("frontend", "f1", (minutes(30), "b"), (minutes(1), "d"))
    clients = boto_clients()

    window = read_logs(dev, clients, LOG_TASKS[:2], parse_since("1h"), None, 100, now=lambda: NOW)
    assert [line.message for line in window.lines] == ["a", "b", "c", "d"]

    newest = read_logs(dev, clients, LOG_TASKS[:2], parse_since("1h"), None, 2, now=lambda: NOW)
    assert [line.message for line in newest.lines] == ["c", "d"]


def test_the_filter_matches_the_text_literally(dev: EnvironmentSettings) -> None:
    write(
        "backend",
        "b1",
        (minutes(3), "GET /api/documents 200"),
        (minutes(2), "GET /health 200"),
        (minutes(1), "POST /api/documents 413"),
    )
    shown = read_logs(
        dev, boto_clients(), ("backend",), timedelta(hours=1), "/api/documents", 10, now=lambda: NOW
    )
    assert [line.message for line in shown.lines] == [
        "GET /api/documents 200",
        "POST /api/documents 413",
    ]


def test_a_filter_is_one_quoted_phrase() -> None:
    # Unquoted, CloudWatch reads `a b` as two terms, `-x` as "not x", `{…}` as JSON.
    assert filter_pattern("connection refused") == '"connection refused"'
    assert filter_pattern('said "no" \\ twice') == '"said \\"no\\" \\\\ twice"'


def test_a_group_that_does_not_exist_yet_is_a_note(dev: EnvironmentSettings) -> None:
    write("backend", "b1", (minutes(1), "up"))
    shown = read_logs(dev, boto_clients(), LOG_TASKS, timedelta(hours=1), None, 10, now=lambda: NOW)
    assert [line.message for line in shown.lines] == ["up"]
    assert shown.notes == (
        "/aws/ecs/health-platform-dev/frontend does not exist yet: frontend has not run in dev.",
        "/aws/ecs/health-platform-dev/migrate does not exist yet: migrate has not run in dev.",
    )


def test_follow_yields_new_lines_once_and_stops(dev: EnvironmentSettings) -> None:
    write("backend", "b1", (minutes(10), "before"), (minutes(9), "shown"))
    clients = boto_clients()
    shown = read_logs(dev, clients, LOG_TASKS, timedelta(hours=1), None, 1, now=lambda: NOW)
    assert [line.message for line in shown.lines] == ["shown"]

    arrivals: list[Callable[[], None]] = [
        # A later line of the backend, and the frontend's first (its group appears now).
        lambda: write("backend", "b1", (minutes(8), "new backend")),
        lambda: write("frontend", "f1", (minutes(7), "new frontend")),
    ]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if arrivals:
            arrivals.pop(0)()

    followed = list(
        follow_logs(
            dev, clients, LOG_TASKS, None, after=shown.lines, sleep=sleep, max_polls=4, interval=0.5
        )
    )

    # "before" is older than what was shown; nothing comes twice although each poll reads
    # again a little behind the newest line it has seen.
    assert [line.message for line in followed] == ["new backend", "new frontend"]
    assert sleeps == [0.5, 0.5, 0.5]


def test_follow_stops_when_told(dev: EnvironmentSettings) -> None:
    write("backend", "b1", (minutes(1), "old"))
    polls: list[int] = []

    def stop() -> bool:
        polls.append(1)
        return len(polls) == 2

    followed = list(
        follow_logs(
            dev,
            boto_clients(),
            ("backend",),
            None,
            since=timedelta(minutes=5),
            sleep=lambda _: None,
            stop=stop,
            now=lambda: NOW,
        )
    )
    assert [line.message for line in followed] == ["old"]
    assert len(polls) == 2


def test_last_lines_of_one_task_run(dev: EnvironmentSettings) -> None:
    write("migrate", "abc123", *((minutes(10 - i), f"step {i}") for i in range(5)))
    lines = last_log_lines(boto_clients(), REGION, "dev", "migrate", "abc123", 2)
    assert [line.message for line in lines] == ["step 3", "step 4"]
    assert lines[0] == LogLine(NOW - minutes(7), "migrate", "migrate/migrate/abc123", "step 3")
    # A task that never started has no stream: nothing to show, not an error.
    assert last_log_lines(boto_clients(), REGION, "dev", "migrate", "never", 2) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
    ],
)
def test_since(text: str, expected: timedelta) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "0m", "1.5h", "-1h", "1w", "1 h"])
def test_a_bad_since_is_one_sentence(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^--since takes .* not '.*'\.$"):
        parse_since(text)


def test_services_by_name() -> None:
    assert tasks_named(None) == ("frontend", "backend", "migrate")
    assert tasks_named("migrate") == ("migrate",)
    with pytest.raises(InvalidInputError, match="one of: frontend, backend, migrate"):
        tasks_named("api")
