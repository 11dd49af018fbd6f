"""`hp users create-admin ENV EMAIL`: an environment's first administrator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from health_platform.cli.common import LOCAL, StateDir, aws, command_group, err, is_local, out
from health_platform.errors import ExitCode, InvalidInputError, exit_codes_help

app = command_group(help="Accounts: the first administrator.", no_args_is_help=True)


@app.command(
    "create-admin",
    epilog=exit_codes_help(
        ExitCode.NO_CREDENTIALS, ExitCode.AWS_ERROR, ExitCode.LOCAL_FAILURE, ExitCode.TIMED_OUT
    ),
)
def create_admin(
    env: Annotated[str, typer.Argument(help="`local`, or an AWS environment.")],
    email: Annotated[
        str | None, typer.Argument(help="The administrator's email address.", show_default=False)
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "Administrator",
    timeout: Annotated[
        int, typer.Option("--timeout", help="AWS: seconds to wait for the task.", min=30)
    ] = 600,
    state_dir: StateDir = None,
) -> None:
    """Create an administrator. `local`: with a generated password and a TOTP second
    factor, both printed once. AWS: a one-off task creates the account without a password
    and this terminal prints a one-time enrollment link (valid 72 hours) for the new
    administrator to set one; only the link's hash ever leaves this terminal."""
    if email is None:
        if "@" not in env:
            raise InvalidInputError("Name the environment and the email: ENV EMAIL.")
        # The spelling before environments were named here; kept for one release.
        err.print(
            f"notice: `hp users create-admin EMAIL` is now `hp users create-admin {LOCAL}"
            " EMAIL`; the old spelling goes in the next release.",
            highlight=False,
        )
        env, email = LOCAL, env
    if is_local(env):
        _local(email, name, state_dir)
        return
    from health_platform.ops.admins import check_input, invite_admin

    check_input(email, name)
    settings, clients = aws(env, local_too=True)
    err.print(f"Creating {email} in {settings.name} with a one-off task…")
    invitation = invite_admin(
        settings,
        clients,
        email,
        name,
        on_log=lambda line: err.print(f"  {line}", highlight=False, markup=False),
        timeout_s=timeout,
    )
    out.print(
        f"Administrator {invitation.email} created in {settings.name}, without a password.\n"
        "Send them this link, once and privately; it works once, for 72 hours:\n"
        f"  {invitation.link}\n"
        "They set a password there, then enrol an authenticator app at first sign-in.",
        highlight=False,
        soft_wrap=True,
    )


def _local(email: str, name: str, state_dir: Path | None) -> None:
    from health_platform.local.platform import create_admin as make
    from health_platform.local.platform import saved_config

    made = make(saved_config(state_dir), email, name)
    out.print(
        f"Administrator {made.email} created.\n"
        f"Password (shown once):  {made.password}\n"
        f"TOTP enrollment URI:    {made.otpauth_uri}\n"
        f"(or the key by hand:    {made.totp_secret})\n"
        "Sign in with the password and the 6-digit code from the authenticator app.",
        highlight=False,
        soft_wrap=True,
    )
