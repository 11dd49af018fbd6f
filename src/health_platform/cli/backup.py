"""`hp backup ENV [--list]`: take a backup now, or list them. Locally: pgBackRest's
repository and the documents' copies; on AWS: a manual RDS snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from health_platform.cli.common import (
    EnvArgument,
    StateDir,
    aws,
    command_group,
    err,
    is_local,
    mark,
    out,
    table,
)
from health_platform.errors import ExitCode, InvalidInputError, exit_codes_help

app = command_group()

ListOption = Annotated[bool, typer.Option("--list", help="List the backups instead.")]


@app.command(
    "backup",
    epilog=exit_codes_help(
        ExitCode.NO_CREDENTIALS,
        ExitCode.AWS_ERROR,
        ExitCode.LOCAL_FAILURE,
        ExitCode.TIMED_OUT,
    ),
)
def backup(
    env: EnvArgument,
    listing: ListOption = False,
    kind: Annotated[
        Literal["full", "diff", "incr"] | None,
        typer.Option("--type", help="local: full, diff or incr (default: what is due, else incr)."),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="local: read every backup and archived WAL file back."),
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="AWS: wait until it is available.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Take a backup now, or list them.

    **local**: a pgBackRest backup of the cluster (full, differential or incremental) and a
    copy of every new document; the WAL archive runs on its own. `--verify` checks the
    repository end to end instead. **AWS**: a manual RDS snapshot of the database (kept until
    deleted), the one to take before a risky change (`hp infra apply` offers it); automated
    backups and AWS Backup's copies run on their own."""
    if is_local(env):
        _local(listing=listing, kind=kind, verify=verify, state_dir=state_dir)
        return
    if kind or verify:
        raise InvalidInputError("--type and --verify are for `hp backup local`.")
    _aws(env, listing=listing, wait=wait)


def _local(
    *,
    listing: bool,
    kind: Literal["full", "diff", "incr"] | None,
    verify: bool,
    state_dir: Path | None,
) -> None:
    from datetime import UTC, datetime

    from health_platform.local.backups import due, pgbackrest_for, take_backup
    from health_platform.local.platform import saved_config

    config = saved_config(state_dir)
    backrest = pgbackrest_for(config)
    if listing:
        info = backrest.info()
        table(
            f"Backups in {config.backups_dir} ({info.status})",
            ("label", "type", "started", "took", "database", "in repository"),
            [
                (
                    b.label,
                    b.kind,
                    f"{b.started:%Y-%m-%d %H:%M:%S} UTC",
                    f"{(b.stopped - b.started).total_seconds():.0f} s",
                    _size(b.size_bytes),
                    _size(b.repository_bytes),
                )
                for b in info.backups
            ],
        )
        if info.archive_min:
            out.print(f"WAL archive: {info.archive_min} … {info.archive_max}", highlight=False)
        earliest = info.earliest_recovery_time
        if earliest:
            out.print(f"Restorable from {earliest:%Y-%m-%d %H:%M:%S} UTC to now.")
        return
    if verify:
        with err.status("Checking the archive and reading every backup back…"):
            backrest.check()
            backrest.verify()
        out.print("The repository verified: every backup and archived WAL file reads back.")
        return
    chosen = kind or due(backrest.info(), datetime.now(UTC)) or "incr"
    with err.status(f"Taking a {chosen} backup…"):
        backrest.ensure_stanza()
        copied = take_backup(config, chosen)
    out.print(
        f"{chosen.capitalize()} backup taken into {config.backups_dir}"
        f" ({copied} new document(s) copied)."
    )


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB"


def _aws(env: str, *, listing: bool, wait: bool) -> None:
    from health_platform.ops.backup import create_snapshot, list_snapshots

    settings, clients = aws(env, local_too=True)
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
