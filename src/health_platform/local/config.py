"""Where the local platform keeps its state and which ports it uses: flags, else
environment variables (HP_STATE_DIR, HP_HTTPS_PORT, ...), else the defaults below, so two
instances (or the tests and a developer's instance) need not collide."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from health_platform.contract import ApiSettings
from health_platform.errors import InvalidInputError
from health_platform.paths import REPO

COMPONENTS = ("postgres", "redis", "mail", "api", "frontend", "balancer")  # start order
RATE_LIMITS = ("rate_per_address", "rate_per_user", "login_rate")  # the API's, per minute


@dataclass(frozen=True)
class LocalConfig:
    state_dir: Path = REPO / ".local"
    https_port: int = 8443
    http_port: int = 8080
    api_port: int = 5000
    frontend_port: int = 3000
    # Not the default ports, so a PostgreSQL or Redis already on this machine is no bother.
    postgres_port: int = 54329
    redis_port: int = 63799
    # The mail catcher (local/smtp_sink.py): the API's SMTP server.
    smtp_port: int = 1025
    api_workers: int = 2
    # pgBackRest's repository and the documents' copies: another disk, ideally. Default:
    # `<state>/backups`, which `hp reset local` keeps unless told to delete it.
    backup_dir: Path | None = None
    # Requests per minute before 429 (per client address, per signed-in user, sign-in
    # attempts): the API's defaults, raised for a load test or a demonstration.
    rate_per_address: int = ApiSettings.model_fields["rate_per_address"].default
    rate_per_user: int = ApiSettings.model_fields["rate_per_user"].default
    login_rate: int = ApiSettings.model_fields["login_rate"].default

    @property
    def ports(self) -> dict[str, int]:
        return {
            "postgres": self.postgres_port,
            "redis": self.redis_port,
            "mail": self.smtp_port,
            "api": self.api_port,
            "frontend": self.frontend_port,
            "balancer": self.https_port,
            "balancer (http)": self.http_port,
        }

    @property
    def url(self) -> str:
        return f"https://localhost:{self.https_port}"

    def as_json(self) -> str:
        """What `hp up` saves and hands its supervisor; `from_saved` reads it back."""
        return json.dumps(
            {
                key: str(value) if isinstance(value, Path) else value
                for key, value in asdict(self).items()
            }
        )

    @classmethod
    def from_saved(cls, saved: Mapping[str, object], state_dir: Path) -> LocalConfig:
        values = {key: saved[key] for key in ENVIRONMENT if key in saved}
        values["state_dir"] = state_dir
        if values.get("backup_dir"):
            values["backup_dir"] = Path(str(values["backup_dir"]))
        return cls(**values)  # type: ignore[arg-type]

    # The layout of the state folder.
    def path(self, *parts: str) -> Path:
        return self.state_dir.joinpath(*parts)

    @property
    def backups_dir(self) -> Path:
        return self.backup_dir or self.path("backups")

    @property
    def run_dir(self) -> Path:
        return self.path("run")

    @property
    def log_dir(self) -> Path:
        return self.path("logs")

    def log_file(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.run_dir / f"{component}.pid"


ENVIRONMENT = {
    "state_dir": "HP_STATE_DIR",
    "https_port": "HP_HTTPS_PORT",
    "http_port": "HP_HTTP_PORT",
    "api_port": "HP_API_PORT",
    "frontend_port": "HP_FRONTEND_PORT",
    "postgres_port": "HP_POSTGRES_PORT",
    "redis_port": "HP_REDIS_PORT",
    "smtp_port": "HP_SMTP_PORT",
    "api_workers": "HP_API_WORKERS",
    "backup_dir": "HP_BACKUP_DIR",
    "rate_per_address": "HP_RATE_PER_ADDRESS",
    "rate_per_user": "HP_RATE_PER_USER",
    "login_rate": "HP_LOGIN_RATE",
}
# `hp up`'s ports by the names of their flags (--https-port, ..., --smtp-port): what an
# instance of one's own (a test's, a benchmark's) must choose each of.
PORT_NAMES = tuple(key.removesuffix("_port") for key in ENVIRONMENT if key.endswith("_port"))
PATHS = ("state_dir", "backup_dir")
LIMITS = {"api_workers": (1, 16)} | {name: (1, 1_000_000_000) for name in RATE_LIMITS}


def local_config(
    flags: Mapping[str, object | None] | None = None, env: Mapping[str, str] | None = None
) -> LocalConfig:
    """The configuration from `flags` (None: not given), then `env`, then the defaults;
    every bad value is reported at once."""
    env = os.environ if env is None else env
    flags = flags or {}
    values: dict[str, object] = {}
    problems: list[str] = []
    for spec in fields(LocalConfig):
        given = flags.get(spec.name)
        source = f"--{spec.name.replace('_', '-')}"
        if given is None and env.get(ENVIRONMENT[spec.name]):
            given, source = env[ENVIRONMENT[spec.name]], ENVIRONMENT[spec.name]
        if given is None:
            continue
        if spec.name in PATHS:
            values[spec.name] = Path(str(given)).expanduser().resolve()
            continue
        try:
            number = int(str(given))
        except ValueError:
            problems.append(f"{source}: {given!r} is not a number")
            continue
        low, high = LIMITS.get(spec.name, (1, 65535))
        if not low <= number <= high:
            problems.append(f"{source}: {number} is not between {low} and {high}")
        values[spec.name] = number
    config = LocalConfig(**values)  # type: ignore[arg-type]
    ports = [port for port in config.ports.values()]
    if not problems and len(set(ports)) != len(ports):
        problems.append(f"two components would share a port: {config.ports}")
    if problems:
        raise InvalidInputError("Invalid local settings: " + "; ".join(problems) + ".")
    return config
