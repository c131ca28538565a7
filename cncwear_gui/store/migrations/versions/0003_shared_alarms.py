"""Alarms shared across PCs: each machine's alarm as its node publishes it, and the operators'
requests on it (acknowledge, false alarm, shelve, unshelve) that the owning node applies.

Frozen copies of the definitions in store/shared_alarms.py as they were when this revision was made.
"""

import sqlalchemy as sa

from cncwear_gui.store.migrations.steps import create_missing_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    create_missing_table(
        "shared_alarms",
        sa.Column("machine", sa.String(255), primary_key=True),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("needs_action", sa.Boolean, nullable=False),
        sa.Column("alarm_id", sa.String(255)),
        sa.Column("raised_at", stamp),
        sa.Column("peak_probability", sa.Float),
        sa.Column("acknowledged_by", sa.String(255)),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("false_alarm", sa.Boolean, nullable=False),
        sa.Column("shelved_until", stamp),
        sa.Column("changed_at", stamp, nullable=False),
        sa.Column("seen_at", stamp, nullable=False),
        sa.Column("stopped_at", stamp),
    )
    create_missing_table(
        "alarm_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("requested_at", stamp, nullable=False),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("alarm_id", sa.String(255)),
        sa.Column("minutes", sa.Float),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("handled_at", stamp),
        sa.Column("handled_by", sa.String(255)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("detail", sa.Text, nullable=False),
        indexes=(("ix_alarm_requests_open", ["handled_at", "machine"]),),
    )


def downgrade() -> None:
    raise NotImplementedError("cncwear stores are not downgraded: restore the copy made before the upgrade")
