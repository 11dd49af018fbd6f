"""`hp db migrate ENV`: bring an environment's database to the latest schema."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from health_platform.cli.common import EnvArgument, StateDir, aws, command_group, err, is_local, out
from health_platform.errors import ExitCode, exit_codes_help

app = command_group(help="The database: migrations.", no_args_is_help=True)


@app.command(
    "migrate",
    epilog=exit_codes_help(
        ExitCode.NO_CREDENTIALS,
        ExitCode.AWS_ERROR,
        ExitCode.LOCAL_FAILURE,
        ExitCode.TIMED_OUT,
        extra="On AWS a migration that ran and failed exits with the task's own exit code.",
    ),
)
def migrate(
    env: EnvArgument,
    timeout: Annotated[
        int, typer.Option("--timeout", help="AWS: seconds to wait for the task.", min=30)
    ] = 900,
    state_dir: StateDir = None,
) -> None:
    """Bring the database to the latest schema (idempotent). On AWS: the migration task
    definition as a one-off Fargate task in the private subnets, its log streamed here."""
    if is_local(env):
        from health_platform.local.platform import migrate as upgrade
        from health_platform.local.platform import saved_config

        upgrade(saved_config(state_dir))
        out.print("The database schema is up to date.")
        return
    from health_platform.ops.tasks import run_migration

    settings, clients = aws(env, local_too=True)
    err.print(f"Running the migration task in {settings.name}…")
    run = run_migration(
        settings,
        clients,
        on_log=lambda line: out.print(f"  {line}", highlight=False, markup=False),
        timeout_s=timeout,
    )
    if run.exit_code != 0:
        err.print(Text.assemble(("The migration failed:", "red"), f" {run.summary}"))
        raise typer.Exit(run.exit_code or ExitCode.AWS_ERROR)
    out.print(f"The database schema of {settings.name} is up to date ({run.summary}).")
