"""What every command module shares: the consoles, the argument types, environment
selection and the small renderers. Nothing here imports boto3, pydantic or aws_cdk, so
`hp --help` stays instant."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from health_platform.errors import InvalidInputError, RefusedError, UnknownEnvironmentError

if TYPE_CHECKING:
    import boto3

    from health_platform.ops.aws import ClientFactory
    from health_platform.settings import EnvironmentSettings

# Rich assumes 80 columns when output is not a terminal (CI logs, pipes); tables of stack
# names need more, and a log has no width to respect.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
# soft_wrap: a line longer than the width stays one line (a log line piped to jq, a doctor
# check to grep); tables still fit the width. emoji off: ":secret:" in an ARN is text.
out = Console(width=_WIDTH, soft_wrap=True, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)

# The platform on this machine; every other environment is a file in environments/.
LOCAL = "local"

EnvArgument = Annotated[
    str, typer.Argument(help="`local`, or an AWS environment (a file in environments/).")
]
AwsEnvArgument = Annotated[str, typer.Argument(help="Environment name (a file in environments/).")]
OptionalEnvArgument = Annotated[
    str | None, typer.Argument(help="Environment name (a file in environments/).")
]
AllOption = Annotated[bool, typer.Option("--all", help="Every environment.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Cloud assembly directory (default: cdk.out).")
]
StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where the local platform's state lives (env HP_STATE_DIR; default: .local/).",
        show_default=False,
    ),
]


def command_group(**options: Any) -> typer.Typer:
    """A Typer for a module's commands. Markdown help: paragraphs of a docstring reflow to
    the terminal's width, and square brackets (`[default: …]`) are text, not Rich markup."""
    return typer.Typer(rich_markup_mode="markdown", **options)


def is_local(env: str) -> bool:
    return env == LOCAL


def select(env: str | None, every: bool) -> list[EnvironmentSettings]:
    # Imported here: building the pydantic models costs `hp --help` a fifth of a second.
    from health_platform.settings import load_environments

    if every:
        if env:
            raise InvalidInputError("Name one environment or pass --all, not both.")
        return load_environments()
    if not env:
        raise InvalidInputError("Name an environment (e.g. `dev`) or pass --all.")
    if is_local(env):
        raise InvalidInputError(
            "This command works on AWS environments; `local` is the platform on this machine."
        )
    return load_environments([env])


def one(env: str) -> EnvironmentSettings:
    return select(env, every=False)[0]


def aws(env: str, *, local_too: bool = False) -> tuple[EnvironmentSettings, ClientFactory]:
    """An AWS environment's settings and clients, after checking there are credentials.
    `local_too`: the command takes `local` as well, and an unknown name says so."""
    import boto3

    from health_platform.ops.aws import require_credentials

    try:
        settings = one(env)
    except UnknownEnvironmentError as unknown:
        if not local_too:
            raise
        raise UnknownEnvironmentError(unknown.names, unknown.known, f", or {LOCAL}") from None
    session = boto3.Session()
    require_credentials(session)
    return settings, clients_of(session)


def clients_of(session: boto3.Session) -> ClientFactory:
    """The seam where tests hand the commands clients of moto."""
    from health_platform.ops.aws import boto_clients

    return boto_clients(session)


def local_only(env: str, command: str) -> None:
    if not is_local(env):
        raise InvalidInputError(f"`hp {command}` works on the local platform only, not {env!r}.")


def confirm(question: str, unanswered: str = "pass --yes to answer yes") -> bool:
    """Ask on the terminal; with nobody to answer (no terminal, standard input at its end)
    one sentence, exit 6, instead of click's bare "Aborted."."""
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort as unanswerable:
        err.print()  # ends the question's line
        raise RefusedError(f"{question} No answer came; {unanswered}.") from unanswerable


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str | Text]]) -> None:
    """A table whose text cells are shown as they are (what AWS says is never markup);
    colour comes from `mark`."""
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
    out.print(shown)


def mark(healthy: bool, text: str) -> Text:
    return Text(text, style="green" if healthy else "red")


STATUS_COLOURS = {"pass": "green", "warn": "yellow", "fail": "red"}


def verdict(status: str) -> Text:
    return Text(status, style=STATUS_COLOURS.get(status, ""))
