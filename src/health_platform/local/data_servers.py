"""PostgreSQL and Redis on their own, for the API's tests and benchmarks: the local
platform's own components (TLS and scram, pg_hba, the roles, Redis' password in its config
file), started and stopped by the supervisor's own code, so there is one way to run each
server and the tests exercise it. Nothing is archived: there are no backups here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from health_platform.local.components import (
    Component,
    Role,
    database_url,
    postgres_component,
    redis_component,
)
from health_platform.local.config import LocalConfig
from health_platform.local.credentials import Credentials, load_or_create
from health_platform.local.platform import make_private
from health_platform.local.ports import free_ports
from health_platform.local.supervisor import Supervisor
from health_platform.local.tls import ensure_certificate


@contextmanager
def supervised(config: LocalConfig, components: list[Component]) -> Iterator[Supervisor]:
    """`components` started in order, each healthy before the next, in this process (none
    is watched or restarted), and all stopped at the end."""
    make_private(config)
    config.run_dir.mkdir(exist_ok=True)
    config.log_dir.mkdir(exist_ok=True)
    supervisor = Supervisor(config, components)
    try:
        for component in components:
            supervisor.start(component)
        yield supervisor
    finally:
        supervisor.stop_all()


@dataclass
class DataServers:
    supervisor: Supervisor
    credentials: Credentials

    @property
    def config(self) -> LocalConfig:
        return self.supervisor.config

    def database_url(self, role: Role = "runtime") -> str:
        return database_url(self.config, self.credentials, role)

    @property
    def redis_url(self) -> str:
        return f"redis://:{self.credentials.redis}@127.0.0.1:{self.config.redis_port}/0"

    def stop(self, name: str) -> None:
        self.supervisor.stop(name)

    def start(self, name: str) -> None:
        self.supervisor.start(self.supervisor.running[name].component)


@contextmanager
def data_servers(state_dir: Path) -> Iterator[DataServers]:
    """PostgreSQL (its owner role, database and runtime role made, not migrated) and Redis,
    on free ports of 127.0.0.1, their state in `state_dir`."""
    postgres_port, redis_port = free_ports(2)
    config = LocalConfig(state_dir=state_dir, postgres_port=postgres_port, redis_port=redis_port)
    credentials = load_or_create(config.path("credentials.json"))
    certificate = ensure_certificate(config.path("tls"))
    components = [
        postgres_component(config, credentials, certificate, archive=False),
        redis_component(config, credentials),
    ]
    with supervised(config, components) as supervisor:
        yield DataServers(supervisor, credentials)
