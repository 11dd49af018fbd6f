"""`hp` as a user meets it: fast help, one-sentence errors, documented exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from health_platform.cli import main
from health_platform.errors import MEANINGS, ExitCode, exit_codes_help
from tests.conftest import EnvironmentFiles, assert_refused_in_one_sentence


def test_help_does_not_import_the_cdk() -> None:
    probe = (
        "import sys\n"
        "from health_platform.cli import main\n"
        "code = main(['--help'])\n"
        "assert 'aws_cdk' not in sys.modules and 'jsii' not in sys.modules, 'cdk imported'\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "infra" in done.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == ExitCode.OK
    assert capsys.readouterr().out.startswith("hp ")


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["infra", "synth"], "Name an environment (e.g. `dev`) or pass --all."),
        (["infra", "check", "dev", "--all"], "Name one environment or pass --all, not both."),
        (["infra", "synth", "qa"], "Unknown environment 'qa'; known: dev, prod, staging."),
    ],
)
def test_misuse_is_one_sentence_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], sentence: str
) -> None:
    assert_refused_in_one_sentence(capsys, argv, sentence)


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "synth", "--bogus"]) == ExitCode.INVALID_INPUT
    assert "No such option: --bogus" in capsys.readouterr().err


def test_invalid_environment_file_lists_every_problem_and_exits_2(
    environment_files: EnvironmentFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment_files.edit("prod", "rds.backup_retention_days", 40)
    environment_files.edit("dev", "ecs.min_tasks", 9)
    monkeypatch.setenv("HP_ENVIRONMENTS_DIR", str(environment_files.directory))
    assert main(["infra", "synth", "dev"]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "prod.rds.backup_retention_days: 40 is above 35" in err
    assert "dev.ecs.min_tasks: 9 is above max_tasks (3)" in err


def test_a_slack_webhook_in_an_environment_file_is_refused_with_exit_2(
    environment_files: EnvironmentFiles,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment_files.edit("dev", "alerts.slack_endpoint", "https://hooks.slack.com/services/x")
    monkeypatch.setenv("HP_ENVIRONMENTS_DIR", str(environment_files.directory))
    assert main(["infra", "rehearse", "dev"]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "dev.alerts.slack_endpoint: a Slack webhook cannot confirm an SNS subscription" in err
    assert "set alerts.slack.workspace_id and alerts.slack.channel_id (AWS Chatbot)" in err


def test_missing_node_is_a_toolchain_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JSII_NODE", "/nonexistent/node")
    assert main(["infra", "synth", "dev"]) == ExitCode.TOOLCHAIN
    assert "run `make setup`" in capsys.readouterr().err


def _commands() -> list[list[str]]:
    """Every command path of `hp`, e.g. ["infra", "check"]."""
    import typer

    from health_platform.cli import app

    def walk(command: Any, path: list[str]) -> list[list[str]]:
        if hasattr(command, "commands"):  # a group
            return [p for name, sub in command.commands.items() for p in walk(sub, [*path, name])]
        return [path]

    return walk(typer.main.get_command(app), [])


def test_the_grammar_has_every_verb_of_the_life_cycle() -> None:
    commands = {" ".join(path) for path in _commands()}
    assert {
        "up",
        "down",
        "status",
        "logs",
        "doctor",
        "reset",
        "db migrate",
        "users create-admin",
        "infra status",
        "infra check",
    } <= commands


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_every_command_lists_its_exit_codes_from_the_enum(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*path, "--help"]) == ExitCode.OK
    text = " ".join(capsys.readouterr().out.split())
    listed = text.split("Exit codes: ")[1].split(".")[0]
    said = dict(entry.split(" ", 1) for entry in listed.split("; "))
    assert {"0", "2"} <= set(said)
    for number, meaning in said.items():
        assert meaning == MEANINGS[ExitCode(int(number))]


def test_every_exit_code_has_a_meaning() -> None:
    assert set(MEANINGS) == set(ExitCode)
    assert exit_codes_help(ExitCode.TIMED_OUT) == (
        f"Exit codes: 0 ok; 2 {MEANINGS[ExitCode.INVALID_INPUT]}; 8 {MEANINGS[ExitCode.TIMED_OUT]}."
    )


def test_the_old_create_admin_spelling_still_works_with_a_notice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Not running: the command gets as far as the local platform and says so.
    code = main(["users", "create-admin", "ada@example.com", "--state-dir", str(tmp_path)])
    assert code == ExitCode.LOCAL_FAILURE
    err = capsys.readouterr().err
    assert "is now `hp users create-admin local EMAIL`" in err
    assert "not running" in err


def test_an_aws_only_command_refuses_local_in_one_sentence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["infra", "status", "local"]) == ExitCode.INVALID_INPUT
    assert "`local` is the platform on this machine" in capsys.readouterr().err


@pytest.mark.parametrize("verb", [["status"], ["logs"], ["doctor"], ["db", "migrate"]])
def test_an_unknown_environment_of_a_command_that_takes_local_names_local_too(
    verb: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*verb, "nope"]) == ExitCode.INVALID_INPUT
    assert capsys.readouterr().err.strip().endswith("known: dev, prod, staging, or local.")
