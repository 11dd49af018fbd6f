"""Rehearsals in the real bubblewrap sandbox: a small HTTP server stands in for a service,
run as the task's user with the task's volumes, and judged by its health check. Everything
the sandbox runs talks to its own 127.0.0.1 only."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from health_platform.errors import InvalidInputError, ToolchainError
from health_platform.rehearse import sandbox
from health_platform.rehearse.sandbox import (
    STOP_GRACE_S,
    Rehearsal,
    rehearse,
    require_sandbox,
    sandbox_options,
)


def _unavailable() -> str | None:
    try:
        require_sandbox()
    except ToolchainError as error:
        return str(error)
    return None


UNAVAILABLE = _unavailable()
needs_sandbox = pytest.mark.skipif(UNAVAILABLE is not None, reason=f"no sandbox: {UNAVAILABLE}")

# Debian's Python: any user may run it (a virtualenv's may live under root's home).
PYTHON = "/usr/bin/python3"
SERVE = (
    "import http.server as h; "
    "h.ThreadingHTTPServer(('', 5000), h.SimpleHTTPRequestHandler).serve_forever()"
)
CHECK = [
    "CMD",
    PYTHON,
    "-c",
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/', timeout=1)",
]
SCRATCH = "/srv/scratch"  # not on this machine's /srv: the sandbox makes its mount point


def service(**changes: Any) -> Rehearsal:
    """A server on port 5000 as uid 10001, checked every half second."""
    settings: dict[str, Any] = {
        "name": "probe",
        "user": "10001",
        "command": [PYTHON, "-c", SERVE],
        "port": 5000,
        "health_command": CHECK,
        "health_interval_s": 0.5,
        "health_timeout_s": 2.0,
        "health_retries": 3,
        "health_start_period_s": 0.0,
    }
    return Rehearsal(**(settings | changes))


def then_serve(statements: str) -> list[str]:
    return [PYTHON, "-c", f"{statements}; {SERVE}"]


# --- (a) to (e): how a rehearsal ends -------------------------------------------------------
@needs_sandbox
def test_a_healthy_server_passes() -> None:
    result = rehearse(service())
    assert result.passed, result
    assert result.reason.startswith("health check passed after ")
    assert any('"GET / HTTP/1.1" 200' in line for line in result.log_tail)
    assert result.duration_s < 10
    assert result.caveats == []


@needs_sandbox
def test_a_root_owned_volume_refuses_the_tasks_user() -> None:
    result = rehearse(
        service(command=then_serve(f"open('{SCRATCH}/probe', 'w').write('ok')"), volumes=[SCRATCH])
    )
    assert not result.passed
    assert result.reason == "the process exited with code 1 before it was healthy"
    assert f"PermissionError: [Errno 13] Permission denied: '{SCRATCH}/probe'" in result.log_tail


@needs_sandbox
def test_a_volume_the_image_gives_to_the_user_is_writable() -> None:
    result = rehearse(
        service(
            command=then_serve(f"open('{SCRATCH}/probe', 'w').write('ok')"),
            volumes=[SCRATCH],
            volume_owners={SCRATCH: (10001, 10001, 0o755)},
        )
    )
    assert result.passed, result


@needs_sandbox
def test_a_process_that_exits_at_once_fails_with_its_output() -> None:
    result = rehearse(
        service(
            command=[
                PYTHON,
                "-c",
                "import sys; print('starting', flush=True); "
                "print('no configuration', file=sys.stderr); sys.exit(3)",
            ]
        )
    )
    assert not result.passed
    assert result.reason == "the process exited with code 3 before it was healthy"
    assert result.log_tail == ["starting", "no configuration"]


@needs_sandbox
def test_a_check_that_never_passes_fails_after_its_retries() -> None:
    rehearsal = service(
        health_command=["CMD-SHELL", "sleep 30"], health_timeout_s=0.5, health_retries=2
    )
    result = rehearse(rehearsal)
    assert not result.passed
    assert result.reason == "health check failed 2 times; the last attempt timed out after 0.5 s"
    assert result.duration_s < rehearsal.time_limit_s


@needs_sandbox
def test_the_deadline_stops_everything_it_started() -> None:
    marker = f"rehearsal-{uuid.uuid4().hex}"  # in the service's command line, to find it
    rehearsal = service(
        command=then_serve(f"'{marker}'"),
        health_command=["CMD", "/bin/false"],
        health_start_period_s=60,  # failures never count, so only the deadline ends it
        deadline_s=2,
    )
    result = rehearse(rehearsal)
    assert not result.passed
    assert result.reason == "the rehearsal did not finish within 2 s"
    assert result.duration_s < 2 + STOP_GRACE_S  # SIGTERM ends the sandbox; no grace needed
    survivors = [path for path in Path("/proc").glob("[0-9]*/cmdline") if marker in _read(path)]
    assert survivors == []


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:  # the process ended while we looked
        return ""


# --- (f), (g): what the container sees ------------------------------------------------------
@needs_sandbox
def test_the_root_is_read_only_outside_the_volumes() -> None:
    # As root, so that only the read-only mounts (not file permissions) can refuse a write.
    places = ["/etc", "/srv", "/tmp", "/", SCRATCH, "/rehearsal-data"]
    attempts = "; ".join(
        f"print('{place}', _try('{place}/rehearsal-probe'), flush=True)" for place in places
    )
    try_write = (
        "def _try(path):\n"
        "    try:\n"
        "        open(path, 'w').close()\n"
        "        return 'written'\n"
        "    except OSError as error:\n"
        "        return error.strerror\n"
    )
    result = rehearse(
        service(
            user="0",
            command=[PYTHON, "-c", f"{try_write}{attempts}; {SERVE}"],
            volumes=[SCRATCH, "/rehearsal-data"],  # a new top-level directory too
        )
    )
    assert result.passed, result
    written = dict(line.split(" ", 1) for line in result.log_tail if line.startswith("/"))
    assert written == {
        "/etc": "Read-only file system",
        "/srv": "Read-only file system",
        "/tmp": "Read-only file system",
        "/": "Read-only file system",
        SCRATCH: "written",
        "/rehearsal-data": "written",
    }
    assert not Path("/rehearsal-data").exists()  # made inside the sandbox only


@needs_sandbox
def test_the_environment_is_exactly_the_given_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HP_HOST_ONLY", "must not leak")
    environment = {"DATABASE_URL": "postgresql://app@127.0.0.1/app", "EMPTY": "", "A": "b c"}
    result = rehearse(
        service(
            command=["/usr/bin/env"],
            environment=environment,
            path="/usr/bin:/bin",
            home="/home/app",
        )
    )
    assert sorted(result.log_tail) == sorted(
        [
            "PATH=/usr/bin:/bin",
            "HOME=/home/app",
            "DATABASE_URL=postgresql://app@127.0.0.1/app",
            "EMPTY=",
            "A=b c",
        ]
    )


@needs_sandbox
def test_the_health_check_runs_as_the_user_with_the_environment() -> None:
    script = 'test "$(id -u):$(id -g)" = 10001:10001 && test "$TOKEN" = t && test -z "$USER"'
    result = rehearse(service(environment={"TOKEN": "t"}, health_command=["CMD-SHELL", script]))
    assert result.passed, result


# --- what a container runtime does that a naive sandbox would not -----------------------------
@needs_sandbox
def test_the_user_may_reopen_its_own_stderr() -> None:
    # nginx logs to /dev/stderr; runc gives a container's stdio to its user, so may we.
    result = rehearse(service(command=then_serve("open('/dev/stderr', 'w').write('reopened\\n')")))
    assert result.passed, result
    assert "reopened" in result.log_tail


@needs_sandbox
def test_a_server_on_loopback_only_fails_as_a_load_balancer_would_see_it() -> None:
    result = rehearse(
        service(command=[PYTHON, "-c", SERVE.replace("('', 5000)", "('127.0.0.1', 5000)")])
    )
    assert not result.passed
    assert "nothing listens on port 5000 of every address" in result.reason


@needs_sandbox
def test_a_writable_root_is_not_pretended() -> None:
    result = rehearse(service(readonly_root=False))
    assert result.passed
    assert result.caveats and "ran it read-only" in result.caveats[0]


# --- inputs, without running anything -----------------------------------------------------------
def test_every_problem_with_the_inputs_is_named_at_once() -> None:
    with pytest.raises(InvalidInputError) as raised:
        service(
            user="app",
            port=70000,
            volumes=["tmp", "/data", "/data/"],
            health_command=["CMD-SHELL", "a", "b"],
            health_retries=0,
        )
    message = str(raised.value)
    assert message.startswith("cannot rehearse probe: ")
    for problem in [
        "user 'app' is not a numeric uid or uid:gid",
        "'tmp' is not an absolute path",
        "/data is mounted twice",
        "port 70000 is not a TCP port",
        "is neither [CMD, program, args...] nor [CMD-SHELL, script]",
        "at least one retry",
    ]:
        assert problem in message


def test_the_sandbox_options() -> None:
    rehearsal = service(
        volumes=["/tmp"],
        binds={"/etc/nginx/nginx.conf": Path("/frontend/nginx.conf")},
        environment={"SECRET_KEY": "s3cret"},
    )
    options = sandbox_options(rehearsal, {"/tmp": Path("/scratch/volumes/0")})
    text = " ".join(options)
    assert text.startswith("--ro-bind / / --dev /dev --proc /proc --unshare-net --unshare-pid")
    for expected in [
        "--die-with-parent",
        "--new-session",
        "--bind /scratch/volumes/0 /tmp",
        "--ro-bind /frontend/nginx.conf /etc/nginx/nginx.conf",
        "--clearenv --setenv PATH",
        "--setenv SECRET_KEY s3cret",
        "--chdir /",
    ]:
        assert expected in text


@needs_sandbox
def test_the_supervisor_stays_visible_under_a_volume(monkeypatch: pytest.MonkeyPatch) -> None:
    # A checkout in /tmp: the task's /tmp volume would cover the supervisor's Python.
    venv = "/tmp/checkout/.venv"
    monkeypatch.setattr(sandbox, "_supervisor_binds", lambda: {venv: Path(venv)})
    options = " ".join(
        sandbox_options(service(volumes=["/tmp"]), {"/tmp": Path("/scratch/volumes/0")})
    )
    volume = options.index("--bind /scratch/volumes/0 /tmp")
    parent = options.index("--perms 0755 --dir /tmp/checkout")
    laid_back = options.index(f"--ro-bind {venv} {venv}")
    assert volume < parent < laid_back
