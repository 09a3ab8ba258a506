"""Alert intake: integrations, alert groups with their alerts and log, silences and
maintenance windows, routing rules, change events, and generated secrets

Revision ID: 0009_alerting
Revises: 0008_notify_outbox
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from watchkeeper.db import UTCDateTime

revision: str = "0009_alerting"
down_revision: str | None = "0008_notify_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("integration", sa.String(length=200), nullable=True),
        sa.Column("escalation_policy", sa.String(length=200), nullable=True),
        sa.Column("urgency", sa.String(length=10), nullable=True),
        sa.Column("incident", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_routing_rule")),
        sa.UniqueConstraint("position", name=op.f("uq_alert_routing_rule_position")),
    )
    secret_table = op.create_table(
        "alerting_secret",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_alerting_secret")),
    )
    # The action-link signing key, made here once: made by the first page instead, two
    # concurrent first intakes would both insert it and one would fail.
    op.bulk_insert(
        secret_table,
        [
            {
                "name": "action_links",
                "value": secrets.token_urlsafe(48),
                "created_at": datetime.now(UTC),
            }
        ],
    )
    op.create_table(
        "integration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("escalation_policy", sa.String(length=200), nullable=True),
        sa.Column("default_urgency", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration")),
        sa.UniqueConstraint("key", name=op.f("uq_integration_key")),
        sa.UniqueConstraint("name", name=op.f("uq_integration_name")),
    )
    op.create_table(
        "silence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("silenced_count", sa.Integer(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    with op.batch_alter_table("silence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_silence_ends_at"), ["ends_at"], unique=False)

    op.create_table(
        "alert_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=400), nullable=False),
        sa.Column("open_key", sa.String(length=400), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("severity", sa.String(length=40), nullable=True),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("slo_key", sa.String(length=400), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_event_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_how", sa.String(length=10), nullable=True),
        sa.Column("silenced_until", UTCDateTime(), nullable=True),
        sa.Column("silence_id", sa.Integer(), nullable=True),
        sa.Column("truncated_alerts", sa.Integer(), nullable=False),
        sa.Column("last_event_digest", sa.String(length=64), nullable=True),
        sa.Column("escalation_policy", sa.String(length=200), nullable=True),
        sa.Column("escalation_snapshot", sa.JSON(), nullable=True),
        sa.Column("escalation_round", sa.Integer(), nullable=False),
        sa.Column("escalation_step", sa.Integer(), nullable=False),
        sa.Column("escalation_due_at", UTCDateTime(), nullable=True),
        sa.Column("incident_severity", sa.String(length=50), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_alert_group_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_group")),
        sa.UniqueConstraint(
            "integration_id", "open_key", name=op.f("uq_alert_group_integration_id_open_key")
        ),
    )
    with op.batch_alter_table("alert_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_group_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_group_escalation_due_at"), ["escalation_due_at"], unique=False
        )
        batch_op.create_index(
            "ix_alert_group_integration_id_dedup_key", ["integration_id", "dedup_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_group_service"), ["service"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_group_status"), ["status"], unique=False)

    op.create_table(
        "change_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=400), nullable=True),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("custom_details", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_change_event_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
        sa.UniqueConstraint("digest", name=op.f("uq_change_event_digest")),
    )
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index("ix_change_event_service_at", ["service", "at"], unique=False)

    op.create_table(
        "alert",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=True),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("generator_url", sa.Text(), nullable=True),
        sa.Column("last_changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alert_group.id"],
            name=op.f("fk_alert_group_id_alert_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("group_id", "fingerprint", name=op.f("uq_alert_group_id_fingerprint")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_group_id"), ["group_id"], unique=False)

    op.create_table(
        "alert_group_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alert_group.id"],
            name=op.f("fk_alert_group_log_group_id_alert_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_group_log")),
    )
    with op.batch_alter_table("alert_group_log", schema=None) as batch_op:
        batch_op.create_index("ix_alert_group_log_group_id_at", ["group_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_group_log", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_group_log_group_id_at")

    op.drop_table("alert_group_log")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_group_id"))

    op.drop_table("alert")
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index("ix_change_event_service_at")

    op.drop_table("change_event")
    with op.batch_alter_table("alert_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_group_status"))
        batch_op.drop_index(batch_op.f("ix_alert_group_service"))
        batch_op.drop_index("ix_alert_group_integration_id_dedup_key")
        batch_op.drop_index(batch_op.f("ix_alert_group_escalation_due_at"))
        batch_op.drop_index(batch_op.f("ix_alert_group_created_at"))

    op.drop_table("alert_group")
    with op.batch_alter_table("silence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_silence_ends_at"))

    op.drop_table("silence")
    op.drop_table("integration")
    op.drop_table("alerting_secret")
    op.drop_table("alert_routing_rule")
