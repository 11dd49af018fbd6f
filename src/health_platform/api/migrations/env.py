"""Alembic environment: the URL comes from the caller (health_platform.api.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from health_platform.api.models import Base

url = context.config.get_main_option("sqlalchemy.url")
if not url:
    raise SystemExit("no database URL: run migrations through health_platform.api.migrate")
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        # One migrator at a time, even if several tasks start together.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")
        context.run_migrations()
engine.dispose()
