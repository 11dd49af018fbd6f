"""The supervisor's restart back-off, on a fake component and a fake clock: it grows while a
component keeps failing soon after its start, and starts over once it has stayed up. And
the process groups it stops: a master killed with SIGKILL leaves its workers in its group."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from health_platform.local import supervisor as supervisor_module
from health_platform.local.components import Component
from health_platform.local.config import LocalConfig
from health_platform.local.processes import group_members, stop_group
from health_platform.local.supervisor import MAX_PAUSE, STABLE_AFTER, Running, Supervisor


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def fake_supervisor(tmp_path: Path, clock: FakeClock) -> tuple[Supervisor, Component]:
    config = LocalConfig(state_dir=tmp_path)
    config.run_dir.mkdir()
    component = Component("redis", 1, ["true"], healthy=lambda: True)
    supervisor = Supervisor(config, [component], clock=clock.time, sleep=clock.sleep)

    def start(component: Component, restarts: int = 0, failures: int = 0) -> None:
        """A start that runs nothing: the process has exited already."""
        process = SimpleNamespace(pid=-1, returncode=1, poll=lambda: 1)
        run = Running(component, process, clock.time(), restarts, failures)  # type: ignore[arg-type]
        supervisor.running[component.name] = run

    supervisor.start = start  # type: ignore[method-assign]
    start(component)
    return supervisor, component


def crash_after(supervisor: Supervisor, clock: FakeClock, seconds: float) -> float:
    """The component exits `seconds` after its start; the pause before its restart."""
    clock.now += seconds
    clock.slept.clear()
    supervisor.revive(supervisor.running["redis"])
    return sum(clock.slept)


def test_the_back_off_grows_then_starts_over_after_a_stable_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor_module, "stop_group", lambda *_: 0)  # no processes here
    clock = FakeClock()
    supervisor, _ = fake_supervisor(tmp_path, clock)

    pauses = [crash_after(supervisor, clock, 1) for _ in range(15)]
    assert pauses[:3] == [0.5, 1.0, 1.5]  # growing while it keeps failing
    assert pauses[-1] == MAX_PAUSE

    crash_after(supervisor, clock, STABLE_AFTER + 1)  # up for a while, then an exit
    assert crash_after(supervisor, clock, 1) == 0.5  # a fresh failure: the shortest pause
    assert supervisor.running["redis"].restarts == 17  # the total is still counted


def test_a_group_whose_leader_was_killed_is_stopped_whole(tmp_path: Path) -> None:
    # A master and a worker in a session of their own, as the supervisor starts components,
    # in the folder the platform runs in.
    master = subprocess.Popen(
        ["sh", "-c", "sleep 60 & wait"],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 10
    while len(group_members(master.pid)) < 2:
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)
    master.kill()
    master.wait()
    orphans = group_members(master.pid)
    assert [p.name() for p in orphans] == ["sleep"]  # it outlived its master

    assert stop_group(master.pid, signal.SIGTERM, tmp_path / "elsewhere", grace=5) == 0
    assert len(group_members(master.pid)) == 1  # not ours: a stranger's group, left alone
    assert stop_group(master.pid, signal.SIGTERM, tmp_path, grace=5) == 1
    assert group_members(master.pid) == []


def test_the_kernels_init_and_our_own_groups_are_never_stopped() -> None:
    assert group_members(0) == group_members(1) == group_members(os.getpgrp()) == []
