"""`hp`: the one command for the platform's life cycle.

One grammar: a command that acts on an environment takes it first, and `local` is an
environment wherever the verb makes sense for it (`hp status ENV`, `hp logs ENV`,
`hp doctor ENV`, `hp db migrate ENV`, `hp users create-admin ENV EMAIL`). `hp infra …`
is the infrastructure's life cycle; `hp up` and `hp down` run the local platform.

Commands are thin: they parse, call a plain function in ops/ or local/, and render. User
mistakes are one sentence and a documented exit code (health_platform.errors.ExitCode,
from which every --help's table is generated); anything else is a bug and keeps its
traceback. Heavy modules are imported inside the commands that need them, so `hp --help`
stays instant.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.text import Text

from health_platform import __version__
from health_platform.cli import (
    backup,
    compliance,
    cost,
    db,
    diagram,
    dr,
    infra,
    local,
    mail,
    observe,
    release,
    restore,
    secrets,
    users,
    wake,
)
from health_platform.cli.common import command_group, err, out
from health_platform.errors import ExitCode, UserError

app = command_group(
    name="hp",
    help="health-platform: run a Personal Health Platform on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(local.app)
app.add_typer(mail.app)
app.add_typer(observe.app)
app.add_typer(release.app)
app.add_typer(backup.app)
app.add_typer(restore.app)
app.add_typer(diagram.app)
app.add_typer(cost.app)
app.add_typer(compliance.app)
app.add_typer(infra.app, name="infra")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(secrets.app, name="secrets")
app.add_typer(dr.app, name="dr")
app.add_typer(wake.app)


def _version(value: bool) -> None:
    if value:
        out.print(f"hp {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """health-platform: run a Personal Health Platform on AWS."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `hp`; returns the exit code instead of exiting (tests call this).

    Typer reports usage mistakes itself (exit 2); a UserError from a command becomes its
    one-sentence message and documented exit code.
    """
    try:
        app(args=list(argv) if argv is not None else None, prog_name="hp")
    except SystemExit as finished:
        code = finished.code
        return code if isinstance(code, int) else ExitCode.OK if code is None else 1
    except UserError as problem:
        err.print(Text.assemble(("error:", "red"), f" {problem}"), highlight=False)
        return problem.exit_code
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
