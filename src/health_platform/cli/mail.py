"""`hp mail local`: the emails the local platform sent account owners (its mail catcher: a
Maildir in the state folder), listed newest first, or one shown whole."""

from __future__ import annotations

from typing import Annotated

import typer

from health_platform.cli.common import StateDir, command_group, local_only, out, table
from health_platform.errors import InvalidInputError, exit_codes_help

app = command_group()


@app.command("mail", epilog=exit_codes_help())
def mail(
    env: Annotated[str, typer.Argument(help="local (on AWS, SES sends the mail).")],
    show: Annotated[
        int | None,
        typer.Option("--show", help="Print message N of the list (1: the newest) whole."),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Only the messages to this address.")
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """What the local API emailed: confirmation and reset links, notices to account
    owners. Nothing leaves this machine."""
    local_only(env, "mail")
    from health_platform.local.mail_catcher import caught
    from health_platform.local.platform import saved_config

    messages = caught(saved_config(state_dir).path("mail"), to)
    if show is not None:
        if not 1 <= show <= len(messages):
            raise InvalidInputError(
                f"There is no message {show}; `hp mail local` lists {len(messages)}."
            )
        chosen = messages[show - 1]
        out.print(
            f"To: {chosen.to}\nDate: {chosen.date:%Y-%m-%d %H:%M:%S %Z}\n"
            f"Subject: {chosen.subject}\n\n{chosen.body}",
            highlight=False,
            markup=False,
        )
        return
    if not messages:
        out.print("No mail yet.")
        return
    table(
        "Mail the local platform sent (newest first)",
        ["#", "date", "to", "subject"],
        [
            [str(n), f"{m.date:%Y-%m-%d %H:%M:%S}", m.to, m.subject]
            for n, m in enumerate(messages, start=1)
        ],
    )
