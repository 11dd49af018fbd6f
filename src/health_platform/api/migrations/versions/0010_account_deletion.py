"""Deleting an account on request: when its owner asked (the deletion is due a grace period
later, api/account_deletion.py), and when it was done. A deleted account's row stays, with
nothing personal left in it, because the audit records that name it are kept.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("deletion_due_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_users_deletion_due",
        "users",
        ["deletion_due_at"],
        postgresql_where=sa.text("deletion_due_at IS NOT NULL AND deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_users_deletion_due", table_name="users")
    op.drop_column("users", "deleted_at")
    op.drop_column("users", "deletion_due_at")
