"""Administrators' invitations: an account made with no password, and the SHA-256 digest of
the one-time token with which its holder chooses one (see api/invitations.py).

The runtime role reads an invitation and marks it used; only the owner (the one-off task
`python -m health_platform.api.create_admin`) creates one. 0003's default privileges would
also give the runtime role INSERT and DELETE; they are taken back here, so a compromised
API cannot mint an invitation.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from health_platform.contract import RUNTIME_ROLE

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GRANTS = f"""
REVOKE ALL ON admin_invitations FROM {RUNTIME_ROLE};
GRANT SELECT, UPDATE ON admin_invitations TO {RUNTIME_ROLE};
"""


def upgrade() -> None:
    op.alter_column("users", "password_hash", existing_type=sa.String(255), nullable=True)
    op.create_table(
        "admin_invitations",
        sa.Column(
            "user_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("token_sha256", sa.CHAR(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "token_sha256 ~ '^[0-9a-f]{64}$'", name="ck_admin_invitations_token_sha256"
        ),
    )
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_table("admin_invitations")
    # Fails, saying so, while an invited administrator has not chosen a password yet.
    op.alter_column("users", "password_hash", existing_type=sa.String(255), nullable=False)
