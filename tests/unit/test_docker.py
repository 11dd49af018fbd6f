"""The Docker CLI as `hp release` drives it, through a stand-in executable that records its
arguments and standard input (no engine on these machines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from health_platform.errors import AwsError, ToolchainError
from health_platform.ops.docker import PLATFORM, Docker


@pytest.fixture
def docker(tmp_path: Path) -> tuple[Docker, Path]:
    record = tmp_path / "calls.jsonl"
    script = tmp_path / "docker"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"with open({str(record)!r}, 'a') as f:\n"
        "    stdin = '' if sys.stdin.isatty() else sys.stdin.read()\n"
        "    f.write(json.dumps({'argv': sys.argv[1:], 'stdin': stdin}) + '\\n')\n"
        "sys.exit(3 if 'fail' in sys.argv else 0)\n"
    )
    script.chmod(0o755)
    return Docker(str(script)), record


def calls(record: Path) -> list[dict[str, object]]:
    """What was run, less the `docker info` that asks whether an engine answers."""
    made = [json.loads(line) for line in record.read_text().splitlines()]
    return [call for call in made if call["argv"][0] != "info"]


def test_images_are_built_for_fargates_platform(docker: tuple[Docker, Path]) -> None:
    cli, record = docker
    cli.build(Path("/repo/frontend/Dockerfile"), Path("/repo/frontend"), "r/frontend:abc")
    (build,) = calls(record)
    assert build["argv"] == [
        "build",
        "--platform",
        PLATFORM,
        "--file",
        "/repo/frontend/Dockerfile",
        "--tag",
        "r/frontend:abc",
        "/repo/frontend",
    ]
    assert PLATFORM == "linux/amd64"  # the task definitions' X86_64 runtime platform


def test_the_registry_password_goes_on_stdin_never_on_the_command_line(
    docker: tuple[Docker, Path],
) -> None:
    cli, record = docker
    cli.login("123.dkr.ecr.us-east-1.amazonaws.com", "AWS", "s3cr3t-token")
    (login,) = calls(record)
    assert "s3cr3t-token" not in " ".join(login["argv"])  # type: ignore[arg-type]
    assert "--password-stdin" in login["argv"]  # type: ignore[operator]
    assert login["stdin"] == "s3cr3t-token"


def test_a_failed_docker_step_is_one_sentence(docker: tuple[Docker, Path]) -> None:
    cli, _ = docker
    with pytest.raises(AwsError, match="docker could not push fail"):
        cli.push("fail")


def test_no_engine_says_to_release_by_tag(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="--image-tag TAG"):
        Docker(str(tmp_path / "missing")).require()
