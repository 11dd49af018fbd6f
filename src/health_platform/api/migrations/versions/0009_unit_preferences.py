"""The units a patient sees and enters measurements in (kg or lb, °C or °F, mg/dL or
mmol/L): a choice per kind (api/vocabulary.py PREFERENCES). Values stay stored in the
types' own units; None keeps the defaults.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("unit_preferences", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "unit_preferences")
