"""Failing SLOs (an error in the stored status), window counts instead of ratios

A failing SLO's status has ``error`` set and no figures, so good, total and burn rates
become nullable. Statuses and history store each burn-rate window's good and total counts
with the objective (burn rates and SLIs are computed from them when read, and writing
integers costs a fraction of writing floats); rows written before keep their ratios.

Revision ID: 0006_status_error
Revises: 0005_token_lifecycle
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_status_error"
down_revision: str | None = "0005_token_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slo_status", schema=None) as batch_op:
        batch_op.add_column(sa.Column("objective", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("window_counts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.alter_column("good", existing_type=sa.Float(), nullable=True)
        batch_op.alter_column("total", existing_type=sa.Float(), nullable=True)
        batch_op.alter_column("burn_rates", existing_type=sa.JSON(), nullable=True)
    with op.batch_alter_table("slo_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("objective", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("window_counts", sa.JSON(), nullable=True))
        batch_op.alter_column("burn_rates", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    # Rows in the new form have no ratios to keep: statuses are rewritten by the next tick;
    # history points recorded since the upgrade are dropped.
    op.execute("DELETE FROM slo_status WHERE error IS NOT NULL OR burn_rates IS NULL")
    op.execute("DELETE FROM slo_history WHERE burn_rates IS NULL")
    with op.batch_alter_table("slo_history", schema=None) as batch_op:
        batch_op.alter_column("burn_rates", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("window_counts")
        batch_op.drop_column("objective")
    with op.batch_alter_table("slo_status", schema=None) as batch_op:
        batch_op.alter_column("burn_rates", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("total", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column("good", existing_type=sa.Float(), nullable=False)
        batch_op.drop_column("error")
        batch_op.drop_column("window_counts")
        batch_op.drop_column("objective")
