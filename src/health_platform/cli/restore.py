"""`hp restore local --to TIME|latest --yes`: recover the local platform from its backups;
`hp restore local --promote`: let the restored database take writes again."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from health_platform.cli.common import (
    EnvArgument,
    StateDir,
    command_group,
    confirm,
    local_only,
    out,
)
from health_platform.cli.local import show_status
from health_platform.errors import (
    ExitCode,
    InvalidInputError,
    LocalPlatformError,
    RefusedError,
    exit_codes_help,
)

if TYPE_CHECKING:
    from health_platform.local.config import LocalConfig

app = command_group()


@app.command(
    "restore",
    epilog=exit_codes_help(
        ExitCode.REFUSED,
        ExitCode.LOCAL_FAILURE,
        extra="The data folder as it was is moved aside, never deleted.",
    ),
)
def restore(
    env: EnvArgument,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="`latest` (everything archived), or a time: 2026-11-30T14:05:00Z (UTC"
            " unless a zone is given).",
            show_default=False,
        ),
    ] = None,
    promote: Annotated[
        bool, typer.Option("--promote", help="End a restore: accept writes again.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Restore the local platform's database and documents from its backups.

    The platform stops, the data folder is moved aside, pgBackRest restores and PostgreSQL
    replays the archive to the target; the platform starts again **read-only**: writes, and
    reads of health data (each writes an audit record), answer 503, and the database can be
    checked with SQL before you commit to it. Then `hp restore local --promote`
    makes it take writes, migrates, and takes a backup. Sessions do not survive a restore:
    everyone signs in again."""
    from health_platform.local.platform import database_errors, saved_config

    local_only(env, "restore")
    config = saved_config(state_dir)
    if promote:
        if to is not None:
            raise InvalidInputError("Pass --to to restore or --promote to finish one, not both.")
        from health_platform.local.restore import promote as finish

        with (
            out.status("Promoting, migrating and taking a backup…"),
            database_errors("promoting"),
        ):
            finish(config)
        out.print("The database takes writes again; a backup starts its new history.")
        return
    if to is None:
        raise InvalidInputError("Say what to restore to: --to latest, or --to TIME.")
    from health_platform.local.restore import parse_target

    target = parse_target(to)
    said = "the end of the archive" if target is None else f"{target:%Y-%m-%d %H:%M:%S %Z}"
    question = (
        f"Restore the local platform to {said}? It stops now, and writes made after that"
        " point are set aside with the current data folder."
    )
    if not yes and not confirm(question):
        raise RefusedError("Nothing was restored.")
    with database_errors("restoring"):
        _restore_and_start(config, target, said)


def _restore_and_start(config: LocalConfig, target: datetime | None, said: str) -> None:
    from health_platform.cli.local import start_platform
    from health_platform.local.restore import put_back_documents
    from health_platform.local.restore import restore as recover

    with out.status(f"Restoring to {said}…"):
        restored = recover(config, target)
    if restored.set_aside:
        out.print(f"The data folder as it was: {restored.set_aside} (delete it when satisfied).")
    try:
        start_platform(config)
    except LocalPlatformError as failed:
        aside = f" The data folder as it was: {restored.set_aside}." if restored.set_aside else ""
        raise LocalPlatformError(
            f"The restored database did not start.{aside} {failed}"
        ) from failed
    documents = put_back_documents(config)
    out.print(
        f"Documents: {documents.checked} row(s) checked"
        + (f", {len(documents.missing)} without a copy" if documents.missing else "")
        + (f", {len(documents.different)} whose copy differs" if documents.different else "")
        + "."
    )
    show_status(config.state_dir)
    out.print(
        "Restored read-only: writes, and reads of health data (each writes an audit record),"
        " answer 503 until `hp restore local --promote`."
    )
