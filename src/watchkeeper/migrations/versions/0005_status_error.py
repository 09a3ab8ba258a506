"""Failing SLOs: an error in the stored status, whose figures are then null

Revision ID: 0005_status_error
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_status_error"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slo_status", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.alter_column("good", existing_type=sa.Float(), nullable=True)
        batch_op.alter_column("total", existing_type=sa.Float(), nullable=True)
        batch_op.alter_column("burn_rates", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    # Failing SLOs have no figures to keep: their rows go, the worker rewrites them.
    op.execute("DELETE FROM slo_status WHERE error IS NOT NULL")
    with op.batch_alter_table("slo_status", schema=None) as batch_op:
        batch_op.alter_column("burn_rates", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("total", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column("good", existing_type=sa.Float(), nullable=False)
        batch_op.drop_column("error")
