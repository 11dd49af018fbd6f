"""The day-2 commands as a person types them: `health_platform.cli.main([...])`, its exit
code and what it prints on stdout and stderr, against moto, with AWS's answers (`answer()`,
botocore's Stubber) where moto has none. The operations behind them are tested on their own
in test_logs, test_doctor_aws, test_drift, test_secrets, test_backup and test_migrate; here
it is the command: its arguments, its exit code, its words, and what it must never print."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import boto3
import pytest

from health_platform.cli import main
from health_platform.contract import CREATE_ADMIN_COMMAND, MIGRATION
from health_platform.errors import ExitCode
from health_platform.ops import deploy
from health_platform.settings import load_environment
from tests.integration import deployed
from tests.integration.aws_answers import Account, answer, error, tasks_that_stop
from tests.integration.test_backup import create_database
from tests.integration.test_doctor_aws import GIB, Dev, healthy_dev
from tests.integration.test_drift import DEV_STACKS, database_drift, detection_id, stack_id
from tests.integration.test_drift import NOW as DRIFT_TIME
from tests.integration.test_logs import NOW as LOGS_TIME
from tests.integration.test_logs import minutes, write
from tests.integration.test_secrets import (
    NEW_SESSION_SECRET,
    OLD_SESSION_SECRET,
    OLD_TOKEN,
    PARAMETER,
    READS_A_VALUE,
    Clients,
    deploy_data_stack,
    expect_restart,
)

REGION = deployed.REGION
DATABASE = "health-platform-dev-db"


# --- how a command is run and judged ---------------------------------------------------------


def hp(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`hp ARGV`: the exit code, stdout and stderr."""
    capsys.readouterr()  # what the arrangement printed is not the command's
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_sentence(err: str) -> str:
    """stderr is one line, `error: ` and a sentence, and no traceback; the sentence."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and lines[0].endswith("."), err
    assert "Traceback" not in err
    return lines[0].removeprefix("error: ")


def uses(monkeypatch: pytest.MonkeyPatch, clients: Callable[[str, str], Any]) -> None:
    """The commands' AWS clients are `clients` (the seam the CLI keeps for tests)."""
    monkeypatch.setattr("health_platform.cli.common.clients_of", lambda session: clients)


def piped(monkeypatch: pytest.MonkeyPatch, text: str) -> io.StringIO:
    """Standard input is a pipe holding `text` (`echo … | hp …`)."""
    stdin = io.StringIO(text)
    monkeypatch.setattr(sys, "stdin", stdin)
    return stdin


@pytest.fixture
def account(aws: None, monkeypatch: pytest.MonkeyPatch) -> Account:
    """An account the commands talk to; nothing deployed in it yet."""
    made = Account()
    uses(monkeypatch, made)
    return made


# --- hp logs ---------------------------------------------------------------------------------


def test_logs_of_one_service_since_30m_with_a_filter_prints_the_matching_lines_only(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        "backend",
        "b1",
        (minutes(45), "GET /api/documents 200 (before the window)"),
        (minutes(10), "GET /api/documents 200"),
        (minutes(5), "GET /health 200"),
    )
    write("backend", "b2", (minutes(2), "POST /api/documents 413"))
    write("frontend", "f1", (minutes(3), "GET /api/documents proxied"))  # another service

    code, out, err = hp(
        capsys, "logs", "dev", "backend", "--since", "30m", "--filter", "/api/documents"
    )

    assert code == ExitCode.OK, err
    assert out.splitlines() == [
        f"{LOGS_TIME - minutes(10):%Y-%m-%d %H:%M:%S} GET /api/documents 200",
        f"{LOGS_TIME - minutes(2):%Y-%m-%d %H:%M:%S} POST /api/documents 413",
    ]
    assert err == ""
    (read,) = account.params_of("logs", "FilterLogEvents")
    assert read["logGroupName"] == "/aws/ecs/health-platform-dev/backend"
    assert read["filterPattern"] == '"/api/documents"'


def test_logs_of_every_task_name_the_task_and_say_which_have_not_run(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    write("backend", "b1", (minutes(1), "started"))

    code, out, err = hp(capsys, "logs", "dev")

    assert code == ExitCode.OK
    (line,) = out.splitlines()
    assert line.startswith("backend  ") and line.endswith(" started")
    assert err.splitlines() == [
        "/aws/ecs/health-platform-dev/frontend does not exist yet: frontend has not run in dev.",
        "/aws/ecs/health-platform-dev/migrate does not exist yet: migrate has not run in dev.",
    ]


def test_a_long_log_line_stays_one_line(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    message = json.dumps(
        {
            "level": "info",
            "event": "request",
            "method": "GET",
            "path": "/api/documents/0b6f1c5e-3d1a-4c59-9a55-2f4b8e7d1c3a/versions",
            "status": 200,
            "duration_ms": 12.5,
            "request_id": "5f0c2a9e-8b7d-4e1f-a3c6-9d2b7e4f1a08",
        }
    )
    assert len(message) > 200
    write("backend", "b1", (minutes(1), message))

    code, out, _ = hp(capsys, "logs", "dev", "backend")

    assert code == ExitCode.OK
    assert len(out.splitlines()) == 1, out
    assert json.loads(out.split(" ", 2)[2]) == json.loads(message)


def test_a_log_line_is_printed_as_the_task_wrote_it(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:hp-dev-token-AbCdEf"
    write("backend", "b1", (minutes(1), f"denied: {arn}"))

    code, out, _ = hp(capsys, "logs", "dev", "backend")

    assert code == ExitCode.OK
    assert out.rstrip("\n").endswith(f" denied: {arn}"), out


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (
            ("logs", "dev", "nope"),
            "No service 'nope' on AWS; one of: frontend, backend, migrate.",
        ),
        (
            ("logs", "dev", "backend", "--since", "1w"),
            "--since takes a whole number and a unit (s, m, h or d), such as 30m, 1h or 2d,"
            " not '1w'.",
        ),
    ],
)
def test_logs_of_what_does_not_exist_is_exit_2_and_one_sentence(
    account: Account, capsys: pytest.CaptureFixture[str], argv: Sequence[str], sentence: str
) -> None:
    code, out, err = hp(capsys, *argv)
    assert code == ExitCode.INVALID_INPUT
    assert one_sentence(err) == sentence
    assert out == ""
    assert account.calls == []  # refused before anything was read


def test_text_quoted_in_an_error_is_printed_as_typed(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = hp(capsys, "logs", "dev", "[/x]")
    assert code == ExitCode.INVALID_INPUT
    assert one_sentence(err) == "No service '[/x]' on AWS; one of: frontend, backend, migrate."


# --- hp doctor -------------------------------------------------------------------------------


@pytest.fixture
def dev(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dev]:
    """test_doctor_aws's healthy dev, which the commands are handed."""
    made = healthy_dev(monkeypatch)
    uses(monkeypatch, made.clients())
    yield made


def doctor(dev: Dev, capsys: pytest.CaptureFixture[str], **answers: Any) -> tuple[int, str, str]:
    dev.answers(**answers)
    code, out, err = hp(capsys, "doctor", "dev")
    dev.ecr.assert_no_pending_responses()
    dev.cloudwatch.stub.assert_no_pending_responses()
    return code, out, err


def verdicts(out: str) -> list[tuple[str, str, str | None]]:
    """(status, the check's line, the hint under it or None) for each check printed; every
    line of stdout is a check, a hint right under a check that did not pass, or the
    summary at the end."""
    lines = out.splitlines()
    summary = lines.pop()
    assert re.fullmatch(r"dev: \d+ pass, \d+ warn, \d+ fail\.", summary), summary
    found: list[tuple[str, str, str | None]] = []
    while lines:
        line = lines.pop(0)
        status = line[:4]
        assert status in ("pass", "warn", "fail") and line[4:6] == "  ", line
        hint = None
        if lines and lines[0].lstrip().startswith("→ "):
            hint = lines.pop(0).lstrip().removeprefix("→ ")
        assert (hint is None) == (status == "pass"), (line, hint)
        found.append((status, line, hint))
    return found


def test_doctor_on_a_healthy_dev_passes_every_check_and_exits_0(
    dev: Dev, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = doctor(dev, capsys)

    assert code == ExitCode.OK, out
    checks = verdicts(out)
    assert len(checks) == 33
    assert {status for status, _, _ in checks} == {"pass"}
    assert out.splitlines()[-1] == "dev: 33 pass, 0 warn, 0 fail."
    assert "Traceback" not in err


def test_doctor_with_warnings_only_exits_0_with_a_hint_under_each(
    dev: Dev, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = doctor(
        dev, capsys, findings={"backend": {"HIGH": 3}}, traffic={"latency": [0.3, 1.8]}
    )

    assert code == ExitCode.OK, out
    warned = [(line, hint) for status, line, hint in verdicts(out) if status != "pass"]
    assert len(warned) == 2
    (scan_line, scan_hint), (latency_line, latency_hint) = warned
    assert scan_line.startswith("warn  backend") and "image scan: findings: 3 HIGH" in scan_line
    assert scan_hint == "rebuild on patched base images, then `hp release dev`"
    assert latency_line.startswith("warn  load balancer") and "latency: p99 1.80 s" in latency_line
    assert latency_hint == "hp logs dev backend --since 1h"
    assert out.splitlines()[-1] == "dev: 31 pass, 2 warn, 0 fail."


def test_doctor_with_a_failed_check_exits_1_and_says_what_fixes_it(
    dev: Dev, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("ssm", REGION).delete_parameter(Name=PARAMETER)

    code, out, _ = doctor(dev, capsys, findings={"frontend": {"HIGH": 1}})

    assert code == ExitCode.FINDINGS
    checks = verdicts(out)
    failed = [(line, hint) for status, line, hint in checks if status == "fail"]
    assert failed == [
        (
            f"fail  {'parameters':<13}  {PARAMETER}: missing: an application secret",
            "hp secrets set dev session-secret",
        )
    ]
    (warned,) = [line for status, line, _ in checks if status == "warn"]
    assert warned.startswith("warn  frontend")
    assert out.splitlines()[-1] == "dev: 31 pass, 1 warn, 1 fail."


def test_a_long_hint_stays_on_its_one_line(dev: Dev, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doctor(dev, capsys, database={"free": [3.0 * GIB]})

    assert code == ExitCode.OK
    (warned,) = [(line, hint) for status, line, hint in verdicts(out) if status == "warn"]
    assert warned[1] == (
        "raise rds.max_allocated_storage_gib in environments/dev.yaml (storage grows"
        " automatically up to it), then `hp infra apply dev`"
    )


# --- hp secrets ------------------------------------------------------------------------------


def stored_value(name: str = PARAMETER) -> str:
    parameter = boto3.client("ssm", REGION).get_parameter(Name=name, WithDecryption=True)
    return str(parameter["Parameter"]["Value"])


@pytest.fixture
def secrets(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    """The data stack deployed, with a session secret and the Redis token set; ECS (the
    backend's restart) answered by a Stubber, activated."""
    deploy_data_stack()
    with Clients("ecs") as clients:
        uses(monkeypatch, clients)
        yield clients


def test_secrets_list_never_prints_a_value(
    secrets: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = hp(capsys, "secrets", "list", "dev")

    assert code == ExitCode.OK, err
    listed = {row[0]: (row[1], row[3]) for row in cells(out, "Secrets of dev")}
    assert listed == {
        "session-secret": ("SSM Parameter Store", "yes"),
        "redis-auth-token": ("Secrets Manager", "yes"),
    }
    for value in (OLD_SESSION_SECRET, OLD_TOKEN):
        assert value not in out and value not in err
    assert not READS_A_VALUE & set(secrets.operations())


def token_arn() -> str:
    secretsmanager = boto3.client("secretsmanager", REGION)
    return str(
        secretsmanager.describe_secret(SecretId="health-platform-dev-data-CacheAuthToken")["ARN"]
    )


def test_secrets_list_prints_where_the_redis_token_lives_as_it_is(
    secrets: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = hp(capsys, "secrets", "list", "dev")

    assert code == ExitCode.OK
    where = {row[0]: "".join(row[2].split()) for row in cells(out, "Secrets of dev")}
    assert where["redis-auth-token"] == token_arn()


@pytest.fixture
def five_hours_thirty_east() -> Iterator[None]:
    """This machine's clock is set to UTC+05:30 (India)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "IST-5:30"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.usefixtures("five_hours_thirty_east")
def test_secrets_list_says_when_a_secret_changed_in_utc(
    secrets: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    (described,) = boto3.client("ssm", REGION).describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [PARAMETER]}]
    )["Parameters"]
    changed = described["LastModifiedDate"].astimezone(UTC)

    code, out, _ = hp(capsys, "secrets", "list", "dev")

    assert code == ExitCode.OK
    last_changed = {row[0]: row[4] for row in cells(out, "Secrets of dev")}
    assert last_changed["session-secret"] == f"{changed:%Y-%m-%d %H:%M} UTC"


def test_secrets_list_before_the_data_stack_is_exit_5_and_names_the_command(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = hp(capsys, "secrets", "list", "dev")
    assert code == ExitCode.AWS_ERROR
    assert one_sentence(err) == (
        "health-platform-dev-data is not deployed in us-east-1; deploy it with"
        " `hp infra apply dev`."
    )
    assert out == ""


def test_secrets_set_reads_a_piped_value_stores_it_and_never_prints_it(
    secrets: Clients, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expect_restart(secrets.stubbers["ecs"], polls_until_stable=0)
    stdin = piped(monkeypatch, NEW_SESSION_SECRET + "\n")

    code, out, err = hp(capsys, "secrets", "set", "dev", "session-secret")

    assert code == ExitCode.OK, err
    assert out == "session-secret of dev is set; the backend was restarted.\n"
    assert f"wrote a new version of {PARAMETER}" in err
    assert "restarted backend" in err
    assert stdin.read() == ""  # the one line was read
    assert stored_value() == NEW_SESSION_SECRET
    for value in (NEW_SESSION_SECRET, OLD_SESSION_SECRET):
        assert value not in out and value not in err
    secrets.stubbers["ecs"].assert_no_pending_responses()


def test_rotating_the_session_secret_asks_first_since_it_signs_everyone_out(
    secrets: Clients, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    piped(monkeypatch, "")  # nobody to answer
    code, _, err = hp(capsys, "secrets", "rotate", "dev", "session-secret")
    assert code == ExitCode.REFUSED
    assert "signs every user of dev out" in err and "pass --yes" in err
    assert stored_value() == OLD_SESSION_SECRET

    expect_restart(secrets.stubbers["ecs"], polls_until_stable=0)
    code, _, err = hp(capsys, "secrets", "rotate", "dev", "session-secret", "--yes")
    assert code == ExitCode.OK, err
    assert stored_value() not in (OLD_SESSION_SECRET, "")


def test_secrets_set_generate_stores_a_value_it_never_prints_nor_asks_for(
    secrets: Clients, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expect_restart(secrets.stubbers["ecs"], polls_until_stable=0)
    stdin = piped(monkeypatch, NEW_SESSION_SECRET + "\n")

    code, out, err = hp(capsys, "secrets", "set", "dev", "session-secret", "--generate")

    assert code == ExitCode.OK, err
    assert out == "session-secret of dev is set; the backend was restarted.\n"
    generated = stored_value()
    assert generated not in (OLD_SESSION_SECRET, NEW_SESSION_SECRET) and len(generated) >= 32
    assert generated not in out and generated not in err
    assert stdin.read() == NEW_SESSION_SECRET + "\n"  # standard input left alone


def test_secrets_rotate_the_redis_token_never_prints_it(
    secrets: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_restart(secrets.stubbers["ecs"], polls_until_stable=0)

    code, out, err = hp(capsys, "secrets", "rotate", "dev", "redis-auth-token")

    assert code == ExitCode.OK, err
    assert out == "redis-auth-token of dev is rotated; the backend was restarted.\n"
    token = next(
        p["AuthToken"] for operation, p in secrets.calls if operation == "ModifyReplicationGroup"
    )
    for value in (token, OLD_TOKEN):
        assert value not in out and value not in err
    assert "(ROTATE)" in err and "(SET)" in err


def test_secrets_rotate_says_where_it_stored_the_token_as_it_is(
    secrets: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_restart(secrets.stubbers["ecs"], polls_until_stable=0)

    code, _, err = hp(capsys, "secrets", "rotate", "dev", "redis-auth-token")

    assert code == ExitCode.OK
    assert f"  stored a new token in {token_arn()} (AWSPENDING)\n" in err


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "sentence"),
    [
        (
            ("secrets", "set", "dev", "nope"),
            NEW_SESSION_SECRET + "\n",
            ExitCode.INVALID_INPUT,
            "Unknown secret 'nope'; dev has session-secret, redis-auth-token.",
        ),
        (
            ("secrets", "rotate", "dev", "nope"),
            "",
            ExitCode.INVALID_INPUT,
            "Unknown secret 'nope'; dev has session-secret, redis-auth-token.",
        ),
        (
            ("secrets", "set", "dev", "session-secret"),
            "\n",
            ExitCode.INVALID_INPUT,
            "No value given; type it at the prompt, pipe it, or --generate.",
        ),
        (
            ("secrets", "set", "dev", "session-secret"),
            "too-short\n",
            ExitCode.INVALID_INPUT,
            "The API would refuse that value for session-secret: it needs at least 32 characters.",
        ),
        (
            ("secrets", "set", "dev", "redis-auth-token"),
            OLD_TOKEN + "\n",
            ExitCode.REFUSED,
            "redis-auth-token is changed only by `hp secrets rotate dev redis-auth-token`,"
            " which tells the cache before the backend.",
        ),
    ],
)
def test_secrets_refusals_are_one_sentence_and_change_nothing(
    secrets: Clients,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: Sequence[str],
    stdin: str,
    code: int,
    sentence: str,
) -> None:
    piped(monkeypatch, stdin)

    exit_code, out, err = hp(capsys, *argv)

    assert exit_code == code
    assert one_sentence(err) == sentence
    assert out == ""
    assert "PutParameter" not in secrets.operations()
    assert stored_value() == OLD_SESSION_SECRET


# --- hp backup -------------------------------------------------------------------------------


SNAPSHOT = re.compile(r"health-platform-dev-db-manual-\d{14}")


@pytest.mark.parametrize("wait", [False, True])
def test_backup_takes_a_manual_snapshot_and_names_it(
    account: Account, capsys: pytest.CaptureFixture[str], wait: bool
) -> None:
    create_database()

    code, out, err = hp(capsys, "backup", "dev", *(["--wait"] if wait else []))

    assert code == ExitCode.OK, err
    matched = re.fullmatch(rf"Snapshot ({SNAPSHOT.pattern}): available\.\n", out)
    assert matched, out
    (created,) = account.params_of("rds", "CreateDBSnapshot")
    assert created["DBInstanceIdentifier"] == DATABASE
    assert created["DBSnapshotIdentifier"] == matched[1]


def test_backup_list_shows_the_databases_snapshots(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    create_database()
    assert hp(capsys, "backup", "dev")[0] == ExitCode.OK
    (created,) = account.params_of("rds", "CreateDBSnapshot")

    code, out, err = hp(capsys, "backup", "dev", "--list")

    assert code == ExitCode.OK, err
    assert "Snapshots of dev's database" in out
    (row,) = [line for line in out.splitlines() if created["DBSnapshotIdentifier"] in line]
    assert "manual" in row and "available" in row and "yes" in row
    assert any("automated" in line for line in out.splitlines())  # RDS's own
    assert len(account.params_of("rds", "CreateDBSnapshot")) == 1  # listing takes none


@pytest.mark.parametrize("argv", [("backup", "dev"), ("backup", "dev", "--list")])
def test_backup_without_a_database_is_exit_5_and_one_sentence(
    account: Account, capsys: pytest.CaptureFixture[str], argv: Sequence[str]
) -> None:
    code, out, err = hp(capsys, *argv)
    assert code == ExitCode.AWS_ERROR
    assert one_sentence(err) == (
        "health-platform-dev-db does not exist in us-east-1; deploy it with `hp infra apply dev`."
    )
    assert out == ""


# --- hp infra drift --------------------------------------------------------------------------


def drift_answers(
    account: Account,
    drifted: dict[str, list[dict[str, Any]]] | None = None,
    busy: Sequence[str] = (),
) -> None:
    """CloudFormation's drift detection (moto has none): every stack of dev IN_SYNC but
    `drifted` (stack -> its drifted resources) and `busy` (refused: being updated)."""
    drifted = drifted or {}
    cloudformation = account("cloudformation", REGION)
    stacks = {detection_id(stack): stack for stack in DEV_STACKS}

    def start(params: dict[str, Any]) -> dict[str, Any]:
        stack = params["StackName"]
        if stack in busy:
            return error(
                "ValidationError",
                f"Drift detection is not supported for stack [{stack}] because it is in"
                " UPDATE_IN_PROGRESS state",
            )
        return {"StackDriftDetectionId": detection_id(stack)}

    def status(params: dict[str, Any]) -> dict[str, Any]:
        stack = stacks[params["StackDriftDetectionId"]]
        return {
            "StackId": stack_id(stack),
            "StackDriftDetectionId": params["StackDriftDetectionId"],
            "StackDriftStatus": "DRIFTED" if stack in drifted else "IN_SYNC",
            "DetectionStatus": "DETECTION_COMPLETE",
            "DriftedStackResourceCount": len(drifted.get(stack, [])),
            "Timestamp": DRIFT_TIME,
        }

    answer(cloudformation, "DetectStackDrift", start)
    answer(cloudformation, "DescribeStackDriftDetectionStatus", status)
    answer(
        cloudformation,
        "DescribeStackResourceDrifts",
        lambda params: {"StackResourceDrifts": drifted[params["StackName"]]},
    )


def table_lines(out: str, title: str) -> list[list[str]]:
    """The body of the table titled `title`: each printed line as its cells' text."""
    lines = [line.rstrip() for line in out.splitlines()]
    body = []
    for line in lines[lines.index(title) + 4 :]:  # title, top border, header, header rule
        if not line.startswith("│"):
            break
        body.append([part.strip() for part in line.strip("│").split("│")])
    return body


def cells(out: str, title: str) -> list[list[str]]:
    """The rows of the table titled `title` whose first cell fits its column, each cell in
    one piece (the words of a cell that Rich wrapped over several lines joined again)."""
    rows: list[list[str]] = []
    for parts in table_lines(out, title):
        if parts[0] or not rows:
            rows.append(parts)
        else:  # the same row, continued
            rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], parts, strict=True)]
    return rows


def one_row(out: str, title: str) -> list[str]:
    """The one row of the table titled `title`, each cell in one piece: Rich folds a word
    wider than its column (120 columns when piped) over several lines."""
    return ["".join(column) for column in zip(*table_lines(out, title), strict=True)]


def test_drift_when_every_stack_matches_exits_0(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    drift_answers(account)

    code, out, err = hp(capsys, "infra", "drift", "dev")

    assert code == ExitCode.OK, err
    assert [row[:3] for row in cells(out, "Drift of dev")] == [
        [stack, REGION, "IN_SYNC"] for stack in DEV_STACKS
    ]
    assert "Drifted resources" not in out
    assert out.splitlines()[-1] == "dev matches its templates."
    assert account.operations("cloudformation").count("cloudformation.DetectStackDrift") == 5


def test_drift_prints_the_drifted_property_and_exits_1(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    data = "health-platform-dev-data"
    drift_answers(account, drifted={data: [database_drift(data)]})

    code, out, _ = hp(capsys, "infra", "drift", "dev")

    assert code == ExitCode.FINDINGS
    statuses = {row[0]: row[2] for row in cells(out, "Drift of dev")}
    assert statuses[data] == "DRIFTED"
    assert (
        f"MODIFIED  {data} DatabaseInstanceA1B2C3D4 (AWS::RDS::DBInstance)"
        " /BackupRetentionPeriod: expected 7, actual 1"
    ) in out.splitlines()
    assert out.splitlines()[-1].startswith("Drift found. `hp infra apply dev` puts")


def test_drift_of_a_stack_being_updated_prints_cloudformations_reason_whole(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    services = "health-platform-dev-services"
    drift_answers(account, busy=[services])

    code, out, _ = hp(capsys, "infra", "drift", "dev")

    assert code == ExitCode.FINDINGS
    reasons = {row[0]: row[3] for row in cells(out, "Drift of dev")}
    assert reasons[services] == (
        f"Drift detection is not supported for stack [{services}] because it is in"
        " UPDATE_IN_PROGRESS state"
    )


# --- hp users create-admin -------------------------------------------------------------------


LINK = re.compile(r"https://dev\.health\.example\.com/enroll#token=([A-Za-z0-9_-]+)")


@pytest.fixture
def deployment(account: Account, monkeypatch: pytest.MonkeyPatch) -> deployed.Deployment:
    monkeypatch.setattr("health_platform.ops.tasks.POLL_SECONDS", 0)
    return deployed.deploy(account)


def test_create_admin_prints_a_link_and_gives_the_task_only_the_tokens_hash(
    account: Account, deployment: deployed.Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks_that_stop(
        account("ecs", REGION),
        MIGRATION,
        exit_code=0,
        started=lambda arn: deployed.log(account, MIGRATION, arn, "created admin@example.com"),
    )

    code, out, err = hp(
        capsys, "users", "create-admin", "dev", "admin@example.com", "--name", "Ada"
    )

    assert code == ExitCode.OK, err
    (token,) = LINK.findall(out)
    assert out.startswith("Administrator admin@example.com created in dev, without a password.")
    assert "  created admin@example.com" in err  # the task's log, streamed
    (started,) = account.params_of("ecs", "RunTask")
    assert started["taskDefinition"] == deployment.migration_task_definition
    (override,) = started["overrides"]["containerOverrides"]
    assert override["name"] == MIGRATION
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert override["command"] == [
        *CREATE_ADMIN_COMMAND,
        "--email",
        "admin@example.com",
        "--name",
        "Ada",
        "--token-sha256",
        digest,
    ]
    assert token not in json.dumps(account.calls, default=str)  # sent nowhere
    assert token not in err


@pytest.mark.parametrize(
    ("task_exit", "code", "starts"),
    [
        (2, ExitCode.INVALID_INPUT, "The task refused it (its log above says why): task "),
        (1, ExitCode.AWS_ERROR, "The administrator was not created: task "),
    ],
)
def test_create_admin_a_task_that_fails_prints_no_link(
    account: Account,
    deployment: deployed.Deployment,
    capsys: pytest.CaptureFixture[str],
    task_exit: int,
    code: int,
    starts: str,
) -> None:
    tasks_that_stop(
        account("ecs", REGION),
        MIGRATION,
        exit_code=task_exit,
        started=lambda arn: deployed.log(account, MIGRATION, arn, "that address is taken"),
    )

    exit_code, out, err = hp(
        capsys, "users", "create-admin", "dev", "admin@example.com", "--name", "Ada"
    )

    assert exit_code == code
    assert out == ""
    assert "#token=" not in err
    assert "  that address is taken" in err
    sentence = err.strip().splitlines()[-1]
    assert sentence.startswith(f"error: {starts}") and f"exit {task_exit}" in sentence
    assert "Traceback" not in err


# --- without credentials ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("logs", "dev"),
        ("logs", "dev", "backend", "--since", "30m", "--filter", "error"),
        ("doctor", "dev"),
        ("infra", "drift", "dev"),
        ("secrets", "list", "dev"),
        ("secrets", "set", "dev", "session-secret"),
        ("secrets", "set", "dev", "session-secret", "--generate"),
        ("secrets", "rotate", "dev", "redis-auth-token"),
        ("backup", "dev"),
        ("backup", "dev", "--list"),
        ("backup", "dev", "--wait"),
        ("release", "dev"),
        ("db", "migrate", "dev"),
        ("users", "create-admin", "dev", "admin@example.com", "--name", "Ada"),
        ("infra", "apply", "dev", "--backup"),
        ("infra", "apply", "dev", "--no-backup"),
    ],
    ids=" ".join,
)
def test_without_credentials_every_command_is_exit_4_and_one_sentence(
    no_credentials: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: Sequence[str],
) -> None:
    stdin = piped(monkeypatch, NEW_SESSION_SECRET + "\n")

    code, out, err = hp(capsys, *argv)

    assert code == ExitCode.NO_CREDENTIALS
    assert one_sentence(err).startswith("No AWS credentials found")
    assert out == ""
    assert stdin.read() == NEW_SESSION_SECRET + "\n"  # nothing asked for first


# --- hp infra apply: the snapshot before the data stack --------------------------------------


class Deploys:
    """deploy.apply, recorded in the account's timeline instead of run (no CDK here)."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.applied: list[Sequence[str] | None] = []

    def __call__(
        self,
        settings: Any,
        assembly: Path,
        synthesize: Any,
        *,
        parts: Sequence[str] | None,
        confirm: Callable[[str], bool],
    ) -> list[str]:
        self.applied.append(parts)
        self.account.calls.append(("cdk", "deploy", {"parts": parts}))
        return deploy.stacks_in_order(settings, parts)


@pytest.fixture
def deploys(account: Account, monkeypatch: pytest.MonkeyPatch) -> Deploys:
    recorder = Deploys(account)
    monkeypatch.setattr("health_platform.ops.deploy.apply", recorder)
    return recorder


def test_apply_with_backup_snapshots_the_database_before_it_deploys(
    account: Account, deploys: Deploys, capsys: pytest.CaptureFixture[str]
) -> None:
    create_database()  # moto's create_db_instance, named health-platform-dev-db

    code, out, err = hp(capsys, "infra", "apply", "dev", "--backup")

    assert code == ExitCode.OK, err
    timeline = account.operations("rds", "cdk")
    assert timeline.index("rds.CreateDBSnapshot") < timeline.index("cdk.deploy")
    (snapshot,) = account.params_of("rds", "CreateDBSnapshot")
    assert snapshot["DBInstanceIdentifier"] == DATABASE
    assert SNAPSHOT.fullmatch(snapshot["DBSnapshotIdentifier"])
    assert out.splitlines()[0] == f"Snapshot {snapshot['DBSnapshotIdentifier']} is available."
    stacks = deploy.stacks_in_order(load_environment("dev"))
    assert f"Deployed {', '.join(stacks)}." in " ".join(out.split())  # wrapped at 120
    assert deploys.applied == [None]


@pytest.mark.parametrize(
    ("options", "stdin"),
    [
        (("--no-backup",), ""),
        ((), "n\n"),  # asked, and the answer is no
    ],
)
def test_apply_without_backup_takes_no_snapshot(
    account: Account,
    deploys: Deploys,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: Sequence[str],
    stdin: str,
) -> None:
    create_database()
    piped(monkeypatch, stdin)

    code, out, err = hp(capsys, "infra", "apply", "dev", *options)

    assert code == ExitCode.OK, err
    assert account.params_of("rds", "CreateDBSnapshot") == []
    assert (
        boto3.client("rds", REGION).describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        == []
    )
    assert deploys.applied == [None]
    assert "Snapshot" not in out
    if not options:
        assert "Take a manual snapshot of the database first?" in err


def test_apply_yes_takes_the_snapshot_without_asking(
    account: Account,
    deploys: Deploys,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_database()
    piped(monkeypatch, "")

    code, _, err = hp(capsys, "infra", "apply", "dev", "--yes")

    assert code == ExitCode.OK, err
    assert len(account.params_of("rds", "CreateDBSnapshot")) == 1
    assert "?" not in err
    assert deploys.applied == [None]


@pytest.mark.parametrize(
    ("options", "parts"),
    [
        (("--backup",), None),  # no database yet: the data stack's first deployment
        (("--stacks", "services", "--backup"), ["services"]),  # the data stack is not touched
    ],
)
def test_apply_takes_no_snapshot_when_there_is_no_database_to_change(
    account: Account,
    deploys: Deploys,
    capsys: pytest.CaptureFixture[str],
    options: Sequence[str],
    parts: list[str] | None,
) -> None:
    if parts:
        create_database()

    code, out, err = hp(capsys, "infra", "apply", "dev", *options)

    assert code == ExitCode.OK, err
    assert account.params_of("rds", "CreateDBSnapshot") == []
    if parts:
        # Looked at only to know it is awake (dev's office hours), never snapshotted.
        assert set(account.operations("rds")) == {"rds.DescribeDBInstances"}
    assert deploys.applied == [parts]
    assert "Snapshot" not in out


def test_apply_with_nobody_to_answer_the_snapshot_question_refuses_in_a_sentence(
    account: Account,
    deploys: Deploys,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_database()
    piped(monkeypatch, "")

    code, _, err = hp(capsys, "infra", "apply", "dev")

    assert deploys.applied == []
    assert account.params_of("rds", "CreateDBSnapshot") == []
    assert code in (ExitCode.INVALID_INPUT, ExitCode.REFUSED), err
    assert err.strip().splitlines()[-1].startswith("error: ")


def test_apply_of_the_services_refuses_while_the_database_sleeps(
    account: Account,
    deploys: Deploys,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """CloudFormation sets the services' task range again when it updates them: at night that
    would start tasks against dev's stopped database."""
    create_database()
    boto3.client("rds", "us-east-1").stop_db_instance(DBInstanceIdentifier="health-platform-dev-db")

    code, _, err = hp(capsys, "infra", "apply", "dev", "--stacks", "services")

    assert code == ExitCode.REFUSED
    assert "dev is asleep outside its office hours" in err and "`hp wake dev`" in err
    assert deploys.applied == []
