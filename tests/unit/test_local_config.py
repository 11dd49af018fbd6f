"""The local platform's settings and the CLI's answers to misuse, without starting it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from health_platform.api.db import pool_sizes
from health_platform.cli import main
from health_platform.contract import ApiSettings
from health_platform.errors import ExitCode, InvalidInputError
from health_platform.local.components import (
    POSTGRES_MAX_CONNECTIONS,
    RESERVED_CONNECTIONS,
    api_database_connections,
    local_api_environment,
)
from health_platform.local.config import LIMITS, RATE_LIMITS, LocalConfig, local_config
from health_platform.local.credentials import load_or_create


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


def test_hp_up_takes_the_rate_limits_to_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[LocalConfig] = []

    def start(config: LocalConfig) -> bool:
        started.append(config)
        return True

    monkeypatch.setattr("health_platform.cli.local.start_platform", start)
    monkeypatch.setenv("HP_LOGIN_RATE", "50")
    flags = ["--rate-per-address", "100000", "--rate-per-user", "20000"]
    assert main(["up", "--state-dir", str(tmp_path), *flags]) == ExitCode.OK
    # What the supervisor reads back from the saved settings, and gives the API.
    saved = LocalConfig.from_saved(json.loads(started[0].as_json()), tmp_path)
    credentials = load_or_create(tmp_path / "credentials.json")
    environment = local_api_environment(saved, credentials)
    assert environment["RATE_PER_ADDRESS"] == "100000"
    assert environment["RATE_PER_USER"] == "20000"
    assert environment["LOGIN_RATE"] == "50"

    assert main(["up", "--state-dir", str(tmp_path), "--login-rate", "0"]) == ExitCode.INVALID_INPUT
    assert "--login-rate: 0 is not between 1 and" in " ".join(capsys.readouterr().err.split())


def test_without_flags_the_apis_own_limits_apply() -> None:
    config = local_config({}, {})
    defaults = ApiSettings.model_fields
    assert [getattr(config, name) for name in RATE_LIMITS] == [
        defaults[name].default for name in RATE_LIMITS
    ]


@pytest.mark.parametrize("workers", range(1, LIMITS["api_workers"][1] + 1))
def test_the_apis_workers_fit_in_the_clusters_connections(workers: int) -> None:
    """Each worker's two pools together, times the workers, leave the cluster room for the
    superuser, backups and migrations: four workers used to ask for 120 of 100."""
    per_worker = api_database_connections(workers)
    steady, overflow, plain = pool_sizes(per_worker)
    assert steady + overflow + plain == per_worker >= 3
    assert workers * per_worker <= POSTGRES_MAX_CONNECTIONS - RESERVED_CONNECTIONS
