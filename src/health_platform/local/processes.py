"""The local platform's processes, seen through psutil: whether one lives, the members of a
component's process group, stopping a whole group, and who listens on a port.

Each component runs in a session of its own (its pgid is its main process's pid), so its
workers (uvicorn's, nginx's, PostgreSQL's backends) share that group. When the main process
dies by SIGKILL its workers live on, orphaned, holding the port: the group is how they are
found and stopped."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

import psutil

LEFTOVER_GRACE = 5.0  # seconds a group's leftovers get to finish before SIGKILL


def alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie (dead, waiting for its parent to reap it) does not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


# Groups never ours to stop: the kernel's threads and init (0, 1), and this process's own.
def _foreign(pgid: int) -> bool:
    return pgid <= 1 or pgid == os.getpgrp()


def group_members(pgid: int) -> list[psutil.Process]:
    """The live processes of process group `pgid` (its leader may be gone)."""
    if _foreign(pgid):
        return []
    return [
        process
        for process in psutil.process_iter(["status"])
        if process.info["status"] != psutil.STATUS_ZOMBIE and group_of(process.pid) == pgid
    ]


def stop_group(pgid: int, signum: int, within: Path, grace: float = LEFTOVER_GRACE) -> int:
    """Stop every process of group `pgid` that runs in `within` (see `stop`): once its
    leader is reaped, a group's id can be taken by a stranger's new session. Returns how
    many there were."""
    members = [member for member in group_members(pgid) if runs_in(member.pid, within)]
    stop(members, signum, grace)
    return len(members)


def stop(processes: list[psutil.Process], signum: int, grace: float = LEFTOVER_GRACE) -> None:
    """Send `signum` to `processes`, then SIGKILL whichever still runs after `grace`
    seconds. (psutil checks that each is still the process it was, not a reused pid.)"""
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            process.send_signal(signum)
    _, still = psutil.wait_procs(processes, timeout=grace)
    for process in still:
        with suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(still, timeout=grace)


def leftovers(pgids: set[int], folder: Path) -> list[psutil.Process]:
    """The live processes of groups `pgids` that run in `folder`: a group id from an old
    pid file may since name a group of strangers."""
    return [
        member
        for pgid in sorted(pgids)
        for member in group_members(pgid)
        if runs_in(member.pid, folder)
    ]


def group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def listener_pids(port: int) -> set[int]:
    """The processes listening on TCP `port` (another user's are hidden from a non-root
    caller)."""
    return {
        connection.pid
        for connection in psutil.net_connections(kind="tcp")
        if connection.status == psutil.CONN_LISTEN
        and connection.laddr
        and connection.laddr.port == port
        and connection.pid is not None
    }


def describe(pid: int) -> str | None:
    """ "name (pid N)", or None when it is gone or hidden."""
    try:
        return f"{psutil.Process(pid).name()} (pid {pid})"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def runs_in(pid: int, folder: Path) -> bool:
    """Whether `pid`'s working directory is `folder` or inside it: how the supervisor's
    components are told apart from another state folder's (each starts in its own)."""
    try:
        return Path(psutil.Process(pid).cwd()).is_relative_to(folder)
    except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError):
        return False
