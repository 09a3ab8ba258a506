"""Token lifecycle: expiry and the time of revocation

Revision ID: 0005_token_lifecycle
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from watchkeeper.db import UTCDateTime

revision: str = "0005_token_lifecycle"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", UTCDateTime(), nullable=True))
    # Tokens revoked before revocation times were kept: revoked as of their creation.
    op.execute("UPDATE api_token SET revoked_at = created_at WHERE revoked")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("revoked")


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revoked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE api_token SET revoked = true WHERE revoked_at IS NOT NULL")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
