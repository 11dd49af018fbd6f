"""`hp up`, `hp down` and the commands that name the `local` environment: the platform on
this machine (health_platform.local). Thin, like cli.py: parse, call, render."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from health_platform.errors import InvalidInputError

LOCAL_EXIT_CODES = (
    "Exit codes: 0 ok (also: already running, or nothing to stop); 2 invalid input; 3 a"
    " program is missing (run `make setup`); 6 refused (reset without --yes); 7 the local"
    " platform could not start (a port in use, or a component failed: its last log lines"
    " are shown)."
)

StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where state lives [env HP_STATE_DIR; default: .local/].",
        show_default=False,
    ),
]


def _port(name: str, env: str, default: int) -> object:
    return typer.Option(f"--{name}", help=f"[env {env}; default: {default}]", show_default=False)


def _local_only(env: str) -> None:
    if env != "local":
        raise InvalidInputError(
            f"This command works on the local platform only for now: `local`, not {env!r}."
        )


def register(app: typer.Typer, out: Console, err: Console) -> None:
    db = typer.Typer(help="The database: migrations.", no_args_is_help=True)
    users = typer.Typer(help="Accounts: the first administrator.", no_args_is_help=True)
    app.add_typer(db, name="db")
    app.add_typer(users, name="users")

    @app.command("up", epilog=LOCAL_EXIT_CODES)
    def up(
        state_dir: StateDir = None,
        https_port: Annotated[int | None, _port("https-port", "HP_HTTPS_PORT", 8443)] = None,
        http_port: Annotated[int | None, _port("http-port", "HP_HTTP_PORT", 8080)] = None,
        api_port: Annotated[int | None, _port("api-port", "HP_API_PORT", 5000)] = None,
        frontend_port: Annotated[
            int | None, _port("frontend-port", "HP_FRONTEND_PORT", 3000)
        ] = None,
        postgres_port: Annotated[
            int | None, _port("postgres-port", "HP_POSTGRES_PORT", 54329)
        ] = None,
        redis_port: Annotated[int | None, _port("redis-port", "HP_REDIS_PORT", 63799)] = None,
        api_workers: Annotated[int | None, _port("api-workers", "HP_API_WORKERS", 2)] = None,
    ) -> None:
        """Run the whole platform on this machine (PostgreSQL, Redis, API, frontend, load
        balancer) and wait until every part is healthy."""
        from health_platform.local.config import local_config
        from health_platform.local.platform import Progress
        from health_platform.local.platform import up as start

        config = local_config(
            {
                "state_dir": state_dir,
                "https_port": https_port,
                "http_port": http_port,
                "api_port": api_port,
                "frontend_port": frontend_port,
                "postgres_port": postgres_port,
                "redis_port": redis_port,
                "api_workers": api_workers,
            }
        )
        began = time.monotonic()
        progress = Progress(
            say=lambda text: out.print(f"  {text}"),
            healthy=lambda name, port, seconds: out.print(
                f"  [green]✓[/] {name:<9} 127.0.0.1:{port:<6} healthy after {seconds:.1f} s"
            ),
        )
        if not start(config, progress):
            out.print(f"Already running: {config.url}")
            return
        out.print(
            f"\nThe platform is up ({time.monotonic() - began:.1f} s): [bold]{config.url}[/]\n"
            f"(a self-signed certificate: {config.path('tls', 'localhost.crt')})\n"
            "Create the first administrator:  hp users create-admin EMAIL --name NAME\n"
            "Stop it:  hp down   ·   State:  hp status local   ·   Logs:  hp logs local -f"
        )

    @app.command("down", epilog=LOCAL_EXIT_CODES)
    def down(state_dir: StateDir = None) -> None:
        """Stop the local platform gracefully, in reverse order (data is kept)."""
        from health_platform.local.platform import down as stop
        from health_platform.local.platform import saved_config

        out.print("Stopped." if stop(saved_config(state_dir)) else "Nothing was running.")

    @app.command("status", epilog=LOCAL_EXIT_CODES)
    def status(
        env: Annotated[str, typer.Argument(help="`local`.")], state_dir: StateDir = None
    ) -> None:
        """Each component of the local platform: pid, port, health, uptime."""
        from health_platform.local.platform import saved_config
        from health_platform.local.platform import status as read

        _local_only(env)
        table = Table(title="local platform")
        for column in ("component", "pid", "port", "health", "uptime", "restarts"):
            table.add_column(column)
        for row in read(saved_config(state_dir)):
            health = (
                "[green]healthy[/]"
                if row.healthy
                else ("[red]unhealthy[/]" if row.pid else "[dim]stopped[/]")
            )
            if row.pid and not row.in_rotation:
                health += " (out of rotation)"
            uptime = f"{row.uptime_seconds:.0f} s" if row.uptime_seconds is not None else "-"
            table.add_row(
                row.name, str(row.pid or "-"), str(row.port), health, uptime, str(row.restarts)
            )
        out.print(table)

    @app.command("logs", epilog=LOCAL_EXIT_CODES)
    def logs(
        env: Annotated[str, typer.Argument(help="`local`.")],
        component: Annotated[
            str | None, typer.Argument(help="postgres, redis, api, frontend, balancer, supervisor.")
        ] = None,
        follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing.")] = False,
        lines: Annotated[int, typer.Option("--lines", "-n", help="Lines from the end.")] = 40,
        state_dir: StateDir = None,
    ) -> None:
        """A component's log (or every component's), then new lines as they come with -f."""
        from health_platform.local.config import COMPONENTS
        from health_platform.local.platform import follow, last_lines, log_path, saved_config

        _local_only(env)
        config = saved_config(state_dir)
        names = [component] if component else [*COMPONENTS, "supervisor"]
        paths = [log_path(config, name) for name in names]
        for path in paths:
            for line in last_lines(path, lines):
                out.print(line if component else f"{path.stem:<10} {line}", highlight=False)
        if follow_:
            try:
                for line in follow(paths, prefix=component is None):
                    out.print(line, highlight=False)
            except KeyboardInterrupt:
                return

    @app.command("reset", epilog=LOCAL_EXIT_CODES)
    def reset(
        env: Annotated[str, typer.Argument(help="`local`.")],
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Really delete it.")] = False,
        state_dir: StateDir = None,
    ) -> None:
        """Stop the local platform and delete its state (database, uploads, keys, logs)."""
        from health_platform.local.platform import reset as wipe
        from health_platform.local.platform import saved_config

        _local_only(env)
        config = saved_config(state_dir)
        wipe(config, yes)
        out.print(f"Deleted {config.state_dir}.")

    @db.command("migrate", epilog=LOCAL_EXIT_CODES)
    def migrate(
        env: Annotated[str, typer.Argument(help="`local`.")], state_dir: StateDir = None
    ) -> None:
        """Bring the database to the latest schema (idempotent)."""
        from health_platform.local.platform import migrate as upgrade
        from health_platform.local.platform import saved_config

        _local_only(env)
        upgrade(saved_config(state_dir))
        out.print("The database schema is up to date.")

    @users.command("create-admin", epilog=LOCAL_EXIT_CODES)
    def create_admin(
        email: Annotated[str, typer.Argument(help="The administrator's email address.")],
        name: Annotated[str, typer.Option("--name", help="Display name.")] = "Administrator",
        state_dir: StateDir = None,
    ) -> None:
        """Create an administrator on the local platform, with a generated password and a
        TOTP second factor; prints both once (add the URI to an authenticator app)."""
        from health_platform.local.platform import create_admin as make
        from health_platform.local.platform import saved_config

        made = make(saved_config(state_dir), email, name)
        out.print(
            f"Administrator {made.email} created.\n"
            f"Password (shown once):  {made.password}\n"
            f"TOTP enrollment URI:    {made.otpauth_uri}\n"
            f"(or the key by hand:    {made.totp_secret})\n"
            "Sign in with the password and the 6-digit code from the authenticator app.",
            highlight=False,
            soft_wrap=True,
        )
