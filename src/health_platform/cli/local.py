"""`hp up`, `hp down`, `hp reset local`, and the `local` side of the commands that take an
environment (status, logs): the platform on this machine (health_platform.local)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from health_platform.cli.common import (
    STATUS_COLOURS,
    EnvArgument,
    StateDir,
    command_group,
    local_only,
    out,
)
from health_platform.errors import ExitCode, exit_codes_help

if TYPE_CHECKING:
    from health_platform.local.config import LocalConfig

app = command_group()

LOCAL_HELP = exit_codes_help(
    ExitCode.TOOLCHAIN,
    ExitCode.REFUSED,
    ExitCode.LOCAL_FAILURE,
    extra="0 also when it was already running, or there was nothing to stop.",
)


def _port(name: str, env: str, default: int) -> object:
    return typer.Option(f"--{name}", help=f"(env {env}; default: {default})", show_default=False)


def _rate(name: str, env: str, what: str) -> object:
    return typer.Option(
        f"--{name}",
        help=f"Requests per minute {what} before 429 (env {env}; default: the API's).",
        show_default=False,
    )


@app.command("up", epilog=LOCAL_HELP)
def up(
    state_dir: StateDir = None,
    https_port: Annotated[int | None, _port("https-port", "HP_HTTPS_PORT", 8443)] = None,
    http_port: Annotated[int | None, _port("http-port", "HP_HTTP_PORT", 8080)] = None,
    api_port: Annotated[int | None, _port("api-port", "HP_API_PORT", 5000)] = None,
    frontend_port: Annotated[int | None, _port("frontend-port", "HP_FRONTEND_PORT", 3000)] = None,
    postgres_port: Annotated[int | None, _port("postgres-port", "HP_POSTGRES_PORT", 54329)] = None,
    redis_port: Annotated[int | None, _port("redis-port", "HP_REDIS_PORT", 63799)] = None,
    smtp_port: Annotated[int | None, _port("smtp-port", "HP_SMTP_PORT", 1025)] = None,
    api_workers: Annotated[int | None, _port("api-workers", "HP_API_WORKERS", 2)] = None,
    backup_dir: Annotated[
        Path | None,
        typer.Option(
            "--backup-dir",
            help="Where backups go, ideally another disk (env HP_BACKUP_DIR;"
            " default: backups/ in the state folder).",
            show_default=False,
        ),
    ] = None,
    rate_per_address: Annotated[
        int | None, _rate("rate-per-address", "HP_RATE_PER_ADDRESS", "from one client address")
    ] = None,
    rate_per_user: Annotated[
        int | None, _rate("rate-per-user", "HP_RATE_PER_USER", "of one signed-in user")
    ] = None,
    login_rate: Annotated[
        int | None, _rate("login-rate", "HP_LOGIN_RATE", "of sign-ins and sign-ups per address")
    ] = None,
) -> None:
    """Run the whole platform on this machine and wait until every part is healthy.

    PostgreSQL, Redis, a mail catcher, the API, the frontend and a TLS load balancer, all on
    127.0.0.1."""
    from health_platform.local.config import local_config
    from health_platform.local.platform import saved_config

    config = local_config(
        {
            "state_dir": state_dir,
            "https_port": https_port,
            "http_port": http_port,
            "api_port": api_port,
            "frontend_port": frontend_port,
            "postgres_port": postgres_port,
            "redis_port": redis_port,
            "smtp_port": smtp_port,
            "api_workers": api_workers,
            "backup_dir": backup_dir,
            "rate_per_address": rate_per_address,
            "rate_per_user": rate_per_user,
            "login_rate": login_rate,
        }
    )
    began = time.monotonic()
    if not start_platform(config):
        # The ports it runs on are the ones it was started with, not this call's defaults.
        running = saved_config(config.state_dir)
        out.print(f"Already running: {running.url}")
        warn_if_read_only(running)
        return
    warn_if_read_only(config)
    from health_platform.local.tls import certificate_paths

    out.print(
        f"\nThe platform is up ({time.monotonic() - began:.1f} s): [bold]{config.url}[/]\n"
        f"(a self-signed certificate: {certificate_paths(config.path('tls'))[0]})\n"
        f"Backups: {config.backups_dir}\n"
        "Create the first administrator:  hp users create-admin local EMAIL --name NAME\n"
        "Stop it:  hp down   ·   Check it:  hp doctor local   ·   Logs:  hp logs local -f"
    )


def warn_if_read_only(config: LocalConfig) -> None:
    """Healthy is not writable: a restored database refuses writes until promoted."""
    from health_platform.local.platform import database_read_only

    if database_read_only(config):
        out.print(
            "[yellow]The database is restored and read-only:[/] writes answer 503 until"
            " `hp restore local --promote`."
        )


def start_platform(config: LocalConfig) -> bool:
    """Start it, one line per component as it becomes healthy; False: already running."""
    from health_platform.local.platform import Progress
    from health_platform.local.platform import up as start

    progress = Progress(
        say=lambda text: out.print(f"  {text}"),
        healthy=lambda name, port, seconds: out.print(
            f"  [green]✓[/] {name:<9} 127.0.0.1:{port:<6} healthy after {seconds:.1f} s"
        ),
    )
    return start(config, progress)


@app.command("down", epilog=LOCAL_HELP)
def down(state_dir: StateDir = None) -> None:
    """Stop the local platform gracefully, in reverse order (data is kept)."""
    from health_platform.local.platform import down as stop
    from health_platform.local.platform import saved_config

    out.print("Stopped." if stop(saved_config(state_dir)) else "Nothing was running.")


@app.command("reset", epilog=LOCAL_HELP)
def reset(
    env: EnvArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Really delete it.")] = False,
    delete_backups: Annotated[
        bool, typer.Option("--delete-backups", help="Delete the backups as well.")
    ] = False,
    state_dir: StateDir = None,
) -> None:
    """Stop the local platform and delete its state (database, uploads, keys, logs).

    The backups, and the passwords a restore of them needs, are kept unless
    `--delete-backups`: `hp restore local --to latest` brings the data back."""
    from health_platform.local.platform import reset as wipe
    from health_platform.local.platform import saved_config

    local_only(env, "reset")
    config = saved_config(state_dir)
    kept = wipe(config, yes, delete_backups=delete_backups)
    out.print(
        f"Deleted {config.state_dir}"
        + (f" and the backups in {config.backups_dir}." if delete_backups else ".")
    )
    if kept:
        out.print(
            "Kept: " + ", ".join(str(path) for path in kept) + " (--delete-backups deletes them)."
        )


def show_status(state_dir: Path | None) -> None:
    """`hp status local`: each component's pid, port, health and uptime."""
    from health_platform.local.backup_health import backup_summary
    from health_platform.local.platform import saved_config
    from health_platform.local.platform import status as read

    table = Table(title="local platform")
    for column in ("component", "pid", "port", "health", "uptime", "restarts"):
        table.add_column(column)
    rows = read(saved_config(state_dir))
    for row in rows:
        health = (
            "[green]healthy[/]"
            if row.healthy
            else ("[red]unhealthy[/]" if row.pid else "[dim]stopped[/]")
        )
        if row.pid and not row.in_rotation:
            health += " (out of rotation)"
        uptime = f"{row.uptime_seconds:.0f} s" if row.uptime_seconds is not None else "-"
        if row.read_only:
            health = "[yellow]read-only (restored)[/]"
        table.add_row(
            row.name, str(row.pid or "-"), str(row.port), health, uptime, str(row.restarts)
        )
    out.print(table)
    for check in backup_summary(saved_config(state_dir)):
        symbol = {"pass": "✓", "warn": "!", "fail": "✗"}[check.status]
        out.print(
            Text.assemble((symbol, STATUS_COLOURS[check.status]), f" {check.name}: {check.detail}")
        )
    if any(row.read_only for row in rows):
        out.print("Writes are refused until `hp restore local --promote`.")


def show_logs(
    component: str | None, *, follow: bool, lines: int, text: str | None, state_dir: Path | None
) -> None:
    """`hp logs local [COMPONENT]`: the last lines of a component's log (or of every one),
    then new lines as they come with `follow`; `text` keeps the lines that contain it."""
    from health_platform.errors import InvalidInputError
    from health_platform.local.config import COMPONENTS
    from health_platform.local.platform import follow as tail
    from health_platform.local.platform import last_lines, log_path, saved_config

    known = [*COMPONENTS, "supervisor"]
    if component is not None and component not in known:
        raise InvalidInputError(
            f"The local platform has no component {component!r}; it has {', '.join(known)}."
        )
    config = saved_config(state_dir)
    paths = [log_path(config, name) for name in ([component] if component else known)]

    def show(line: str) -> None:
        if text is None or text in line:
            out.print(line, highlight=False, markup=False)

    for path in paths:
        for line in last_lines(path, lines):
            show(line if component else f"{path.stem:<10} {line}")
    if follow:
        try:
            for line in tail(paths, prefix=component is None):
                show(line)
        except KeyboardInterrupt:
            return
