"""SLI per burn-rate window in stored statuses and history

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("slo_status", "slo_history"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("window_slis", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("slo_status", "slo_history"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("window_slis")
