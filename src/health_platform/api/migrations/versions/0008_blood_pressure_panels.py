"""Blood pressure as one reading: a measurement may hold several values (its components,
FHIR's Observation.component), and the systolic and diastolic readings earlier versions
stored apart are paired into one blood pressure panel (LOINC 85354-9) wherever a patient
recorded both at the same time. A reading without its other half stays as it was.

The pairing moves no health data out of the table and changes no value: each pair becomes
one row (the systolic's id, value and note, the diastolic's note appended), and the
diastolic row goes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PAIR = """
WITH pairs AS (
    SELECT s.id AS systolic_id, d.id AS diastolic_id, s.value AS systolic,
           d.value AS diastolic,
           NULLIF(CONCAT_WS(' / ', s.note, d.note), '') AS note
    FROM observations s
    JOIN observations d
      ON d.user_id = s.user_id AND d.effective_at = s.effective_at
     AND d.type = 'blood_pressure_diastolic'
    WHERE s.type = 'blood_pressure_systolic'
      -- one pair per reading when a time holds several of either half
      AND s.id = (SELECT id FROM observations
                  WHERE user_id = s.user_id AND effective_at = s.effective_at
                    AND type = 'blood_pressure_systolic' ORDER BY id LIMIT 1)
      AND d.id = (SELECT id FROM observations
                  WHERE user_id = s.user_id AND effective_at = s.effective_at
                    AND type = 'blood_pressure_diastolic' ORDER BY id LIMIT 1)
), panels AS (
    UPDATE observations o
    SET type = 'blood_pressure',
        components = jsonb_build_object('systolic', p.systolic, 'diastolic', p.diastolic),
        note = LEFT(p.note, 500)
    FROM pairs p
    WHERE o.id = p.systolic_id
    RETURNING p.diastolic_id
)
DELETE FROM observations WHERE id IN (SELECT diastolic_id FROM panels)
"""

SPLIT = """
WITH panels AS (
    SELECT id, user_id, components, unit, effective_at FROM observations
    WHERE type = 'blood_pressure'
), halves AS (
    INSERT INTO observations (id, user_id, type, value, unit, effective_at, note)
    SELECT gen_random_uuid(), user_id, 'blood_pressure_diastolic',
           (components ->> 'diastolic')::numeric, unit, effective_at, NULL
    FROM panels
)
UPDATE observations SET type = 'blood_pressure_systolic', components = NULL
WHERE type = 'blood_pressure'
"""


def upgrade() -> None:
    op.add_column("observations", sa.Column("components", JSONB(), nullable=True))
    op.execute(PAIR)


def downgrade() -> None:
    op.execute(SPLIT)
    op.drop_column("observations", "components")
