"""One container of a task definition, run on this machine the way Fargate would run it,
and judged by the container's own health check.

The sandbox is bubblewrap's: the host's root file system read-only, a private network
(loopback only, so the service's port collides with nothing and no traffic leaves), its own
process ids, exactly the task's environment, and each volume a fresh directory owned as the
image leaves it. Two halves of one run live here:

- outside the sandbox, `rehearse` lays the sandbox out, starts it, waits for the verdict
  within a deadline and always stops the process group it started;
- inside it, `supervise` (started by bwrap, as the sandbox's root) runs the service as the
  task's user, runs the health check as ECS does, stops the service and reports.

Plans and options travel through inherited file descriptors rather than the command line:
the environment holds secrets, and a command line is readable by every user of the machine.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from health_platform.errors import InvalidInputError, ToolchainError
from health_platform.images.fargate import FARGATE_VOLUME_OWNER, user_ids
from health_platform.local.ports import EVERY_ADDRESS, listening_addresses

BWRAP = Path("/usr/bin/bwrap")
SETPRIV = Path("/usr/bin/setpriv")
# Docker's PATH for an image that sets none.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Docker's default capabilities (what a root task keeps on Fargate); a non-root user has none
# of them anyway once it leaves uid 0, as no_new_privs and nosuid mounts keep it that way.
CONTAINER_CAPABILITIES = (
    "-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,"
    "+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap"
)
LOG_TAIL_LINES = 30
STOP_GRACE_S = 5.0  # SIGTERM to SIGKILL, for the service and for the sandbox
# Beyond the health check's own worst case: sandbox setup, interpreter start, stopping.
DEADLINE_MARGIN_S = 10.0

_ENV_NAME = re.compile(r"[^=\0]+")


@dataclass(frozen=True, kw_only=True)
class Rehearsal:
    """One container as its synthesized task definition describes it, with the image's
    facts (volume owners, its own files as read-only binds) filled in from this repository."""

    name: str  # the service, for messages
    # The task definition's User: "uid:gid", or "uid" which runs with gid = uid (each of our
    # images gives its user a group of the same number; Docker would read /etc/passwd).
    user: str
    readonly_root: bool = True
    volumes: list[str] = field(default_factory=list)  # container paths of the mount points
    # (uid, gid, mode) of a volume the image creates (dockerfile.ImageSpec.volume_owners);
    # a volume not listed is FARGATE_VOLUME_OWNER.
    volume_owners: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # Container path -> host path, read-only: how the image's own files appear here.
    binds: dict[str, Path] = field(default_factory=dict)
    # Host directories the container must not see (an empty read-only directory instead);
    # binds may still lay the image's files inside one (a Python under /root, say).
    hidden: list[str] = field(default_factory=list)
    command: list[str]
    # Exactly what the container receives (Environment, Secrets mapped to local values);
    # PATH and HOME come from `path` and `home` unless this sets them too, as in ECS.
    environment: dict[str, str] = field(default_factory=dict)
    port: int  # the container port the load balancer targets
    health_command: list[str]  # HealthCheck.Command: ["CMD", argv...] or ["CMD-SHELL", script]
    health_interval_s: float = 30.0  # the rest as ECS's defaults
    health_timeout_s: float = 5.0
    health_retries: int = 3
    health_start_period_s: float = 0.0
    path: str = DEFAULT_PATH
    home: str = "/"
    workdir: str = "/"
    deadline_s: float | None = None  # None: the health check's worst case plus a margin

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise InvalidInputError(f"cannot rehearse {self.name}: {'; '.join(problems)}")

    @property
    def ids(self) -> tuple[int, int]:
        ids = user_ids(self.user)
        assert ids is not None  # checked in __post_init__
        return ids

    @property
    def time_limit_s(self) -> float:
        if self.deadline_s is not None:
            return self.deadline_s
        # Failures in the start period don't count, then `retries` do; one more attempt
        # may straddle the end of the start period.
        attempt = self.health_interval_s + self.health_timeout_s
        worst = self.health_start_period_s + (self.health_retries + 1) * attempt
        return worst + DEADLINE_MARGIN_S

    @property
    def container_environment(self) -> dict[str, str]:
        return {"PATH": self.path, "HOME": self.home, **self.environment}


@dataclass(frozen=True)
class RehearsalResult:
    passed: bool
    reason: str  # one sentence: "health check passed after 3.1 s"
    log_tail: list[str]  # the last lines of the service's stdout and stderr (and bwrap's)
    duration_s: float
    # Ways this run differed from ECS for this task, e.g. a writable root it ran read-only.
    caveats: list[str] = field(default_factory=list)


def _problems(rehearsal: Rehearsal) -> list[str]:
    """Everything wrong with a rehearsal's inputs, so that one message names them all."""
    problems = []
    if user_ids(rehearsal.user) is None:
        problems.append(f"user {rehearsal.user!r} is not a numeric uid or uid:gid")
    if not rehearsal.command:
        problems.append("the command is empty")
    paths = [*rehearsal.volumes, *rehearsal.binds, rehearsal.home, rehearsal.workdir]
    problems += [f"{path!r} is not an absolute path" for path in paths if not path.startswith("/")]
    targets = [_clean(path) for path in [*rehearsal.volumes, *rehearsal.binds]]
    if "/" in targets:
        problems.append("nothing can be mounted on / (the root is the host's, read-only)")
    problems += [f"{path} is mounted twice" for path in sorted(_duplicates(targets))]
    problems += [
        f"volume {path} has mode {mode:o}, beyond 7777"
        for path, (_, _, mode) in rehearsal.volume_owners.items()
        if not 0 <= mode <= 0o7777
    ]
    problems += [
        f"environment variable {name!r} cannot be passed (a name without = or NUL, a value "
        "without NUL)"
        for name, value in rehearsal.environment.items()
        if not _ENV_NAME.fullmatch(name) or "\0" in value
    ]
    if not 1 <= rehearsal.port <= 65535:
        problems.append(f"port {rehearsal.port} is not a TCP port")
    problems += _health_problems(rehearsal)
    return problems


def _health_problems(rehearsal: Rehearsal) -> list[str]:
    problems = []
    kind, *rest = rehearsal.health_command or [""]
    if not ((kind == "CMD" and rest) or (kind == "CMD-SHELL" and len(rest) == 1)):
        problems.append(
            f"health command {rehearsal.health_command} is neither [CMD, program, args...] "
            "nor [CMD-SHELL, script]"
        )
    if rehearsal.health_interval_s <= 0 or rehearsal.health_timeout_s <= 0:
        problems.append("the health check's interval and timeout must be positive")
    if rehearsal.health_retries < 1:
        problems.append("the health check needs at least one retry")
    if rehearsal.health_start_period_s < 0:
        problems.append("the health check's start period cannot be negative")
    if rehearsal.deadline_s is not None and rehearsal.deadline_s <= 0:
        problems.append("the deadline must be positive")
    return problems


def _clean(path: str) -> str:
    return posixpath.normpath(path)


def _duplicates(items: list[str]) -> set[str]:
    return {item for item in items if items.count(item) > 1}


# --- outside the sandbox --------------------------------------------------------------------
def require_sandbox() -> None:
    """Raise ToolchainError unless this machine can run rehearsals."""
    for tool, package in ((BWRAP, "bubblewrap"), (SETPRIV, "util-linux")):
        if not os.access(tool, os.X_OK):
            raise ToolchainError(
                f"{tool} (Debian's {package}) is missing, and rehearsals run in its "
                "sandbox: run `make setup`"
            )
    if os.geteuid() != 0:
        raise ToolchainError(
            "rehearsals run as root: the sandbox switches to the task's user and gives "
            "volumes their owners, which only root may do"
        )


def rehearse(rehearsal: Rehearsal) -> RehearsalResult:
    """Run `rehearsal`'s container in a sandbox until its health check passes or fails, the
    process exits, or the deadline passes; the sandbox is gone when this returns."""
    require_sandbox()
    missing = [
        f"{source} (for {target})"
        for target, source in rehearsal.binds.items()
        if not source.exists()
    ]
    if missing:
        raise InvalidInputError(f"cannot rehearse {rehearsal.name}: missing {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix=f"hp-rehearse-{rehearsal.name}-") as folder:
        scratch = Path(folder)
        volumes = make_volumes(rehearsal, scratch / "volumes")
        output = scratch / "output.log"
        started = time.monotonic()
        passed, reason = _run(rehearsal, sandbox_options(rehearsal, volumes), output)
        duration = time.monotonic() - started
        return RehearsalResult(
            passed=passed,
            reason=reason,
            log_tail=_tail(output, LOG_TAIL_LINES),
            duration_s=round(duration, 2),
            caveats=_caveats(rehearsal),
        )


def make_volumes(rehearsal: Rehearsal, folder: Path) -> dict[str, Path]:
    """A fresh, empty host directory for each volume (container path -> directory), owned
    as the image leaves it, or as Fargate mounts one the image does not create."""
    owners = {_clean(path): owner for path, owner in rehearsal.volume_owners.items()}
    folder.mkdir()
    directories = {}
    for index, target in enumerate(rehearsal.volumes):
        directory = folder / str(index)
        directory.mkdir()
        uid, gid, mode = owners.get(_clean(target), FARGATE_VOLUME_OWNER)
        os.chown(directory, uid, gid)
        directory.chmod(mode)  # after chown, which clears set-id bits
        directories[target] = directory
    return directories


def sandbox_options(rehearsal: Rehearsal, volumes: dict[str, Path]) -> list[str]:
    """bwrap's options (everything before the command) for `rehearsal`, its volumes in the
    given host directories."""
    binds = {**_supervisor_binds(), **rehearsal.binds}
    mounts = [(_clean(target), "--bind", str(path)) for target, path in volumes.items()]
    mounts += [(_clean(target), "--ro-bind", str(path)) for target, path in binds.items()]
    mounts += [(_clean(target), "--tmpfs", "") for target in rehearsal.hidden]
    # Where a bind lands inside another mount (a hidden home, a volume), the folders leading
    # to it are made for it.
    covers = [_clean(target) for target in [*volumes, *rehearsal.hidden]]
    mounts.sort(key=lambda mount: len(mount[0]))  # a parent before what it holds
    root, remounts = _read_only_root([target for target, _, _ in mounts])
    options = [
        *root,
        "--dev", "/dev",
        "--proc", "/proc",
        "--unshare-net",  # loopback only, which bwrap brings up
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname", rehearsal.name,
        "--die-with-parent",
        "--new-session",
    ]  # fmt: skip
    for target, kind, source in mounts:
        if kind == "--tmpfs":
            options += ["--perms", "0755", kind, target]
            continue
        if kind == "--ro-bind":
            options += _traversable_parents(target, covers)
        options += [kind, source, target]
    options += remounts
    for target in rehearsal.hidden:
        options += ["--remount-ro", _clean(target)]
    options.append("--clearenv")
    for name, value in rehearsal.container_environment.items():
        options += ["--setenv", name, value]
    options += ["--chdir", rehearsal.workdir]
    return options


def _supervisor_binds() -> dict[str, Path]:
    """The supervisor inside the sandbox is this Python running this package: their folders
    stay visible at their own paths, even under a task volume (a checkout in /tmp, where a
    task mounts its /tmp) or a hidden home."""
    package_root = Path(__file__).resolve().parents[2]  # src/, or site-packages
    return {folder: Path(folder) for folder in {sys.base_prefix, sys.prefix, str(package_root)}}


def _traversable_parents(target: str, covers: list[str]) -> list[str]:
    """Inside a mount that covers it (a hidden directory, a volume), the folders leading to
    `target` made 0755 (bwrap would make them 0700, which only root may enter)."""
    for directory in sorted(covers, key=len, reverse=True):  # the innermost cover
        if not target.startswith(directory.rstrip("/") + "/"):
            continue
        parents = []
        parent = posixpath.dirname(target)
        while parent != directory:
            parents.append(parent)
            parent = posixpath.dirname(parent)
        return [
            part for folder in reversed(parents) for part in ("--perms", "0755", "--dir", folder)
        ]
    return []


def _read_only_root(targets: list[str]) -> tuple[list[str], list[str]]:
    """The options that lay the host's root read-only, and the remounts to put after the
    mounts.

    bwrap cannot create a mount point under a read-only root, and an image's paths (say
    /var/cache/nginx) need not exist on this machine. So the nearest directory that does
    exist is shadowed: a tmpfs, the host's entries bound back into it read-only, the new
    mount point made in it, the tmpfs remounted read-only. The root itself is shadowed the
    same way when a new top-level directory is needed (bwrap's own root is a tmpfs)."""
    shadows: set[str] = set()
    for target in targets:
        if _inside_another(target, targets) or os.path.lexists(target):
            continue  # bwrap makes the point inside the other mount, or it is there already
        shadows.add(_nearest_directory(target))
    ordered = sorted(shadows, key=len)  # a parent before what it holds
    options = [] if "/" in shadows else ["--ro-bind", "/", "/"]
    for directory in ordered:
        if directory != "/":
            mode = Path(directory).stat().st_mode & 0o7777
            options += ["--perms", f"{mode:04o}", "--tmpfs", directory]
        options += _entries_of(directory)
    return options, [option for directory in ordered for option in ("--remount-ro", directory)]


def _inside_another(target: str, targets: list[str]) -> bool:
    return any(other != target and target.startswith(other.rstrip("/") + "/") for other in targets)


def _nearest_directory(path: str) -> str:
    parent = posixpath.dirname(path)
    while not Path(parent).is_dir():
        parent = posixpath.dirname(parent)
    return parent


def _entries_of(directory: str) -> list[str]:
    options = []
    for entry in sorted(Path(directory).iterdir()):
        if directory == "/" and entry.name in ("dev", "proc"):
            continue  # fresh ones come with --dev and --proc
        if entry.is_symlink():
            options += ["--symlink", str(entry.readlink()), str(entry)]
        else:
            options += ["--ro-bind-try", str(entry), str(entry)]
    return options


def _run(rehearsal: Rehearsal, options: list[str], output: Path) -> tuple[bool, str]:
    """Start the sandbox with its output copied to `output`, wait for the verdict, stop it."""
    plan = json.dumps(asdict(_Plan.of(rehearsal)))
    with (
        _readable_file("\0".join(options) + "\0") as options_file,
        _readable_file(plan) as plan_file,
        output.open("wb") as log,
    ):
        verdict_read, verdict_write = os.pipe()
        fds = (options_file.fileno(), plan_file.fileno(), verdict_write)
        supervisor = [sys.executable, "-I", "-c", _SUPERVISOR, str(fds[1]), str(fds[2])]
        # stdout is a pipe, as a container's is: a service may reopen it (/dev/stderr), which
        # a file would let it truncate or rewind.
        process = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
            [str(BWRAP), "--args", str(fds[0]), *supervisor],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=fds,
            start_new_session=True,  # one process group to stop, whatever happens here
        )
        os.close(verdict_write)  # so that the sandbox's end reads as end of file
        assert process.stdout is not None
        copier = threading.Thread(target=_copy, args=(process.stdout.fileno(), log), daemon=True)
        copier.start()
        verdict: tuple[bool, str] | None = None
        try:
            verdict = _await_verdict(process, verdict_read, rehearsal.time_limit_s)
        finally:
            os.close(verdict_read)
            # With a verdict the supervisor is stopping the service itself; give it time.
            _stop_group(process, patience=STOP_GRACE_S + 1 if verdict is not None else 0)
            copier.join(timeout=STOP_GRACE_S)  # the pipe ends with the sandbox
            if not copier.is_alive():
                process.stdout.close()
    if verdict is None:
        return False, f"the rehearsal did not finish within {rehearsal.time_limit_s:.0f} s"
    return verdict


def _copy(source: int, log: IO[bytes]) -> None:
    while chunk := os.read(source, 65536):
        log.write(chunk)
        log.flush()


@contextmanager
def _readable_file(text: str) -> Iterator[IO[bytes]]:
    """An unnamed temporary file holding `text`, at its start, for a child to read."""
    with tempfile.TemporaryFile() as file:
        file.write(text.encode())
        file.flush()
        file.seek(0)
        yield file


def _await_verdict(
    process: subprocess.Popen[bytes], fd: int, limit: float
) -> tuple[bool, str] | None:
    """(passed, reason) from the supervisor, or from the sandbox's early end; None when
    `limit` seconds pass first."""
    deadline = time.monotonic() + limit
    received = b""
    while not received.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:  # the sandbox ended without a verdict: it failed to start, or crashed
            try:
                code = process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                return False, "the sandbox stopped reporting before the service was judged"
            return False, f"the sandbox exited with code {code} before the service was judged"
        received += chunk
    verdict = json.loads(received)
    return bool(verdict["passed"]), str(verdict["reason"])


def _stop_group(process: subprocess.Popen[bytes], patience: float) -> None:
    """Wait up to `patience` for the sandbox to end, then stop its process group:
    SIGTERM, then SIGKILL. Killing bwrap kills the sandbox (--die-with-parent, and a pid
    namespace ends with its first process)."""
    try:
        process.wait(timeout=patience)
        return
    except subprocess.TimeoutExpired:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=STOP_GRACE_S)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def _tail(path: Path, lines: int) -> list[str]:
    with path.open("rb") as file:
        file.seek(max(0, path.stat().st_size - 256 * 1024))  # plenty for 30 lines
        text = file.read().decode(errors="replace")
    return [line.rstrip() for line in text.splitlines()[-lines:]]


def _caveats(rehearsal: Rehearsal) -> list[str]:
    caveats = []
    if not rehearsal.readonly_root:
        caveats.append(
            "the task definition's root file system is writable, but the rehearsal ran it "
            "read-only: a write outside the volumes that failed here would work on ECS"
        )
    return caveats


# --- inside the sandbox ---------------------------------------------------------------------
# What bwrap runs: the host's Python, isolated (-I) from the task's PYTHON* variables.
_SUPERVISOR = (
    "import sys; from health_platform.rehearse.sandbox import supervise; "
    "sys.exit(supervise(int(sys.argv[1]), int(sys.argv[2])))"
)


@dataclass(frozen=True)
class _Plan:
    """What the supervisor needs of a rehearsal, as JSON can carry it."""

    uid: int
    gid: int
    command: list[str]
    # Passed to each child explicitly: Python may have added to its own (PEP 538's LC_CTYPE).
    environment: dict[str, str]
    health: list[str]  # the argv of one check
    interval_s: float
    timeout_s: float
    retries: int
    start_period_s: float
    port: int

    @classmethod
    def of(cls, rehearsal: Rehearsal) -> _Plan:
        kind, *rest = rehearsal.health_command
        uid, gid = rehearsal.ids
        return cls(
            uid=uid,
            gid=gid,
            command=rehearsal.command,
            environment=rehearsal.container_environment,
            health=rest if kind == "CMD" else ["/bin/sh", "-c", rest[0]],
            interval_s=rehearsal.health_interval_s,
            timeout_s=rehearsal.health_timeout_s,
            retries=rehearsal.health_retries,
            start_period_s=rehearsal.health_start_period_s,
            port=rehearsal.port,
        )

    def as_user(self, argv: list[str]) -> list[str]:
        """`argv` run as the task's user, with a container's capabilities at most."""
        return [
            str(SETPRIV),
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--inh-caps=-all",
            f"--bounding-set={CONTAINER_CAPABILITIES}",
            "--",
            *argv,
        ]


def supervise(plan_fd: int, verdict_fd: int) -> int:
    """Inside the sandbox: start the service as the task's user, judge it by its health
    check, write the verdict to `verdict_fd` as one JSON line, stop the service."""
    with os.fdopen(plan_fd) as plan_file:
        plan = _Plan(**json.load(plan_file))
    # As runc does for a container: its stdout and stderr belong to its user, who may open
    # them again by name (nginx logs to /dev/stderr).
    for stdio in (1, 2):
        os.fchown(stdio, plan.uid, plan.gid)
    # Its output is ours, which is the rehearsal's log; nothing else of ours goes there.
    service = subprocess.Popen(  # noqa: S603 (the task's own command)
        plan.as_user(plan.command),
        env=plan.environment,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # the service and its children, one group to stop
    )
    try:
        passed, reason = _judge(service, plan)
        with os.fdopen(verdict_fd, "w") as verdict:
            verdict.write(json.dumps({"passed": passed, "reason": reason}) + "\n")
    finally:
        _stop_service(service)
    return 0


def _judge(service: subprocess.Popen[bytes], plan: _Plan) -> tuple[bool, str]:
    """The health check as ECS runs it: the first check one interval after the start, each
    next one an interval after the last ended; a pass at any time is healthy, failures count
    only after the start period, and `retries` counted failures in a row are unhealthy."""
    started = time.monotonic()
    next_check = started + plan.interval_s
    failures = 0
    while True:
        try:
            code = service.wait(timeout=max(0.0, next_check - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        else:
            return False, f"the process {_exit_description(code)} before it was healthy"
        healthy, attempt = _check(plan)
        if healthy:
            if not _listening_everywhere(plan.port):
                return False, (
                    f"the health check passed, but nothing listens on port {plan.port} of "
                    "every address (0.0.0.0 or ::), so a load balancer could not reach it"
                )
            return True, f"health check passed after {time.monotonic() - started:.1f} s"
        if time.monotonic() - started >= plan.start_period_s:
            failures += 1
            if failures >= plan.retries:
                return False, f"health check failed {failures} times; the last attempt {attempt}"
        next_check = time.monotonic() + plan.interval_s


def _check(plan: _Plan) -> tuple[bool, str]:
    """One health check: whether it passed, and what it did, for a message."""
    probe = subprocess.Popen(  # noqa: S603 (the task's own health command)
        plan.as_user(plan.health),
        env=plan.environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a CMD-SHELL's children time out with it
    )
    try:
        output, _ = probe.communicate(timeout=plan.timeout_s)
    except subprocess.TimeoutExpired:
        _signal_group(probe.pid, signal.SIGKILL)
        probe.wait()
        return False, f"timed out after {plan.timeout_s:g} s"
    if probe.returncode == 0:
        return True, "passed"
    said = [line.strip() for line in output.decode(errors="replace").splitlines() if line.strip()]
    return False, _exit_description(probe.returncode) + (f": {said[-1]}" if said else "")


def _exit_description(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _listening_everywhere(port: int) -> bool:
    """Whether a socket listens on `port` of every address. A server on 127.0.0.1 alone
    passes a health check run inside the container, yet the load balancer cannot reach it."""
    return any(address in EVERY_ADDRESS for address in listening_addresses(port))


def _stop_service(service: subprocess.Popen[bytes]) -> None:
    _signal_group(service.pid, signal.SIGTERM)
    try:
        service.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(service.pid, signal.SIGKILL)
        service.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # the group is already gone
        os.killpg(pgid, sig)
