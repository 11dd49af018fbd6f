"""A private Redis 7 on 127.0.0.1, on a port of its own, password required."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from health_platform.errors import ToolchainError
from health_platform.local.ports import free_port


@dataclass
class RedisServer:
    data_dir: Path
    port: int
    password: str
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self, *, persistent: bool = True, cluster: bool = False) -> None:
        """`cluster`: a node in cluster mode (no slots yet; see `form_cluster`), as
        ElastiCache runs it in cluster mode."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise ToolchainError(
                "Redis is not installed (redis-server not found); run `make setup`."
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--requirepass",
                self.password,
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes" if persistent else "no",
                "--save",
                "",
                "--logfile",
                str(self.data_dir / "redis.log"),
                *(self._cluster_options() if cluster else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def _cluster_options(self) -> list[str]:
        # The bus port must be given: the default (port + 10000) can be past 65535.
        return [
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            str(free_port()),
            "--masterauth",
            self.password,
        ]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def form_cluster(nodes: list[RedisServer]) -> None:
    """Join started cluster-mode nodes into one cluster, the slots split between them."""
    binary = shutil.which("redis-cli")
    if binary is None:
        raise ToolchainError("redis-cli not found (Debian package redis-tools); run `make setup`.")
    subprocess.run(  # noqa: S603
        [
            binary,
            "--no-auth-warning",
            "-a",
            nodes[0].password,
            "--cluster",
            "create",
            *(f"127.0.0.1:{node.port}" for node in nodes),
            "--cluster-yes",
        ],
        check=True,
        capture_output=True,
    )
    client = redis.Redis.from_url(nodes[0].url)
    deadline = time.monotonic() + 20
    while client.cluster("info")["cluster_state"] != "ok":
        if time.monotonic() > deadline:
            raise ToolchainError("the local Redis cluster did not become ready")
        time.sleep(0.1)
