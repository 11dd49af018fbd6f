"""Recovery codes of an account with TOTP: the SHA-256 digests of its unused one-time codes
(api/recovery_codes.py).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("recovery_codes", postgresql.ARRAY(sa.String(64)), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("users", "recovery_codes")
