"""SLO history hourly rollup: per SLO and UTC hour, row count, last figures and peak burns

Long-range charts read one row per hour instead of one per evaluation. The worker adds each
history row to its hour; existing history is rolled up here, SLO by SLO, with the same
rebuild the backfill uses (windows from each SLO's stored spec; an SLO whose spec no longer
parses gets its counts and last figures, without peaks).

Revision ID: 0014_slo_history_hourly
Revises: 0013_audit_and_teams
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from watchkeeper.db import UTCDateTime

revision: str = "0014_slo_history_hourly"
down_revision: str | None = "0013_audit_and_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slo_history_hourly",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("hour", UTCDateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("last_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("budget_remaining", sa.Float(), nullable=True),
        sa.Column("sli", sa.Float(), nullable=True),
        sa.Column("peak_burn_rates", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slo_id"],
            ["slo.id"],
            name=op.f("fk_slo_history_hourly_slo_id_slo"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slo_id", "hour", name=op.f("pk_slo_history_hourly")),
    )
    _roll_up_existing_history()


def _roll_up_existing_history() -> None:
    # Imported here: only this data step needs the application's code.
    from watchkeeper.slo import rollup_repository
    from watchkeeper.slo.rollup import window_labels
    from watchkeeper.specs.native import slo_from_dict

    bind = op.get_bind()
    slo = sa.table("slo", sa.column("id", sa.Integer()), sa.column("spec", sa.JSON()))
    history = sa.table(
        "slo_history", sa.column("slo_id", sa.Integer()), sa.column("at", UTCDateTime())
    )
    spans = bind.execute(
        sa.select(history.c.slo_id, sa.func.min(history.c.at), sa.func.max(history.c.at))
        .group_by(history.c.slo_id)
        .order_by(history.c.slo_id)
    ).all()
    specs = {row.id: row.spec for row in bind.execute(sa.select(slo.c.id, slo.c.spec))}
    session = Session(bind=bind)
    for slo_id, first, last in spans:
        try:
            parsed = slo_from_dict(specs[slo_id])
            windows, objective = window_labels(parsed, last), parsed.objective
        except Exception:  # a stored spec that no longer parses: no windows to peak
            windows, objective = [], 0.0
        rollup_repository.rebuild(
            session,
            slo_id,
            start=first,
            end=last + timedelta(seconds=1),
            windows=windows,
            objective=objective,
        )
    session.flush()


def downgrade() -> None:
    op.drop_table("slo_history_hourly")
