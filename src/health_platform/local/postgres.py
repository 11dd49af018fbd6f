"""A private PostgreSQL 15 cluster in a folder, on a port of its own, on 127.0.0.1 only.

PostgreSQL refuses to run as root; when invoked as root the cluster belongs to the
`postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from health_platform.errors import ToolchainError

MAJOR = "15"


def postgres_bin(tool: str) -> str:
    packaged = Path(f"/usr/lib/postgresql/{MAJOR}/bin/{tool}")
    if packaged.exists():
        return str(packaged)
    found = shutil.which(tool)
    if found is None:
        raise ToolchainError(
            f"PostgreSQL {MAJOR} is not installed ({tool} not found); run `make setup`."
        )
    return found


CLUSTER_OWNER = "postgres"  # Debian's user for clusters; PostgreSQL refuses to run as root


def as_root() -> bool:
    return os.geteuid() == 0


def owner_user() -> str | None:
    """The user a cluster's processes run as: Debian's `postgres` when we are root."""
    return CLUSTER_OWNER if as_root() else None


def as_owner(argv: list[str]) -> list[str]:
    """`argv` run as the cluster's owner: as root, Debian's `postgres` user."""
    return ["runuser", "-u", CLUSTER_OWNER, "--", *argv] if as_root() else argv


@dataclass(frozen=True)
class Postgres:
    data_dir: Path
    port: int

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def url(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(as_owner(argv), capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {done.stderr.strip() or done.stdout}")

    def init(self) -> None:
        """Create the cluster if the folder has none (idempotent)."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if as_root():
            shutil.chown(self.data_dir.parent, "postgres")
            shutil.chown(self.data_dir, "postgres")
        self._run(
            [
                postgres_bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir}"
        self._run(
            [
                postgres_bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-o",
                options,
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "30",
                "start",
            ]
        )

    def stop(self) -> None:
        self._run([postgres_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def sql(self, statement: str, database: str = "postgres") -> str:
        completed = subprocess.run(  # noqa: S603
            [
                postgres_bin("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return completed.stdout.strip()
