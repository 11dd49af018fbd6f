"""`hp secrets list|set|rotate ENV [NAME]`: the platform's secrets; values are never shown."""

from __future__ import annotations

import sys
from datetime import UTC
from typing import Annotated

import typer

from health_platform.cli.common import (
    AwsEnvArgument,
    YesOption,
    aws,
    command_group,
    confirm,
    err,
    mark,
    out,
    table,
)
from health_platform.errors import ExitCode, InvalidInputError, RefusedError, exit_codes_help

app = command_group(
    help="Secrets: list, set, rotate (values are never printed or taken as arguments).",
    no_args_is_help=True,
)
HELP = exit_codes_help(ExitCode.NO_CREDENTIALS, ExitCode.AWS_ERROR, ExitCode.REFUSED)
NameArgument = Annotated[str, typer.Argument(help="session-secret or redis-auth-token.")]


@app.command("list", epilog=HELP)
def list_(env: AwsEnvArgument) -> None:
    """Each secret: where it lives, whether it is set, when it last changed."""
    from health_platform.ops.secrets import list_secrets

    settings, clients = aws(env)
    table(
        f"Secrets of {settings.name}",
        ("name", "store", "where", "set", "last changed"),
        [
            (
                s.name,
                s.store,
                s.location,
                mark(s.is_set, "yes" if s.is_set else "NO"),
                f"{s.last_changed.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if s.last_changed else "-",
            )
            for s in list_secrets(settings, clients)
        ],
    )


@app.command("set", epilog=HELP)
def set_(
    env: AwsEnvArgument,
    name: NameArgument,
    generate: Annotated[
        bool, typer.Option("--generate", help="A random value instead of one typed or piped.")
    ] = False,
) -> None:
    """Set an application secret, then restart the backend so its tasks read it.

    The value is read from a hidden prompt, or from standard input when it is piped
    (`pass show hp/dev/session | hp secrets set dev session-secret`); never from an
    argument, which shell history and process lists would keep."""
    from health_platform.ops.secrets import require_known, set_secret

    require_known(env, name)  # a misspelt name is said before AWS is asked
    settings, clients = aws(env)
    change = set_secret(settings, clients, name, None if generate else _read_value)
    _report(change.steps, f"{name} of {settings.name} is set", change.backend_restarted)


@app.command("rotate", epilog=HELP)
def rotate(env: AwsEnvArgument, name: NameArgument, yes: YesOption = False) -> None:
    """Replace a secret with a generated one.

    redis-auth-token: without downtime (ElastiCache's ROTATE, the backend restarted with
    the new token, then SET). session-secret: every signed-in user is signed out, since
    sessions signed with the old secret no longer verify."""
    from health_platform.contract import APP_SECRETS
    from health_platform.ops.secrets import require_known, rotate_secret

    require_known(env, name)  # a misspelt name is said before AWS is asked
    settings, clients = aws(env)
    if (
        name in APP_SECRETS
        and not yes
        and not confirm(f"Rotating {name} signs every user of {settings.name} out. Go on?")
    ):
        raise RefusedError(f"{name} of {settings.name} is unchanged.")
    with err.status(f"Rotating {name} of {settings.name}…"):
        change = rotate_secret(settings, clients, name)
    _report(change.steps, f"{name} of {settings.name} is rotated", change.backend_restarted)


def _read_value() -> str:
    if sys.stdin.isatty():
        value = typer.prompt("Value", hide_input=True, confirmation_prompt=True, err=True)
    else:
        value = sys.stdin.readline().rstrip("\n")
    if not value:
        raise InvalidInputError("No value given; type it at the prompt, pipe it, or --generate.")
    return str(value)


def _report(steps: tuple[str, ...], done: str, restarted: bool) -> None:
    for step in steps:
        err.print(f"  {step}", highlight=False, markup=False)
    out.print(f"[green]{done}[/]" + ("; the backend was restarted." if restarted else "."))
