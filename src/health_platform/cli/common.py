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

from health_platform.errors import InvalidInputError

if TYPE_CHECKING:
    import boto3

    from health_platform.ops.aws import ClientFactory
    from health_platform.settings import EnvironmentSettings

# Rich assumes 80 columns when output is not a terminal (CI logs, pipes); tables of stack
# names need more, and a log has no width to respect.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
out = Console(width=_WIDTH)
err = Console(stderr=True, soft_wrap=True)  # one sentence stays one line

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


def aws(env: str) -> tuple[EnvironmentSettings, ClientFactory]:
    """An AWS environment's settings and clients, after checking there are credentials."""
    import boto3

    from health_platform.ops.aws import require_credentials

    settings = one(env)
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


def confirm(question: str) -> bool:
    return typer.confirm(question, default=False, err=True)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*row)
    out.print(shown)


def mark(healthy: bool, text: str) -> str:
    return f"[green]{text}[/]" if healthy else f"[red]{text}[/]"


STATUS_COLOURS = {"pass": "green", "warn": "yellow", "fail": "red"}


def verdict(status: str) -> str:
    return f"[{STATUS_COLOURS.get(status, 'white')}]{status}[/]"
