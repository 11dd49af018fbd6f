"""What `hp up`, `hp down`, `hp status local`, `hp logs local`, `hp db migrate local`,
`hp reset local` and `hp users create-admin` do, as plain functions (the CLI renders)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg

from health_platform.errors import (
    InvalidInputError,
    LocalPlatformError,
    RefusedError,
    ToolchainError,
)
from health_platform.local import admins, processes
from health_platform.local import ports as port_tools
from health_platform.local.admins import NewAdmin
from health_platform.local.backups import backups_without_a_database, in_recovery
from health_platform.local.backups import delete_backups as delete_backups_of
from health_platform.local.components import (
    Component,
    LocalPostgres,
    components,
    database_url,
    libpq_url,
)
from health_platform.local.config import COMPONENTS, LocalConfig, local_config
from health_platform.local.credentials import Credentials, load_or_create
from health_platform.local.nginx import FRONTEND_DIST
from health_platform.local.postgres import as_root, postgres_bin
from health_platform.local.tls import ensure_certificate
from health_platform.paths import REPO

FRONTEND = REPO / "frontend"
PINNED_NODE = REPO / "node_modules" / "node" / "bin"
LOG_LINES_ON_FAILURE = 25
LEADER_STOP_TIMEOUT = 30.0  # seconds a leftover master gets to stop its workers itself


def saved_config(state_dir: Path | None) -> LocalConfig:
    """The configuration `hp up` last used for this state folder (its ports), for the
    commands that act on a running platform; when it never ran (or was reset), what the
    environment says (HP_BACKUP_DIR, ports), else the defaults."""
    from_environment = local_config({"state_dir": state_dir})
    try:
        saved = json.loads((from_environment.state_dir / "config.json").read_text())
    except (OSError, ValueError):
        return from_environment
    return LocalConfig.from_saved(saved, from_environment.state_dir)


def credentials_of(config: LocalConfig) -> Credentials:
    return load_or_create(config.path("credentials.json"))


def prepared_components(config: LocalConfig) -> list[Component]:
    certificate = ensure_certificate(config.path("tls"))
    return components(config, credentials_of(config), certificate)


# --- is it running? ---------------------------------------------------------------------------
def _pid_number(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_in(path: Path) -> int | None:
    pid = _pid_number(path)
    return pid if pid is not None and processes.alive(pid) else None


def supervisor_pid(config: LocalConfig) -> int | None:
    return _pid_in(config.pid_file("supervisor"))


def read_status(config: LocalConfig) -> dict[str, Any]:
    try:
        return dict(json.loads((config.run_dir / "status.json").read_text()))
    except (OSError, ValueError):
        return {}


def _ports_of(config: LocalConfig, name: str) -> list[int]:
    return [port for label, port in config.ports.items() if label.split()[0] == name]


def _leftovers_of(config: LocalConfig, name: str) -> list[psutil.Process]:
    """What of component `name` runs in this state folder with no supervisor: the process
    group its pid file names (a master killed with SIGKILL leaves its workers in it) and
    the groups of whatever listens on its ports (a pid file may be gone)."""
    groups = {pid for pid in [_pid_number(config.pid_file(name))] if pid is not None}
    for port in _ports_of(config, name):
        groups |= {g for g in map(processes.group_of, processes.listener_pids(port)) if g}
    return processes.leftovers(groups, config.state_dir)


def _stop_leftovers(config: LocalConfig) -> list[str]:
    """Components still running from a supervisor that died (killed, or the machine's
    session ended), whole process groups: stopped, so the next start owns every process
    and port. A group's leader (the master) first, gracefully, then the rest."""
    stopped = []
    for name in reversed(COMPONENTS):
        left = _leftovers_of(config, name)
        if left:
            graceful = signal.SIGINT if name == "postgres" else signal.SIGTERM
            masters = [p for p in left if processes.group_of(p.pid) == p.pid]
            processes.stop(masters, graceful, grace=LEADER_STOP_TIMEOUT)
            processes.stop(left, graceful)
            stopped.append(name)
        config.pid_file(name).unlink(missing_ok=True)
    return stopped


# --- before starting ---------------------------------------------------------------------------
def check_tools() -> None:
    postgres_bin("postgres")
    missing = [tool for tool in ("redis-server", "openssl") if shutil.which(tool) is None]
    if not (Path("/usr/sbin/nginx").exists() or shutil.which("nginx")):
        missing.append("nginx")
    if missing:
        raise ToolchainError(f"Not installed: {', '.join(missing)}; run `make setup`.")


def check_ports(config: LocalConfig) -> None:
    taken = []
    for name, port in config.ports.items():
        if not port_tools.is_free(port):
            holder = port_tools.holder(port)
            taken.append(f"{port} ({name}) is in use" + (f" by {holder}" if holder else ""))
    if taken:
        raise LocalPlatformError(
            "Port "
            + "; port ".join(taken)
            + ". Stop that program or choose other ports (see `hp up --help`)."
        )


def frontend_is_stale() -> bool:
    built = FRONTEND_DIST / "index.html"
    if not built.exists():
        return True
    sources = [FRONTEND / name for name in ("index.html", "vite.config.ts", "package-lock.json")]
    sources += [p for folder in ("src", "public") for p in (FRONTEND / folder).rglob("*")]
    newest = max(p.stat().st_mtime for p in sources if p.is_file())
    return newest > built.stat().st_mtime


def build_frontend() -> None:
    if not (FRONTEND / "node_modules").exists() or not (PINNED_NODE / "node").exists():
        raise ToolchainError("The frontend's packages are not installed; run `make setup`.")
    if shutil.which("npm") is None:
        raise ToolchainError("npm is not installed; run `make setup`.")
    env = {**os.environ, "PATH": f"{PINNED_NODE}{os.pathsep}{os.environ.get('PATH', '')}"}
    built = subprocess.run(
        ["npm", "run", "--silent", "build"],  # noqa: S607 - npm from PATH, as make does
        cwd=FRONTEND,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise LocalPlatformError(f"The frontend build failed:\n{built.stdout}{built.stderr}")


# --- the state folder's permissions ------------------------------------------------------------
def passed_through(config: LocalConfig) -> set[Path]:
    """The folders that, as root, other users' processes must pass through (0711: no
    listing): PostgreSQL's owner (`postgres`) to its cluster, pgBackRest's logs, locks and
    repository (a backups folder elsewhere is the user's to set); nginx's workers
    (`nobody`) to their temporary folders."""
    if not as_root():
        return set()
    nginx = config.path("nginx")
    inside = {config.backups_dir} if config.backups_dir.is_relative_to(config.state_dir) else set()
    return {
        config.state_dir,
        config.log_dir,
        config.run_dir,
        nginx,
        nginx / "frontend",
        nginx / "balancer",
        *inside,
    }


def make_private(config: LocalConfig) -> None:
    """The state folder its owner's alone: folders 0700 (or 0711, `passed_through`), files
    0600, as what the supervisor creates from now on. What belongs to another user (the
    cluster, pgBackRest's folders, nginx's temporary ones) keeps its owner's modes."""
    through = passed_through(config)
    for folder in through:
        folder.mkdir(parents=True, exist_ok=True)
    mine = os.geteuid()
    for root, folders, files in os.walk(config.state_dir):
        here = Path(root)
        here.chmod(0o711 if here in through else 0o700)
        folders[:] = [name for name in folders if _owned(here / name, mine, stat.S_ISDIR)]
        for name in files:
            if _owned(here / name, mine, stat.S_ISREG):
                with suppress(FileNotFoundError):
                    (here / name).chmod(0o600)


def _owned(path: Path, owner: int, kind: Callable[[int], bool]) -> bool:
    """Whether `path` is of `kind` (not a symbolic link) and belongs to `owner`; False for
    one gone meanwhile (a running platform's files come and go)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    return info.st_uid == owner and kind(info.st_mode)


# --- up ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    """What `up` reports as it goes: a line of text, or a component that became healthy."""

    say: Callable[[str], None]
    healthy: Callable[[str, int, float], None]


def last_lines(path: Path, count: int = LOG_LINES_ON_FAILURE) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-count:]
    except OSError:
        return []


def up(config: LocalConfig, progress: Progress) -> bool:
    """Start the platform and wait until every component is healthy. False: it was already
    running. A component that fails stops the whole start (LocalPlatformError)."""
    if supervisor_pid(config) is not None:
        return False
    check_tools()
    leftovers = _stop_leftovers(config)
    if leftovers:
        progress.say(f"stopped what a previous run left behind: {', '.join(leftovers)}")
    check_ports(config)
    if backups_without_a_database(config):
        progress.say(
            "WARNING: the data folder is gone but the backups hold a database; this start makes"
            " an empty one. `hp restore local --to latest --yes` brings the backed-up one back."
        )
    if frontend_is_stale():
        progress.say("building the frontend")
        build_frontend()
    config.run_dir.mkdir(parents=True, exist_ok=True)
    config.log_dir.mkdir(parents=True, exist_ok=True)
    ensure_certificate(config.path("tls"))
    credentials_of(config)
    (config.run_dir / "status.json").unlink(missing_ok=True)
    settings = config.as_json()
    config.path("config.json").write_text(settings)
    make_private(config)
    log = os.open(config.log_file("supervisor"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log, "ab") as supervisor_log:
        supervisor = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "health_platform.local.supervisor", settings],
            stdout=supervisor_log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # it outlives this command
            cwd=REPO,
            umask=0o077,  # what it and the components create is their owner's alone
        )
    try:
        return _wait_until_running(config, supervisor, progress)
    except KeyboardInterrupt:
        supervisor.send_signal(signal.SIGTERM)  # Ctrl-C: undo the start, not half of it
        supervisor.wait()
        raise LocalPlatformError("Interrupted; everything started was stopped.") from None


def _wait_until_running(
    config: LocalConfig, supervisor: subprocess.Popen[bytes], progress: Progress
) -> bool:
    started = time.monotonic()
    reported: set[str] = set()
    while True:
        status = read_status(config)
        for name, component in status.get("components", {}).items():
            if component["state"] == "healthy" and name not in reported:
                reported.add(name)
                progress.healthy(name, component["port"], time.monotonic() - started)
        if status.get("state") == "running":
            return True
        if status.get("state") == "failed" or supervisor.poll() is not None:
            supervisor.wait()
            failure = status.get("failure") or {"component": "supervisor", "reason": "exited"}
            name = failure["component"]
            log = config.log_file(name)
            lines = last_lines(log) or last_lines(config.log_file("supervisor"))
            raise LocalPlatformError(
                f"{name} failed to start ({failure['reason']}); everything started was stopped."
                f" The last lines of {log}:\n" + "\n".join(lines)
            )
        time.sleep(0.1)


# --- down, status, logs, reset -------------------------------------------------------------------
def down(config: LocalConfig) -> bool:
    """Stop everything, gracefully, in reverse order. False: nothing was running."""
    pid = supervisor_pid(config)
    if pid is None:
        return bool(_stop_leftovers(config))
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 120
    while processes.alive(pid):
        if time.monotonic() > deadline:
            raise LocalPlatformError(f"The supervisor (pid {pid}) did not stop in 2 minutes.")
        time.sleep(0.1)
    _stop_leftovers(config)
    return True


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    port: int
    healthy: bool
    uptime_seconds: float | None
    restarts: int
    in_rotation: bool
    read_only: bool = False  # postgres only: a restore not yet promoted


def status(config: LocalConfig) -> list[ComponentStatus]:
    published = read_status(config).get("components", {})
    checks = {c.name: c for c in prepared_components(config)} if supervisor_pid(config) else {}
    rows = []
    for name in COMPONENTS:
        pid = _pid_in(config.pid_file(name))
        entry = published.get(name, {})
        check = checks.get(name)
        rows.append(
            ComponentStatus(
                name=name,
                pid=pid,
                port=config.ports[name],
                healthy=bool(pid and check and check.healthy()),
                uptime_seconds=time.time() - entry["started_at"] if pid and entry else None,
                restarts=int(entry.get("restarts", 0)),
                in_rotation=bool(entry.get("in_rotation", True)),
                read_only=name == "postgres" and pid is not None and database_read_only(config),
            )
        )
    return rows


def database_read_only(config: LocalConfig) -> bool:
    """A restored database not yet promoted: it refuses writes."""
    try:
        return in_recovery(libpq_url(config, credentials_of(config), "superuser"))
    except psycopg.Error:
        return False


def log_path(config: LocalConfig, component: str) -> Path:
    if component not in (*COMPONENTS, "supervisor"):
        raise InvalidInputError(
            f"No component {component!r}; one of: {', '.join((*COMPONENTS, 'supervisor'))}."
        )
    return config.log_file(component)


def follow(paths: list[Path], prefix: bool) -> Iterator[str]:
    """Lines appended to `paths` from now on, as they come (until interrupted)."""
    offsets = {path: path.stat().st_size if path.exists() else 0 for path in paths}
    while True:
        for path in paths:
            if not path.exists():
                continue
            size = path.stat().st_size
            if size < offsets[path]:
                offsets[path] = 0  # truncated or replaced
            if size > offsets[path]:
                with path.open("rb") as file:
                    file.seek(offsets[path])
                    chunk = file.read()
                offsets[path] += len(chunk)
                for line in chunk.decode(errors="replace").splitlines():
                    yield f"{path.stem:<10} {line}" if prefix else line
        time.sleep(0.25)


# What `hp reset local` keeps in the state folder unless told to delete the backups too:
# the passwords of the roles inside them (a restored database knows only those) and the
# settings `hp up` used (where the backups are, the ports), besides the backups themselves.
KEPT_FOR_BACKUPS = ("credentials.json", "config.json")


def reset(config: LocalConfig, yes: bool, *, delete_backups: bool = False) -> list[Path]:
    """Stop the platform and delete its state; returns what was kept."""
    if not yes:
        raise RefusedError(
            f"`hp reset local` deletes {config.state_dir} (the database, uploads, keys;"
            " backups too with --delete-backups). Pass --yes to do it."
        )
    down(config)
    if delete_backups:
        delete_backups_of(config)
        shutil.rmtree(config.state_dir, ignore_errors=True)
        return []
    if not config.state_dir.exists():
        return []
    kept = [config.path(name) for name in KEPT_FOR_BACKUPS if config.path(name).exists()]
    for entry in config.state_dir.iterdir():
        if entry in kept or entry == config.backups_dir:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return [config.backups_dir, *kept] if config.backups_dir.exists() else kept


@contextmanager
def database_errors(doing: str) -> Iterator[None]:
    """PostgreSQL refusing or gone while `doing`: one sentence (exit 7), not a traceback."""
    try:
        yield
    except psycopg.Error as refused:
        said = str(refused).strip().splitlines()[0] if str(refused).strip() else type(refused)
        raise LocalPlatformError(
            f"The database failed while {doing}: {said}. See `hp doctor local`."
        ) from refused


def _require_running(config: LocalConfig) -> None:
    if supervisor_pid(config) is None:
        raise LocalPlatformError("The local platform is not running; start it with `hp up`.")


def migrate(config: LocalConfig) -> None:
    from health_platform.api.migrate import migrate as upgrade

    _require_running(config)
    credentials = credentials_of(config)
    if in_recovery(libpq_url(config, credentials, "superuser")):
        raise RefusedError(
            "The database is restored and read-only until promoted;"
            " run `hp restore local --promote` (it migrates too)."
        )
    # The roles first (idempotent): a cluster started by an older version may not have the
    # runtime role yet, and the owner that migrates may not create roles.
    LocalPostgres(config, credentials, ensure_certificate(config.path("tls"))).prepare_database()
    upgrade(database_url(config, credentials, "owner"))


def create_admin(config: LocalConfig, email: str, name: str) -> NewAdmin:
    _require_running(config)
    return admins.create_admin(database_url(config, credentials_of(config)), email, name)
