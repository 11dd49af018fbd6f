"""`python -m health_platform.api.migrate`: bring the database to the latest schema.

Idempotent (an up-to-date database is left alone); exit code 0 on success, 1 on failure.
It is also the container's migration command: the services stack's one-off migration task.
It runs as the database's owner, with the owner's password: a one-off task may receive the
rotating master secret at its start. The API's runtime role is made and granted here
(migration 0003), never used to migrate.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from health_platform.contract import database_settings_from_environment

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest migration's revision: what a migrated database's schema_version is."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def main() -> int:
    try:
        migrate(database_settings_from_environment(os.environ).database_dsn)
    except Exception as failed:  # the exit code is the contract; the reason goes to stderr
        print(f"migration failed: {type(failed).__name__}: {failed}", file=sys.stderr)
        return 1
    print("database schema is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
