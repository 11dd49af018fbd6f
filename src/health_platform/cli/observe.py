"""`hp status ENV`, `hp logs ENV [SERVICE]`, `hp doctor ENV`: how an environment is doing,
`local` or on AWS, in the same words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from health_platform.cli import infra
from health_platform.cli import local as local_commands
from health_platform.cli.common import (
    EnvArgument,
    StateDir,
    aws,
    command_group,
    err,
    is_local,
    out,
    verdict,
)
from health_platform.errors import ExitCode, InvalidInputError, exit_codes_help
from health_platform.local.config import COMPONENTS

if TYPE_CHECKING:
    from health_platform.checks import Check

app = command_group()

AWS_READ = (ExitCode.NO_CREDENTIALS, ExitCode.AWS_ERROR)


@app.command("status", epilog=exit_codes_help(ExitCode.FINDINGS, *AWS_READ))
def status(env: EnvArgument, state_dir: StateDir = None) -> None:
    """How each part of an environment is doing.

    `local`: each component's pid, port, health and uptime. AWS: stacks, services,
    targets, database, cache and alarms (as `hp infra status ENV`)."""
    if is_local(env):
        local_commands.show_status(state_dir)
    else:
        infra.show_status(env, local_too=True)


@app.command("logs", epilog=exit_codes_help(*AWS_READ))
def logs(
    env: EnvArgument,
    service: Annotated[
        str | None,
        typer.Argument(
            help="AWS: frontend, backend or migrate. local: "
            f"{', '.join(COMPONENTS)} or supervisor. Default: all."
        ),
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing.")] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="AWS: how far back, e.g. 30m, 1h, 2d (default: 1h).", show_default=False
        ),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--filter", help="Only lines that contain this text.")
    ] = None,
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=1, help="At most this many lines.")
    ] = 200,
    state_dir: StateDir = None,
) -> None:
    """A service's log lines (or every service's), oldest first, then new ones with -f."""
    if is_local(env):
        if since is not None:
            raise InvalidInputError("--since reads CloudWatch; the local logs take --lines.")
        local_commands.show_logs(
            service, follow=follow, lines=lines, text=text, state_dir=state_dir
        )
        return
    from health_platform.ops.logs import follow_logs, parse_since, read_logs, tasks_named

    tasks = tasks_named(service)  # a misspelt name or window is said before AWS is asked
    window = parse_since(since or "1h")
    settings, clients = aws(env, local_too=True)
    prefix = service is None
    with err.status(f"Reading {settings.name}'s logs…"):
        shown = read_logs(settings, clients, tasks, window, text, lines)
    for line in shown.lines:
        out.print(line.render(prefix), highlight=False, markup=False)
    for note in shown.notes:
        err.print(note, highlight=False, markup=False)
    if follow:
        try:
            for line in follow_logs(settings, clients, tasks, text, after=shown.lines):
                out.print(line.render(prefix), highlight=False, markup=False)
        except KeyboardInterrupt:
            return


@app.command(
    "doctor",
    epilog=exit_codes_help(
        ExitCode.FINDINGS,
        ExitCode.NO_CREDENTIALS,
        extra="Warnings alone exit 0; a failed check exits 1 (an AWS call refused is one).",
    ),
)
def doctor(env: EnvArgument, state_dir: StateDir = None) -> None:
    """Check an environment the way its runbook would, with a hint for each problem.

    One line per check, a hint under each warning or failure. `local`: components,
    the API's readiness, the backups (WAL archive, newest backup, scheduled jobs), disk space,
    the certificate.
    AWS: the seed's Troubleshooting checks: stopped tasks and why, task definitions,
    release parameters and secrets, target health, the network path to the database
    and the cache, their status, 5xx and latency, alarms, image scan findings and
    certificates."""
    from health_platform.checks import failed

    if is_local(env):
        from health_platform.local.doctor import run_doctor as local_doctor
        from health_platform.local.platform import saved_config

        checks = local_doctor(saved_config(state_dir))
    else:
        from health_platform.ops.doctor import run_doctor

        settings, clients = aws(env, local_too=True)
        with err.status(f"Checking {settings.name}…"):
            checks = run_doctor(settings, clients)
    _render_checks(env, checks)
    if failed(checks):
        raise typer.Exit(ExitCode.FINDINGS)


def _render_checks(env: str, checks: Sequence[Check]) -> None:
    width = max((len(c.component) for c in checks), default=0)
    for check in checks:
        out.print(
            Text.assemble(
                verdict(check.status), f"  {check.component:<{width}}  {check.name}: {check.detail}"
            ),
            highlight=False,
        )
        if check.hint and check.status != "pass":
            out.print(Text(f"{'':>4}  {'':<{width}}  → {check.hint}"), highlight=False)
    counts = {s: sum(c.status == s for c in checks) for s in ("pass", "warn", "fail")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    out.print(f"{env}: {summary}.")
