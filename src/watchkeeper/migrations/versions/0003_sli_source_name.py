"""SLI records keyed by store key; rows name their source_name

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sli", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_name", sa.String(length=200), nullable=True))
        batch_op.alter_column(
            "name", existing_type=sa.String(length=200), type_=sa.String(length=300)
        )
    # Records made before 0003 counted the rows that carried their own name.
    op.execute("UPDATE sli SET source_name = name")
    with op.batch_alter_table("sli", schema=None) as batch_op:
        batch_op.alter_column("source_name", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index(batch_op.f("ix_sli_source_name"), ["source_name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sli", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sli_source_name"))
        batch_op.alter_column(
            "name", existing_type=sa.String(length=300), type_=sa.String(length=200)
        )
        batch_op.drop_column("source_name")
