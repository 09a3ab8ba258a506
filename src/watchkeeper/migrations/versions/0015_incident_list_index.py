"""Incident list index: incidents by (declared_at, id), the list's newest-first order

A page of the incident list (``ORDER BY declared_at DESC, id DESC`` with an offset) walks
this index instead of sorting every incident.

Revision ID: 0015_incident_list_index
Revises: 0014_slo_history_hourly
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_incident_list_index"
down_revision: str | None = "0014_slo_history_hourly"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_incident_declared_at_id", "incident", ["declared_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_incident_declared_at_id", table_name="incident")
