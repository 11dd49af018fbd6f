"""`hp` as a user meets it: fast help, one-sentence errors, documented exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from health_platform.cli import main
from health_platform.errors import ExitCode
from tests.conftest import EnvironmentFiles


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
    assert main(argv) == ExitCode.INVALID_INPUT
    captured = capsys.readouterr()
    assert captured.err.strip() == f"error: {sentence}"
    assert "Traceback" not in captured.err


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


def test_exit_codes_are_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "check", "--help"]) == ExitCode.OK
    text = " ".join(capsys.readouterr().out.split())
    for code in ExitCode:
        assert f"{code.value} " in text.split("Exit codes:")[1]
