"""What came after 0.9.0: floor-labelled runs, prediction roll-ups, taught references and
limits, tool changes, and the run of each logged prediction.

Frozen copies of the definitions in store/feature_store.py, store/prediction_tables.py,
store/taught_references.py and store/tool_changes.py as they were when this revision was made.
"""

import sqlalchemy as sa

from cncwear_gui.store.migrations.steps import add_missing_column, create_missing_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _rollup_columns() -> list:
    return [
        sa.Column("samples", sa.BigInteger, nullable=False),
        sa.Column("ok", sa.BigInteger, nullable=False),
        sa.Column("worn", sa.BigInteger, nullable=False),
        sa.Column("unknown", sa.BigInteger, nullable=False),
        sa.Column("flagged", sa.BigInteger, nullable=False),
        sa.Column("scored", sa.BigInteger, nullable=False),
        sa.Column("p_sum", sa.Float, nullable=False),
        sa.Column("p_max", sa.Float),
        sa.Column("first_logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_logged_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    create_missing_table(
        "floor_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("setup", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(64)),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("recorded_at", stamp, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("machine", "sha256", name="uq_floor_runs_machine_sha256"),
        indexes=(("ix_floor_runs_machine", ["machine"]),),
        sqlite_autoincrement=True,
    )
    add_missing_column("prediction_log", sa.Column("run_id", sa.BigInteger))
    create_missing_table(
        "prediction_minutes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("minute", stamp, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        *_rollup_columns(),
        sa.UniqueConstraint("machine", "minute", "model_version", name="uq_prediction_minutes_key"),
    )
    create_missing_table(
        "prediction_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        *_rollup_columns(),
        sa.UniqueConstraint("machine", "run_id", "model_version", name="uq_prediction_runs_key"),
    )
    create_missing_table(
        "taught_references",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("setup", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("runs", sa.JSON, nullable=False),
        sa.Column("taught_at", stamp, nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("forgotten_at", stamp),
        sa.UniqueConstraint("machine", "setup", "version", name="uq_taught_references_version"),
    )
    create_missing_table(
        "taught_limits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("setup", sa.String(255), nullable=False),
        sa.Column("limits", sa.Text, nullable=False),
        sa.Column("set_at", stamp, nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        indexes=(("ix_taught_limits_machine_setup", ["machine", "setup"]),),
    )
    create_missing_table(
        "tool_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", stamp, nullable=False),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("label", sa.String(16)),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("setup", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("run_label", sa.String(255)),
        sa.Column("cutting_s", sa.Float, nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
        indexes=(("ix_tool_changes_machine_id", ["machine", "id"]),),
    )


def downgrade() -> None:
    raise NotImplementedError("cncwear stores are not downgraded: restore the copy made before the upgrade")
