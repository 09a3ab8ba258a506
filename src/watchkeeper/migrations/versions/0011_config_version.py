"""Config version: a token that every write to paging's reference tables changes

Intake reads routing rules, silences, escalation policies, schedules, users' contact methods
and notification rules, and integration names for every alert group it opens. Triggers on
those tables set ``config_version.token`` to a new random value in the writing transaction,
so a process may keep what it read under a token for as long as the token stays the same
(see watchkeeper/reference_cache.py). Random, not a counter: a rolled-back write's token
never comes back. A later SQLite migration that rebuilds a watched table (batch mode) must
create its triggers again.

Revision ID: 0011_config_version
Revises: 0010_incidents
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_config_version"
down_revision: str | None = "0010_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table -> the columns whose update changes what is cached (None: any column). A silence's
# tally (silenced_count, applied_at) changes on every group it silences and is not cached.
WATCHED: dict[str, tuple[str, ...] | None] = {
    "alert_routing_rule": None,
    "silence": ("matchers", "starts_at", "ends_at", "kind"),
    "escalation_policy": None,
    "oncall_schedule": None,
    "app_user": None,
    "contact_method": None,
    "notification_rule": None,
    "integration": None,
    "alerting_secret": None,
}
_FUNCTION = "watchkeeper_config_changed"


def _sqlite_triggers() -> None:
    bump = "UPDATE config_version SET token = lower(hex(randomblob(16))) WHERE id = 1;"
    for table, columns in WATCHED.items():
        events = {"insert": "INSERT", "delete": "DELETE"}
        events["update"] = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        for name, when in events.items():
            op.execute(
                f"CREATE TRIGGER config_{table}_{name} AFTER {when} ON {table} BEGIN {bump} END"
            )


def _postgresql_triggers() -> None:
    op.execute(
        f"CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE config_version SET token = md5(random()::text || clock_timestamp()::text) "
        "WHERE id = 1; RETURN NULL; END $$"
    )
    for table, columns in WATCHED.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        op.execute(
            f"CREATE TRIGGER config_{table} AFTER INSERT OR {update} OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()"
        )


def upgrade() -> None:
    version = op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_config_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    op.bulk_insert(version, [{"id": 1, "token": "initial"}])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS config_{table} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
    else:
        for table in WATCHED:
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS config_{table}_{name}")
    op.drop_table("config_version")
