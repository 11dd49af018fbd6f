"""The API's runtime role: owns nothing; reads and writes the data tables, and may only
read and append the audit trail (the append-only trigger belongs to the owner, and only
an owner or a superuser could disable it).

On RDS the role signs in with IAM database authentication (`rds_iam`); locally the
platform gives it a password before migrating. Tables that later migrations create are
granted to it by default privileges; a new append-only table must revoke UPDATE and
DELETE the way audit_records does here.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from health_platform.contract import RUNTIME_ROLE

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DATA_TABLES = ("users", "observations", "documents")

GRANTS = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RUNTIME_ROLE}') THEN
        CREATE ROLE {RUNTIME_ROLE} LOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO {RUNTIME_ROLE};
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO {RUNTIME_ROLE}', current_database());
END $$;
GRANT USAGE ON SCHEMA public TO {RUNTIME_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON {", ".join(DATA_TABLES)} TO {RUNTIME_ROLE};
GRANT SELECT, INSERT ON audit_records TO {RUNTIME_ROLE};
GRANT USAGE ON SEQUENCE audit_records_id_seq TO {RUNTIME_ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {RUNTIME_ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {RUNTIME_ROLE};
"""  # noqa: S608 - names from this code, no input

REVOKES = f"""
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE ON SEQUENCES FROM {RUNTIME_ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {RUNTIME_ROLE};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {RUNTIME_ROLE};
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {RUNTIME_ROLE};
REVOKE USAGE ON SCHEMA public FROM {RUNTIME_ROLE};
"""


def upgrade() -> None:
    op.execute(GRANTS)


def downgrade() -> None:
    # The role itself stays: it may hold grants in other databases of the cluster.
    op.execute(REVOKES)
