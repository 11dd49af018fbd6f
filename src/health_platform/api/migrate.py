"""`python -m health_platform.api.migrate`: bring the database to the latest schema.

Idempotent (an up-to-date database is left alone); exit code 0 on success, 1 on failure.
It is also the container's migration command (`hp db migrate` runs it as a one-off task).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from health_platform.api.config import database_url_from

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def main() -> int:
    try:
        migrate(database_url_from(os.environ))  # only the database's settings
    except Exception as failed:  # the exit code is the contract; the reason goes to stderr
        print(f"migration failed: {type(failed).__name__}: {failed}", file=sys.stderr)
        return 1
    print("database schema is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
