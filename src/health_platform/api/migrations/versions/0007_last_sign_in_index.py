"""The last successful sign-in of an account, as the accounts list shows it: an index of
exactly those records, so finding each listed account's newest one reads one entry (not
every record since, as the (actor_id, at) index did, filtering on action and outcome).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_audit_sign_ins"


def upgrade() -> None:
    op.execute(
        f"CREATE INDEX {INDEX} ON audit_records (actor_id, at DESC)"
        " WHERE action = 'auth.login' AND outcome = 'success'"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX {INDEX}")
