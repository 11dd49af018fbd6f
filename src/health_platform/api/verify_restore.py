"""`python -m health_platform.api.verify_restore [--host HOST]`: what a restored database holds,
as one JSON line on stdout, for `hp dr drill` (ops/dr/verify.py reads it from the task's log):

    {"schema_version": "<revision>", "head_revision": "<revision>", "schema_known": true,
     "tables": {"users": 12, ...}}

`schema_version` is the database's alembic revision (null when it has none), `head_revision`
the newest migration of this image, `schema_known` whether the database's revision is one of
this image's, and `tables` the exact row count of every table in the public schema.

It reads the database's settings from its environment exactly as the migration does
(api/migrate.py) and connects, like it, as the owner; `--host` replaces the host only (the
drill's restored copy of the database the task definition names). It signs in with a
password: an IAM token would be refused, the task roles may connect only to the primary.
Read-only: one READ ONLY transaction. Exit codes: 0 read (the line on stdout), 1 failed (the
reason on stderr), 2 invalid input (one sentence on stderr).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from health_platform.api.migrate import alembic_config
from health_platform.api.one_off import Arguments, run
from health_platform.contract import database_settings_from_environment
from health_platform.errors import InvalidInputError

CONNECT_TIMEOUT_SECONDS = 30  # a restored instance's DNS name may be minutes old


def database_url(environ: Mapping[str, str], host: str | None) -> str:
    settings = database_settings_from_environment(environ)
    if settings.database_auth == "iam":
        raise InvalidInputError(
            "DATABASE_AUTH=iam: verify_restore signs in with the owner's password (run it in"
            " the migration's task); IAM tokens are good only for the primary instance."
        )
    url = make_url(settings.database_dsn)
    return (url.set(host=host) if host else url).render_as_string(hide_password=False)


def inspect(url: str) -> dict[str, Any]:
    """The schema version and the row count of every table in the public schema."""
    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.connect() as connection:
            connection.execute(text("SET TRANSACTION READ ONLY"))
            names = list(
                connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
                ).scalars()
            )
            # Names from pg_tables, quoted: no input of anyone's reaches the statement.
            counts = {
                name: connection.execute(
                    text(f"SELECT count(*) FROM public.{quote(name)}")  # noqa: S608
                ).scalar_one()
                for name in names
            }
            version = (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in counts
                else None
            )
    finally:
        engine.dispose()
    scripts = ScriptDirectory.from_config(alembic_config(url))
    known = {revision.revision for revision in scripts.walk_revisions()}
    return {
        "schema_version": version,
        "head_revision": scripts.get_current_head(),
        "schema_known": version in known,
        "tables": counts,
    }


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = Arguments(prog="python -m health_platform.api.verify_restore")
    parser.add_argument("--host", help="the database's host instead of DATABASE_HOST's")

    def verify() -> str:
        args = parser.parse_args(argv)
        report = inspect(database_url(os.environ if environ is None else environ, args.host))
        return json.dumps(report, sort_keys=True)

    return run(verify, "verification")


if __name__ == "__main__":
    sys.exit(main())
