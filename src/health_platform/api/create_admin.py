"""`python -m health_platform.api.create_admin --email E --name N --token-sha256 H`: invite an
administrator (see api/invitations.py), as a one-off task of the backend's image.

It reads the database's settings from its environment exactly as the migration task does
(api/migrate.py) and connects, like it, as the database's owner. It receives only the
digest of the enrollment token and prints neither: the task's command line and output are
kept. Exit codes: 0 invited (the user id and the expiry on stdout), 1 failed (the reason on
stderr), 2 invalid input (one sentence on stderr)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from health_platform.api.invitations import invite_admin
from health_platform.contract import database_settings_from_environment
from health_platform.errors import ExitCode, InvalidInputError


class _Arguments(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one sentence, not argparse's usage text
        raise InvalidInputError(f"{message[:1].upper()}{message[1:]}.")


def main(argv: list[str] | None = None) -> int:
    parser = _Arguments(prog="python -m health_platform.api.create_admin")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--token-sha256", required=True)
    try:
        args = parser.parse_args(argv)
        database_url = database_settings_from_environment(os.environ).database_dsn
        invited = invite_admin(database_url, args.email, args.name, args.token_sha256)
    except InvalidInputError as invalid:
        print(invalid, file=sys.stderr)
        return ExitCode.INVALID_INPUT
    except Exception as failed:  # the exit code is the contract; the reason goes to stderr
        print(f"invitation failed: {type(failed).__name__}: {failed}", file=sys.stderr)
        return 1
    print(
        f"administrator {invited.user_id} invited;"
        f" the enrollment link expires at {invited.expires_at.isoformat(timespec='seconds')}"
    )
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
