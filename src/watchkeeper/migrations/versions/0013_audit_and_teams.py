"""Audit log and teams: audit events, teams, members, owned services, owners of on-call config

``audit_event`` holds one row per recorded change (see watchkeeper/auth/audit.py). Teams own
services (``team_service``), and schedules and escalation policies through a nullable
``owner_team_id``. That column is added in place, not by a SQLite batch rebuild: a rebuild
would drop the config-version triggers 0011 put on both tables. It has no ON DELETE action
(SQLAlchemy does not read one back from SQLite's inline REFERENCES clause, so the schema
check could not see it): deleting a team first gives up what it owns, which the audit log
then records.

Revision ID: 0013_audit_and_teams
Revises: 0012_dashboard_sign_in
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import watchkeeper.db

revision: str = "0013_audit_and_teams"
down_revision: str | None = "0012_dashboard_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNED = ("oncall_schedule", "escalation_policy")


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=10), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=400), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"])
    op.create_index(op.f("ix_audit_event_actor_name"), "audit_event", ["actor_name"])
    op.create_index(op.f("ix_audit_event_object_type"), "audit_event", ["object_type"])

    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("name", name=op.f("uq_team_name")),
    )
    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_member_team_id_team"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_team_member_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_member")),
    )
    op.create_index(op.f("ix_team_member_user_id"), "team_member", ["user_id"])
    op.create_table(
        "team_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("created_at", watchkeeper.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_service_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_service")),
        sa.UniqueConstraint("service", name=op.f("uq_team_service_service")),
    )
    op.create_index(op.f("ix_team_service_team_id"), "team_service", ["team_id"])

    for table in OWNED:
        name = op.f(f"fk_{table}_owner_team_id_team")
        if op.get_bind().dialect.name == "postgresql":
            op.add_column(table, sa.Column("owner_team_id", sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, "team", ["owner_team_id"], ["id"])
        else:
            # Alembic refuses a constraint outside batch mode on SQLite, but SQLite's own
            # ADD COLUMN takes an inline REFERENCES clause for a nullable column.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN owner_team_id INTEGER "
                f"CONSTRAINT {name} REFERENCES team (id)"
            )


def _sqlite_config_triggers(table: str) -> None:
    """0011's triggers on ``table`` again, after a batch rebuild dropped them."""
    bump = "UPDATE config_version SET token = lower(hex(randomblob(16))) WHERE id = 1;"
    for name, when in (("insert", "INSERT"), ("update", "UPDATE"), ("delete", "DELETE")):
        op.execute(f"CREATE TRIGGER config_{table}_{name} AFTER {when} ON {table} BEGIN {bump} END")


def downgrade() -> None:
    for table in OWNED:
        if op.get_bind().dialect.name == "postgresql":
            op.drop_constraint(f"fk_{table}_owner_team_id_team", table, type_="foreignkey")
            op.drop_column(table, "owner_team_id")
        else:
            # SQLite cannot drop a column that references another table in place.
            with op.batch_alter_table(table) as batch_op:
                batch_op.drop_column("owner_team_id")
            _sqlite_config_triggers(table)
    op.drop_index(op.f("ix_team_service_team_id"), table_name="team_service")
    op.drop_table("team_service")
    op.drop_index(op.f("ix_team_member_user_id"), table_name="team_member")
    op.drop_table("team_member")
    op.drop_table("team")
    op.drop_index(op.f("ix_audit_event_object_type"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_actor_name"), table_name="audit_event")
    op.drop_index(op.f("ix_audit_event_at"), table_name="audit_event")
    op.drop_table("audit_event")
