"""Ports on this machine's loopback interface: a free one, whether one is free and who
holds it, whether a server there answers its health URL."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """`count` different free ports: all held while they are picked (one probe at a time
    may be handed the same port twice, since each is let go before the next is asked)."""
    with ExitStack() as held:
        probes = [held.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def is_free(port: int) -> bool:
    """Whether a server could listen on `port` of 127.0.0.1 now (one that listens on every
    address holds it too)."""
    with socket.socket() as probe:
        # As servers do: a connection of a stopped server, lingering in TIME_WAIT, is no bar.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# The local address of a socket on every address, as /proc/net/tcp{,6} write it.
EVERY_ADDRESS = frozenset({"0" * 8, "0" * 32})


def listeners(port: int) -> list[tuple[str, str]]:
    """(local address in /proc's hex form, socket inode) of each socket that listens on
    `port` in this network namespace."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].rpartition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append((address, fields[9]))
    return found


def holder(port: int) -> str | None:
    """The program listening on `port`, as "name (pid N)", when /proc shows it (another
    user's processes are hidden from a non-root caller)."""
    inodes = {f"socket:[{inode}]" for _, inode in listeners(port)}
    if not inodes:
        return None
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            for descriptor in (process / "fd").iterdir():
                if str(descriptor.readlink()) in inodes:
                    name = (process / "comm").read_text().strip()
                    return f"{name} (pid {process.name})"
        except OSError:
            continue
    return None


def http_ok(url: str, *, timeout: float = 2, context: ssl.SSLContext | None = None) -> bool:
    """Whether `url` answers 200 within `timeout` seconds (a health check)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
