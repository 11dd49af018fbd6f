"""Ports on this machine's loopback interface: a free one, whether one is free and who
holds it, whether a server there answers its health URL."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from contextlib import ExitStack

import psutil

from health_platform.local.processes import describe, listener_pids


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


# The local address of a socket that listens on every address, IPv4 and IPv6.
EVERY_ADDRESS = frozenset({"0.0.0.0", "::"})  # noqa: S104 - compared with, never bound


def listening_addresses(port: int) -> list[str]:
    """The local address of each socket that listens on TCP `port` in this network
    namespace."""
    return [
        connection.laddr.ip
        for connection in psutil.net_connections(kind="tcp")
        if connection.status == psutil.CONN_LISTEN
        and connection.laddr
        and connection.laddr.port == port
    ]


def holder(port: int) -> str | None:
    """The program listening on `port`, as "name (pid N)", when it can be seen (another
    user's processes are hidden from a non-root caller)."""
    for pid in sorted(listener_pids(port)):
        described = describe(pid)
        if described is not None:
            return described
    return None


def http_ok(url: str, *, timeout: float = 2, context: ssl.SSLContext | None = None) -> bool:
    """Whether `url` answers 200 within `timeout` seconds (a health check)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
