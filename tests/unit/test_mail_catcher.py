"""`hp mail local`: the local platform's mail catcher, newest first, one message whole."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from health_platform.api.mail import MaildirMailer
from health_platform.cli import main
from health_platform.errors import ExitCode
from tests.conftest import assert_refused_in_one_sentence


@pytest.fixture
def state(tmp_path: Path) -> Path:
    mailer = MaildirMailer(str(tmp_path / "mail"), "health-platform@localhost")
    mailer.deliver("ada@example.com", "Confirm your email", "open https://localhost:8443/x")
    time.sleep(1.1)  # Date has a resolution of seconds
    mailer.deliver("bob@example.com", "Reset your password", "open https://localhost:8443/y")
    return tmp_path


def test_the_list_is_newest_first_and_one_shows_whole(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mail", "local", "--state-dir", str(state)]) == ExitCode.OK
    listed = capsys.readouterr().out
    assert listed.index("Reset your password") < listed.index("Confirm your email")
    assert main(["mail", "local", "--state-dir", str(state), "--show", "2"]) == ExitCode.OK
    shown = capsys.readouterr().out
    assert "To: ada@example.com" in shown and "open https://localhost:8443/x" in shown
    only = main(["mail", "local", "--state-dir", str(state), "--to", "BOB@example.com"])
    assert only == ExitCode.OK and "Confirm" not in capsys.readouterr().out


def test_misuse_is_one_sentence(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_refused_in_one_sentence(
        capsys,
        ["mail", "local", "--state-dir", str(state), "--show", "3"],
        "There is no message 3; `hp mail local` lists 2.",
    )
    assert_refused_in_one_sentence(
        capsys, ["mail", "dev"], "`hp mail` works on the local platform only, not 'dev'."
    )


def test_no_mail_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail", "local", "--state-dir", str(tmp_path)]) == ExitCode.OK
    assert "No mail yet." in capsys.readouterr().out
