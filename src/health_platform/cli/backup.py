"""`hp backup ENV [--list]`: a manual snapshot of the environment's database."""

from __future__ import annotations

from typing import Annotated

import typer

from health_platform.cli.common import AwsEnvArgument, aws, command_group, err, mark, out, table
from health_platform.errors import ExitCode, exit_codes_help

app = command_group()


@app.command(
    "backup",
    epilog=exit_codes_help(ExitCode.NO_CREDENTIALS, ExitCode.AWS_ERROR, ExitCode.TIMED_OUT),
)
def backup(
    env: AwsEnvArgument,
    listing: Annotated[
        bool, typer.Option("--list", help="List the database's snapshots instead.")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until it is available.")] = False,
) -> None:
    """Take a manual RDS snapshot of the database (kept until deleted), or list them.

    Automated backups and AWS Backup's copies run on their own; a manual snapshot is
    the one to take before a risky change (`hp infra apply` offers it before it changes
    the data stack)."""
    from health_platform.ops.backup import create_snapshot, list_snapshots

    settings, clients = aws(env)
    if listing:
        table(
            f"Snapshots of {settings.name}'s database",
            ("snapshot", "type", "status", "created", "GB", "encrypted"),
            [
                (
                    s.identifier,
                    s.kind,
                    s.status,
                    f"{s.created:%Y-%m-%d %H:%M} UTC" if s.created else "(in progress)",
                    str(s.size_gb),
                    mark(s.encrypted, "yes" if s.encrypted else "NO"),
                )
                for s in list_snapshots(settings, clients)
            ],
        )
        return
    with err.status("Taking a snapshot…" if wait else "Starting a snapshot…"):
        snapshot = create_snapshot(settings, clients, wait=wait)
    out.print(f"Snapshot {snapshot.identifier}: {snapshot.status}.", highlight=False)
