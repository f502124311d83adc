"""Touches: one index of each lead's touches in time order that also holds what a follow-up read
filters and keeps (kind, automated, direction), in place of the index on lead_id alone (issue 17).

No row changes; building the index reads the table once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["lead_id", "occurred_at", "kind", "automated", "direction"]


def upgrade() -> None:
    op.create_index("ix_touches_lead_follow_ups", "touches", COLUMNS, unique=False)
    op.drop_index("ix_touches_lead_id", table_name="touches")


def downgrade() -> None:
    op.create_index("ix_touches_lead_id", "touches", ["lead_id"], unique=False)
    op.drop_index("ix_touches_lead_follow_ups", table_name="touches")
