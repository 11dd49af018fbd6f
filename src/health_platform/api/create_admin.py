"""`python -m health_platform.api.create_admin --email E --name N --token-sha256 H`: invite an
administrator (see api/invitations.py), as a one-off task of the backend's image.

It reads the database's settings from its environment exactly as the migration task does
(api/migrate.py) and connects, like it, as the database's owner. It receives only the
digest of the enrollment token and prints neither: the task's command line and output are
kept. Exit codes: 0 invited (the user id and the expiry on stdout), 1 failed (the reason on
stderr), 2 invalid input (one sentence on stderr)."""

from __future__ import annotations

import os
import sys

from health_platform.api.invitations import invite_admin
from health_platform.api.one_off import Arguments, run
from health_platform.contract import database_settings_from_environment


def main(argv: list[str] | None = None) -> int:
    parser = Arguments(prog="python -m health_platform.api.create_admin")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--token-sha256", required=True)

    def invite() -> str:
        args = parser.parse_args(argv)
        database_url = database_settings_from_environment(os.environ).database_dsn
        invited = invite_admin(database_url, args.email, args.name, args.token_sha256)
        return (
            f"administrator {invited.user_id} invited; the enrollment link expires at"
            f" {invited.expires_at.isoformat(timespec='seconds')}"
        )

    return run(invite, "invitation")


if __name__ == "__main__":
    sys.exit(main())
