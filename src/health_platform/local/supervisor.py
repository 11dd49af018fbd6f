"""The local platform's supervisor, a background process (`hp up` starts it):

- starts the components in order, each after the one before is healthy, running their
  hooks (the database's first setup, the API's migrations);
- restarts a component that exits (after stopping what is left of its process group: the
  workers of a master killed by SIGKILL live on and hold its port), and checks the API and
  the frontend every few seconds like the ALB, taking a failing one out of the load
  balancer's rotation until it recovers;
- on SIGTERM (`hp down`), stops everything in reverse order, each gracefully, each whole
  process group.

What it is doing is in `<state>/run/status.json`, which `hp up` and `hp status` read; each
component's output goes to `<state>/logs/<component>.log`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from health_platform.local.backups import BackupScheduler
from health_platform.local.components import Component
from health_platform.local.config import LocalConfig
from health_platform.local.processes import stop_group

# PostgreSQL's start includes replaying WAL after a crash or a restore.
START_TIMEOUT = {"postgres": 300.0, "api": 60.0}  # seconds; the others get DEFAULT_TIMEOUT
DEFAULT_TIMEOUT = 20.0
STOP_TIMEOUT = 30.0
BACKUP_STOP_TIMEOUT = 120.0  # a backup in progress when asked to stop: let it finish
CHECK_EVERY = 2.0  # seconds between health checks of the load balancer's upstreams
THRESHOLD = 2  # consecutive results that change an upstream's state, as the ALB counts
ROTATED = ("api", "frontend")
# Restarts: an exit this soon after a start is a failure, and failures in a row wait longer
# and longer (up to MAX_PAUSE) before the next start; up for STABLE_AFTER, it starts over.
QUICK_EXIT = 10.0
STABLE_AFTER = 60.0
PAUSE_STEP = 0.5
MAX_PAUSE = 5.0


class StartFailedError(Exception):
    def __init__(self, component: str, reason: str) -> None:
        super().__init__(reason)
        self.component = component


@dataclass
class Running:
    component: Component
    process: subprocess.Popen[bytes]
    started_at: float
    restarts: int = 0
    failures: int = 0  # exits in a row that came before STABLE_AFTER: the back-off's count
    state: str = "starting"
    streak: int = 0  # consecutive health results that disagree with `in_rotation`
    in_rotation: bool = True


@dataclass
class Supervisor:
    config: LocalConfig
    components: list[Component]
    running: dict[str, Running] = field(default_factory=dict)
    stopping: bool = False
    state: str = "starting"
    failure: dict[str, str] | None = None
    backups: BackupScheduler | None = None  # the backup schedule, once everything runs
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    # --- status, for hp up and hp status -------------------------------------------------
    def publish(self) -> None:
        status: dict[str, Any] = {
            "supervisor": os.getpid(),
            "state": self.state,
            "failure": self.failure,
            "components": {
                name: {
                    "state": run.state,
                    "pid": run.process.pid,
                    "port": run.component.port,
                    "started_at": run.started_at,
                    "restarts": run.restarts,
                    "in_rotation": run.in_rotation,
                }
                for name, run in self.running.items()
            },
        }
        path = self.config.run_dir / "status.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(status))
        temporary.replace(path)  # readers never see half a file

    # --- starting and stopping one component ---------------------------------------------
    def start(self, component: Component, restarts: int = 0, failures: int = 0) -> None:
        print(f"starting {component.name}", flush=True)
        try:
            component.before_start()
        except Exception as error:  # a hook's failure is the component's failure
            raise StartFailedError(component.name, f"{type(error).__name__}: {error}") from error
        log = self.config.log_file(component.name).open("ab")
        process = subprocess.Popen(  # noqa: S603
            component.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=component.env,
            user=component.user,
            start_new_session=True,  # its own process group: a Ctrl-C elsewhere is not its
            # Inside the state folder: how `hp up` and `hp down` know a leftover of this
            # platform holding one of its ports (PostgreSQL and Redis move into their own).
            cwd=self.config.run_dir,
        )
        log.close()
        self.config.pid_file(component.name).write_text(f"{process.pid}\n")
        run = Running(component, process, self.clock(), restarts, failures)
        self.running[component.name] = run
        self.publish()
        deadline = time.monotonic() + START_TIMEOUT.get(component.name, DEFAULT_TIMEOUT)
        while not component.healthy():
            if process.poll() is not None:
                raise StartFailedError(component.name, f"exited with code {process.returncode}")
            if self.stopping:
                return
            if time.monotonic() > deadline:
                raise StartFailedError(component.name, "did not become healthy in time")
            time.sleep(0.1)
        try:
            component.after_healthy()
        except Exception as error:
            raise StartFailedError(component.name, f"{type(error).__name__}: {error}") from error
        run.state = "healthy"
        self.publish()
        print(f"{component.name} is healthy (pid {process.pid})", flush=True)

    def stop(self, name: str) -> None:
        run = self.running.get(name)
        if run is None:
            return
        if run.process.poll() is None:
            run.process.send_signal(run.component.stop_signal)  # the master stops its workers
            try:
                run.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                run.process.kill()
                run.process.wait()
        # And what it left running.
        stop_group(run.process.pid, run.component.stop_signal, self.config.state_dir)
        run.state = "stopped"
        self.config.pid_file(name).unlink(missing_ok=True)
        self.publish()

    def stop_all(self) -> None:
        self.state = "stopping" if self.state != "failed" else "failed"
        for name in reversed(list(self.running)):
            print(f"stopping {name}", flush=True)
            self.stop(name)

    # --- keeping it running ----------------------------------------------------------------
    def revive(self, run: Running) -> None:
        """A component exited on its own: stop what is left of its process group, and start
        it again (after a pause that grows while it keeps failing), as ECS would replace a
        task."""
        name = run.component.name
        print(f"{name} exited with code {run.process.returncode}; restarting", flush=True)
        run.state = "restarting"
        self.publish()
        orphans = stop_group(run.process.pid, run.component.stop_signal, self.config.state_dir)
        if orphans:
            print(f"{name}: stopped {orphans} leftover process(es) of its group", flush=True)
        up_for = self.clock() - run.started_at
        failures = 0 if up_for >= STABLE_AFTER else run.failures + 1
        if up_for < QUICK_EXIT:
            self.sleep(min(MAX_PAUSE, PAUSE_STEP * failures))
        try:
            self.start(run.component, restarts=run.restarts + 1, failures=failures)
            if name == "balancer" or name in ROTATED:
                # A new balancer starts with every upstream in; a new upstream starts in.
                self.apply_rotation()
        except StartFailedError as failure:
            print(f"{name} did not come back: {failure}", flush=True)
            self.running[name].state = "failed"
            self.publish()

    def check_rotation(self) -> None:
        balancer = self.running.get("balancer")
        if balancer is None or balancer.component.rotate is None:
            return
        changed = False
        for name in ROTATED:
            run = self.running[name]
            healthy = run.process.poll() is None and run.component.healthy()
            run.streak = run.streak + 1 if healthy != run.in_rotation else 0
            if run.streak >= THRESHOLD:
                run.in_rotation, run.streak, changed = healthy, 0, True
                run.state = "healthy" if healthy else "unhealthy"
                print(f"{name} {'back in' if healthy else 'out of'} rotation", flush=True)
        if changed:
            self.apply_rotation()

    def apply_rotation(self) -> None:
        """Write the balancer's configuration with the upstreams out of rotation marked
        down, and have it reload."""
        balancer = self.running.get("balancer")
        if balancer is None or balancer.component.rotate is None:
            return
        down = frozenset(
            n for n in ROTATED if n in self.running and not self.running[n].in_rotation
        )
        balancer.component.rotate(down)
        balancer.process.send_signal(signal.SIGHUP)  # nginx reloads its configuration
        self.publish()

    def watch(self) -> None:
        last_check = 0.0
        while not self.stopping:
            for run in list(self.running.values()):
                if run.process.poll() is not None and not self.stopping:
                    self.revive(run)
            if time.monotonic() - last_check >= CHECK_EVERY:
                self.check_rotation()
                last_check = time.monotonic()
                if self.backups is not None:
                    self.backups.tick()
            time.sleep(0.2)

    # --- the whole life ----------------------------------------------------------------------
    def run(self) -> int:
        def request_stop(signum: int, _: FrameType | None) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.config.pid_file("supervisor").write_text(f"{os.getpid()}\n")
        try:
            for component in self.components:
                if self.stopping:
                    break
                self.start(component)
            if not self.stopping:
                self.state = "running"
                self.publish()
                print("every component is healthy", flush=True)
                self.watch()
            if self.backups is not None:
                self.backups.wait(BACKUP_STOP_TIMEOUT)  # not PostgreSQL under a backup
            self.stop_all()
            self.state = "stopped"
            return 0
        except StartFailedError as failure:
            print(f"{failure.component} failed to start: {failure}", flush=True)
            self.state = "failed"
            self.failure = {"component": failure.component, "reason": str(failure)}
            self.stop_all()
            return 1
        finally:
            self.publish()
            self.config.pid_file("supervisor").unlink(missing_ok=True)


def main() -> int:
    from health_platform.local.components import libpq_url
    from health_platform.local.platform import credentials_of, prepared_components

    config_json = json.loads(sys.argv[1])
    config = LocalConfig.from_saved(config_json, Path(config_json["state_dir"]))
    backups = BackupScheduler(config, libpq_url(config, credentials_of(config), "superuser"))
    return Supervisor(config, prepared_components(config), backups=backups).run()


if __name__ == "__main__":
    sys.exit(main())
