"""Lead acceptance and rejection on leads; the exclusions (disputes) table.

Existing rows are kept; the new lead columns start empty.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))
    op.create_table(
        "exclusions",
        sa.Column("exclusion_id", sa.String(), nullable=False),
        sa.Column("lead_id", sa.String(), nullable=False),
        sa.Column("commitment", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("exclusion_id"),
    )
    op.create_index("ix_exclusions_lead_id", "exclusions", ["lead_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_exclusions_lead_id", table_name="exclusions")
    op.drop_table("exclusions")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("rejection_reason")
        batch.drop_column("rejected_at")
        batch.drop_column("accepted_at")
