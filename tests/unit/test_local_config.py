"""The local platform's settings and the CLI's answers to misuse, without starting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from health_platform.cli import main
from health_platform.errors import ExitCode, InvalidInputError
from health_platform.local.config import local_config


def test_flags_win_over_environment_variables_which_win_over_defaults(tmp_path: Path) -> None:
    env = {"HP_HTTPS_PORT": "9443", "HP_API_PORT": "5100", "HP_STATE_DIR": str(tmp_path)}
    config = local_config({"api_port": 5200}, env)
    assert (config.https_port, config.api_port, config.http_port) == (9443, 5200, 8080)
    assert config.state_dir == tmp_path.resolve()


def test_every_bad_setting_is_listed_at_once() -> None:
    env = {"HP_REDIS_PORT": "sixty", "HP_API_WORKERS": "99"}
    with pytest.raises(InvalidInputError) as raised:
        local_config({"https_port": 70000}, env)
    message = str(raised.value)
    assert "--https-port: 70000 is not between 1 and 65535" in message
    assert "HP_REDIS_PORT: 'sixty' is not a number" in message
    assert "HP_API_WORKERS: 99 is not between 1 and 16" in message


def test_two_components_cannot_share_a_port() -> None:
    with pytest.raises(InvalidInputError, match="share a port"):
        local_config({"api_port": 3000}, {})


def test_misuse_is_one_sentence_and_a_documented_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--state-dir", str(tmp_path)]
    assert main(["reset", "dev", *state]) == ExitCode.INVALID_INPUT
    assert "local platform only" in capsys.readouterr().err
    assert main(["reset", "local", *state]) == ExitCode.REFUSED
    assert "Pass --yes" in capsys.readouterr().err
    assert main(["logs", "local", "nginx", *state]) == ExitCode.INVALID_INPUT
    assert "no component 'nginx'" in capsys.readouterr().err
    assert main(["down", *state]) == ExitCode.OK
    assert "Nothing was running." in capsys.readouterr().out
    assert main(["up", "--api-port", "0", *state]) == ExitCode.INVALID_INPUT
    assert "Traceback" not in capsys.readouterr().err


def test_local_log_lines_are_printed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from health_platform.local.config import LocalConfig

    written = "2026/11/30 [error] 12#0: upstream [/api] closed :secret: ok"
    log = LocalConfig(state_dir=tmp_path).log_file("balancer")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"{written}\n")
    assert main(["logs", "local", "balancer", "--state-dir", str(tmp_path)]) == ExitCode.OK
    assert capsys.readouterr().out == f"{written}\n"
