"""Incidents: severities (seeded SEV1..SEV4), incidents, roles, timeline, links

Alert groups are linked with a foreign key to ``alert_group`` (0009 comes first).

Revision ID: 0010_incidents
Revises: 0009_alerting
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchkeeper.db

revision: str = "0010_incidents"
down_revision: str | None = "0009_alerting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name, rank, description, response target (s), resolution target (s): see docs/incidents.md.
SEVERITIES = [
    ("SEV1", 1, "Critical: a core service is down or losing data for many users.", 300, 14_400),
    ("SEV2", 2, "Major: a core function is degraded or down for some users.", 900, 28_800),
    ("SEV3", 3, "Minor: limited impact, a workaround exists.", 3_600, 259_200),
    ("SEV4", 4, "Low: cosmetic or internal; no user impact yet.", 86_400, 1_209_600),
]


def upgrade() -> None:
    severity = op.create_table(
        "incident_severity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("response_target_seconds", sa.Integer(), nullable=True),
        sa.Column("resolution_target_seconds", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_severity")),
        sa.UniqueConstraint("name", name=op.f("uq_incident_severity_name")),
    )
    op.bulk_insert(
        severity,
        [
            {
                "name": name,
                "rank": rank,
                "description": description,
                "response_target_seconds": response,
                "resolution_target_seconds": resolution,
            }
            for name, rank, description, response, resolution in SEVERITIES
        ],
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("severity", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("declared_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.String(length=200), nullable=False),
        sa.Column("acknowledged_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("identified_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("monitoring_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("started_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_service"), ["service"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_started_at"), ["started_at"], unique=False)
    op.create_table(
        "incident_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_role_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_role")),
        sa.UniqueConstraint(
            "incident_id",
            "role",
            "user_name",
            name=op.f("uq_incident_role_incident_id_role_user_name"),
        ),
    )
    with op.batch_alter_table("incident_role", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_role_incident_id"), ["incident_id"], unique=False
        )
    op.create_table(
        "incident_timeline",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_timeline_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_timeline")),
    )
    with op.batch_alter_table("incident_timeline", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_timeline_incident_id"), ["incident_id"], unique=False
        )
    op.create_table(
        "incident_alert_group",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("alert_group_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_noted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_group_id"],
            ["alert_group.id"],
            name=op.f("fk_incident_alert_group_alert_group_id_alert_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_alert_group_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "incident_id", "alert_group_id", name=op.f("pk_incident_alert_group")
        ),
    )
    with op.batch_alter_table("incident_alert_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_alert_group_alert_group_id"), ["alert_group_id"], unique=False
        )
    op.create_table(
        "incident_slo",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("slo_key", sa.String(length=400), nullable=False),
        sa.Column("linked_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_slo_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "slo_key", name=op.f("pk_incident_slo")),
    )


def downgrade() -> None:
    op.drop_table("incident_slo")
    with op.batch_alter_table("incident_alert_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_alert_group_alert_group_id"))
    op.drop_table("incident_alert_group")
    with op.batch_alter_table("incident_timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_timeline_incident_id"))
    op.drop_table("incident_timeline")
    with op.batch_alter_table("incident_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_role_incident_id"))
    op.drop_table("incident_role")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_started_at"))
        batch_op.drop_index(batch_op.f("ix_incident_status"))
        batch_op.drop_index(batch_op.f("ix_incident_service"))
    op.drop_table("incident")
    op.drop_table("incident_severity")
