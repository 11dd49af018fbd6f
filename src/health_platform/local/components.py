"""The five processes of the local platform, as the supervisor runs them: how each starts,
how it is known to be healthy, how it stops, and what must happen around its start.

Passwords go into files readable by their owner only (Redis' config, the API's
environment), never onto a command line that `ps` would show."""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import psycopg
import redis

from health_platform.contract import (
    API_HTTP_PROTOCOL,
    DATABASE_NAME,
    DEFAULT_DATABASE_CONNECTIONS,
    LOCAL_OWNER_ROLE,
    RUNTIME_ROLE,
    api_environment,
)
from health_platform.errors import ToolchainError
from health_platform.local.backups import (
    ARCHIVE_TIMEOUT_SECONDS,
    in_recovery,
    pgbackrest_for,
    prepare_backups_dir,
)
from health_platform.local.config import LocalConfig
from health_platform.local.credentials import Credentials, write_private
from health_platform.local.nginx import (
    BALANCER_SOURCE_ADDRESS,
    FRONTEND_CONF,
    FRONTEND_DIST,
    frontend_conf,
    load_balancer_conf,
    nginx_argv,
)
from health_platform.local.pgbackrest import give_to_cluster_owner
from health_platform.local.ports import http_ok
from health_platform.local.postgres import owner_user, postgres_bin
from health_platform.local.tls import certificate_paths


@dataclass
class Component:
    name: str
    port: int
    argv: list[str]
    healthy: Callable[[], bool]
    stop_signal: signal.Signals = signal.SIGTERM
    env: dict[str, str] | None = None
    user: str | None = None  # run as this user (PostgreSQL refuses to run as root)
    before_start: Callable[[], None] = field(default=lambda: None)
    after_healthy: Callable[[], None] = field(default=lambda: None)
    # The load balancer only: rewrite its configuration with these upstreams out of rotation
    # (the supervisor then tells it to reload).
    rotate: Callable[[frozenset[str]], None] | None = None


Role = Literal["superuser", "owner", "runtime"]


def database_url(config: LocalConfig, credentials: Credentials, role: Role = "runtime") -> str:
    """How `role` connects: the cluster's superuser (to the `postgres` database), the
    database's owner (migrations), or the API's runtime role."""
    user, password, name = {
        "superuser": ("postgres", credentials.postgres_superuser, "postgres"),
        "owner": (LOCAL_OWNER_ROLE, credentials.database, DATABASE_NAME),
        "runtime": (RUNTIME_ROLE, credentials.runtime, DATABASE_NAME),
    }[role]
    # The server is proven as on AWS (verify-full), by the local certificate (local/tls.py),
    # its own authority: a wrong or missing certificate fails here first.
    authority = quote(str(certificate_paths(config.path("tls"))[0]))
    return (
        f"postgresql+psycopg://{user}:{password}@127.0.0.1:{config.postgres_port}/{name}"
        f"?sslmode=verify-full&sslrootcert={authority}"
    )


def libpq_url(config: LocalConfig, credentials: Credentials, role: Role = "runtime") -> str:
    """`database_url` as psycopg and libpq take it (no SQLAlchemy driver name)."""
    return database_url(config, credentials, role).replace("postgresql+psycopg://", "postgresql://")


# What a local cluster admits, and what of that the API's workers may take between them: the
# rest is for the superuser (3 by PostgreSQL's default), backups, migrations and hp itself.
POSTGRES_MAX_CONNECTIONS = 100
RESERVED_CONNECTIONS = 10


def api_database_connections(workers: int) -> int:
    """Each API worker's share of the cluster's connections (at most the API's default)."""
    share = (POSTGRES_MAX_CONNECTIONS - RESERVED_CONNECTIONS) // workers
    return min(share, DEFAULT_DATABASE_CONNECTIONS)


def present_certificate(data_dir: Path, certificate: tuple[Path, Path]) -> None:
    """The server's own copy of the local certificate, written at every start: clients
    verify the server against the current one (verify-full), and a data folder restored from
    a backup holds the copy of its day. PostgreSQL insists its key belongs to it."""
    for source, target in zip(certificate, ("server.crt", "server.key"), strict=True):
        shutil.copyfile(source, data_dir / target)
        (data_dir / target).chmod(0o600)
        give_to_cluster_owner(data_dir / target)


def server_settings(data_dir: Path, port: int) -> dict[str, str]:
    """How every local cluster listens (127.0.0.1, TLS, scram), the platform's and a
    drill's scratch copy alike, with the certificate `present_certificate` copies in."""
    return {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(data_dir),
        "ssl": "on",
        "ssl_cert_file": "server.crt",
        "ssl_key_file": "server.key",
        "password_encryption": "scram-sha-256",
        "max_connections": str(POSTGRES_MAX_CONNECTIONS),
        "log_destination": "stderr",
        "log_line_prefix": "%m [%p] ",
        # No DETAIL lines: a unique violation's DETAIL holds the key (a patient's email).
        "log_error_verbosity": "terse",
    }


def postgres_argv(data_dir: Path, settings: dict[str, str]) -> list[str]:
    options = [part for key, value in settings.items() for part in ("-c", f"{key}={value}")]
    return [postgres_bin("postgres"), "-D", str(data_dir), *options]


# Who may connect, and how: over TCP only with TLS and a scram password, from 127.0.0.1;
# over the Unix socket only the cluster's owner as itself (pgBackRest, peer).
ACCESS_RULES = """\
# Written by health_platform.local.components at every start.
local    all  postgres                 peer
hostssl  all  all       127.0.0.1/32   scram-sha-256
"""


@dataclass
class LocalPostgres:
    """PostgreSQL 15 in `<state>/postgres/data`: scram passwords, TLS only, and WAL archived
    by pgBackRest to the backup repository (local.backups), switched at least every
    ARCHIVE_TIMEOUT_SECONDS while there are writes. `archive=False`: no archiving (the
    API's tests and benchmarks, which have no backups)."""

    config: LocalConfig
    credentials: Credentials
    certificate: tuple[Path, Path]
    archive: bool = True

    @property
    def data_dir(self) -> Path:
        return self.config.path("postgres", "data")

    def init(self) -> None:
        if self.archive:
            self.configure_backups()
        if not (self.data_dir / "PG_VERSION").exists():
            self.create_cluster()
        self.restrict_access()
        present_certificate(self.data_dir, self.certificate)

    def restrict_access(self) -> None:
        """pg_hba.conf as ACCESS_RULES say (a cluster made or restored by an older version
        took plain TCP too), and its folder its owner's alone."""
        rules = self.data_dir / "pg_hba.conf"
        write_private(rules, ACCESS_RULES)
        give_to_cluster_owner(rules)
        self.data_dir.parent.chmod(0o700)

    def create_cluster(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # exists: a failed init
        password_file = self.data_dir.parent / "superuser.pw"
        write_private(password_file, self.credentials.postgres_superuser)
        give_to_cluster_owner(self.data_dir.parent, self.data_dir, password_file)
        try:
            subprocess.run(  # noqa: S603
                [
                    postgres_bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    f"--pwfile={password_file}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                capture_output=True,
                user=owner_user(),
            )
        finally:
            password_file.unlink()

    def configure_backups(self) -> None:
        prepare_backups_dir(self.config)
        pgbackrest_for(self.config).write_config()

    def argv(self) -> list[str]:
        settings = server_settings(self.data_dir, self.config.postgres_port)
        if self.archive:
            settings |= {
                "wal_level": "replica",
                "archive_mode": "on",
                "archive_command": pgbackrest_for(self.config).archive_command,
                "archive_timeout": str(ARCHIVE_TIMEOUT_SECONDS),
            }
        return postgres_argv(self.data_dir, settings)

    def healthy(self) -> bool:
        try:
            with psycopg.connect(
                libpq_url(self.config, self.credentials, "superuser"),
                connect_timeout=2,
            ) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def prepare_database(self) -> None:
        """The owner role and its database (once), and the API's runtime role with its
        password (the migrations grant it). Nothing to do in a restored cluster that is not
        yet promoted: it refuses writes, and its roles came back with it."""
        admin = libpq_url(self.config, self.credentials, "superuser")
        sql, name = psycopg.sql.SQL, psycopg.sql.Identifier
        if in_recovery(admin):
            return
        with psycopg.connect(admin, autocommit=True) as connection:
            roles = {
                row[0]
                for row in connection.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname IN (%s, %s)",
                    (LOCAL_OWNER_ROLE, RUNTIME_ROLE),
                )
            }
            if LOCAL_OWNER_ROLE not in roles:
                connection.execute(
                    sql("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        name(LOCAL_OWNER_ROLE), psycopg.sql.Literal(self.credentials.database)
                    )
                )
                connection.execute(
                    sql("CREATE DATABASE {} OWNER {}").format(
                        name(DATABASE_NAME), name(LOCAL_OWNER_ROLE)
                    )
                )
                connection.execute(
                    sql("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name(DATABASE_NAME))
                )
            # Made here rather than by the migration: the owner may not create roles.
            verb = "ALTER" if RUNTIME_ROLE in roles else "CREATE"
            connection.execute(
                sql(verb + " ROLE {} LOGIN PASSWORD {}").format(
                    name(RUNTIME_ROLE), psycopg.sql.Literal(self.credentials.runtime)
                )
            )


def postgres_component(
    config: LocalConfig,
    credentials: Credentials,
    certificate: tuple[Path, Path],
    *,
    archive: bool = True,
) -> Component:
    postgres = LocalPostgres(config, credentials, certificate, archive)
    return Component(
        "postgres",
        config.postgres_port,
        postgres.argv(),
        postgres.healthy,
        stop_signal=signal.SIGINT,  # "fast" shutdown: roll back sessions, checkpoint
        user=owner_user(),
        before_start=postgres.init,
        after_healthy=postgres.prepare_database,
    )


def redis_component(
    config: LocalConfig, credentials: Credentials, *, cluster_bus_port: int | None = None
) -> Component:
    """Redis 7 in `<state>/redis`, password required. `cluster_bus_port`: a node in cluster
    mode, as ElastiCache runs it (no slots until the nodes are joined), its bus on that
    port (the default, port + 10000, can be past 65535)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ToolchainError("Redis is not installed (redis-server not found); run `make setup`.")
    folder = config.path("redis")
    conf = folder / "redis.conf"

    cluster = (
        f'cluster-enabled yes\ncluster-port {cluster_bus_port}\nmasterauth "{credentials.redis}"\n'
        if cluster_bus_port is not None
        else ""
    )

    def write_conf() -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(
            conf,
            f"bind 127.0.0.1\nport {config.redis_port}\nprotected-mode yes\n"
            f'requirepass "{credentials.redis}"\ndir {folder}\n'
            'appendonly yes\nappendfsync everysec\nsave ""\nlogfile ""\n' + cluster,
        )

    def healthy() -> bool:
        client = redis.Redis(port=config.redis_port, password=credentials.redis, socket_timeout=2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    return Component(
        "redis", config.redis_port, [binary, str(conf)], healthy, before_start=write_conf
    )


def mail_component(config: LocalConfig) -> Component:
    """The mail catcher: an SMTP server keeping what the API sends in `<state>/mail`."""
    argv = [sys.executable, "-m", "health_platform.local.smtp_sink"]
    argv += ["--port", str(config.smtp_port), "--maildir", str(config.path("mail"))]

    def healthy() -> bool:
        try:
            with smtplib.SMTP("127.0.0.1", config.smtp_port, timeout=2) as smtp:
                return smtp.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    return Component("mail", config.smtp_port, argv, healthy)


def local_api_environment(config: LocalConfig, credentials: Credentials) -> dict[str, str]:
    return api_environment(
        environment="local",
        database_url=database_url(config, credentials, "runtime"),
        redis_url=f"redis://:{credentials.redis}@127.0.0.1:{config.redis_port}/0",
        session_secret=credentials.session_secret,
        storage_backend="filesystem",
        storage_path=config.path("uploads"),
        mail_backend="smtp",  # to the mail catcher (mail_component)
        smtp_port=config.smtp_port,
        public_url=config.url,  # the balancer's address, as the emails' links name it
        cookie_secure=True,  # the load balancer speaks HTTPS
        trusted_proxies=1,  # the load balancer
        rate_per_address=config.rate_per_address,  # hp up --rate-per-address, ...
        rate_per_user=config.rate_per_user,
        login_rate=config.login_rate,
        database_connections=api_database_connections(config.api_workers),
        trusted_proxy_networks=f"{BALANCER_SOURCE_ADDRESS}/32",
    )


def components(
    config: LocalConfig, credentials: Credentials, certificate: tuple[Path, Path]
) -> list[Component]:
    """Every component, in start order."""

    def migrate() -> None:
        from health_platform.api.migrate import migrate as upgrade

        if in_recovery(libpq_url(config, credentials, "superuser")):
            print("the database is restored and read-only until promoted: no migrations")
            return
        upgrade(database_url(config, credentials, "owner"))

    api_env = {**os.environ, **local_api_environment(config, credentials)}
    frontend_state = config.path("nginx", "frontend")
    balancer_state = config.path("nginx", "balancer")
    trust = ssl.create_default_context(cafile=str(certificate[0]))

    def balancer_conf(down: frozenset[str]) -> None:
        _write(
            balancer_state / "nginx.conf",
            load_balancer_conf(
                port=config.https_port,
                api_port=config.api_port,
                frontend_port=config.frontend_port,
                state_dir=balancer_state,
                tls=certificate,
                http_redirect_port=config.http_port,
                down=down,
            ),
        )

    return [
        postgres_component(config, credentials, certificate),
        redis_component(config, credentials),
        mail_component(config),
        Component(
            "api",
            config.api_port,
            [
                sys.executable,
                "-m",
                "uvicorn",
                "health_platform.api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(config.api_port),
                "--workers",
                str(config.api_workers),
                "--http",
                API_HTTP_PROTOCOL,  # a deadline for each request's header
                "--no-proxy-headers",
                "--no-access-log",  # the API writes its own line per request
                "--timeout-graceful-shutdown",
                "30",
            ],
            lambda: http_ok(f"http://127.0.0.1:{config.api_port}/health/ready"),
            env=api_env,
            before_start=migrate,
        ),
        Component(
            "frontend",
            config.frontend_port,
            nginx_argv(frontend_state),
            lambda: http_ok(f"http://127.0.0.1:{config.frontend_port}/health"),
            stop_signal=signal.SIGQUIT,  # graceful: finish the requests in flight
            before_start=lambda: _write(
                frontend_state / "nginx.conf",
                frontend_conf(
                    FRONTEND_CONF.read_text(),
                    port=config.frontend_port,
                    root=FRONTEND_DIST,
                    state_dir=frontend_state,
                ),
            ),
        ),
        Component(
            "balancer",
            config.https_port,
            nginx_argv(balancer_state),
            lambda: http_ok(f"https://localhost:{config.https_port}/health", context=trust),
            stop_signal=signal.SIGQUIT,
            before_start=lambda: balancer_conf(frozenset()),
            rotate=balancer_conf,
        ),
    ]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    path.write_text(text)
