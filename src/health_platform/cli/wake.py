"""`hp wake ENV`: start an environment that sleeps outside its office hours, early."""

from __future__ import annotations

from typing import Annotated

import typer

from health_platform.cli.common import AwsEnvArgument, aws, command_group, err, out
from health_platform.errors import ExitCode, exit_codes_help

app = command_group()


@app.command(
    "wake",
    epilog=exit_codes_help(
        ExitCode.NO_CREDENTIALS,
        ExitCode.AWS_ERROR,
        ExitCode.REFUSED,
        ExitCode.TIMED_OUT,
        extra="6: the environment has no office hours.",
    ),
)
def wake(
    env: AwsEnvArgument,
    timeout: Annotated[
        int, typer.Option("--timeout", help="Seconds to wait for the database.", min=60)
    ] = 1800,
) -> None:
    """Start the database and the services of an environment outside its office hours
    (dev's cost option); they run until the office hours' next stop."""
    from health_platform.ops.office_hours import wake as start

    settings, clients = aws(env)
    woken = start(
        settings, clients, timeout_s=timeout, on_progress=lambda line: err.print(f"  {line}")
    )
    hours = settings.office_hours
    assert hours is not None  # wake refuses an environment without them
    tasks = ", ".join(f"{service} {low}-{high}" for service, (low, high) in woken.tasks.items())
    out.print(
        f"{settings.name} is awake (the database was {woken.database_was}; tasks: {tasks})"
        f" until the next stop of its office hours ({hours.describe()})."
    )
