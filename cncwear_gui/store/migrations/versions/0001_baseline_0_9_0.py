"""The baseline: cncwear 0.9.0's schema exactly (its feature store, live log and pipeline history).

A store with no version table is brought here first: a new database gets every table, a 0.9.0
store (which has them) gets only what it lacks, e.g. the feature-store tables when only
``cncwear serve`` ever wrote to it. Frozen: the definitions are copied from 0.9.0 (commit
4122148), never imported from today's store modules. The audit trail is guarded append-only as
``store/audit_trail.py`` does it.
"""

import sqlalchemy as sa
from alembic import op

from cncwear_gui.store.migrations.steps import create_missing_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SIGNAL_COLUMNS = (
    "X1_ActualPosition", "X1_ActualVelocity", "X1_ActualAcceleration", "X1_CommandPosition", "X1_CommandVelocity",
    "X1_CommandAcceleration", "X1_CurrentFeedback", "X1_DCBusVoltage", "X1_OutputCurrent", "X1_OutputVoltage",
    "X1_OutputPower", "Y1_ActualPosition", "Y1_ActualVelocity", "Y1_ActualAcceleration", "Y1_CommandPosition",
    "Y1_CommandVelocity", "Y1_CommandAcceleration", "Y1_CurrentFeedback", "Y1_DCBusVoltage", "Y1_OutputCurrent",
    "Y1_OutputVoltage", "Y1_OutputPower", "Z1_ActualPosition", "Z1_ActualVelocity", "Z1_ActualAcceleration",
    "Z1_CommandPosition", "Z1_CommandVelocity", "Z1_CommandAcceleration", "Z1_CurrentFeedback", "Z1_DCBusVoltage",
    "Z1_OutputCurrent", "Z1_OutputVoltage", "S1_ActualPosition", "S1_ActualVelocity", "S1_ActualAcceleration",
    "S1_CommandPosition", "S1_CommandVelocity", "S1_CommandAcceleration", "S1_CurrentFeedback", "S1_DCBusVoltage",
    "S1_OutputCurrent", "S1_OutputVoltage", "S1_OutputPower", "S1_SystemInertia", "M1_CURRENT_PROGRAM_NUMBER",
    "M1_sequence_number", "M1_CURRENT_FEEDRATE",
)
APPEND_ONLY = "audit_trail is append-only"


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    # -- the feature store
    create_missing_table("store_info", sa.Column("key", sa.String(64), primary_key=True),
                         sa.Column("value", sa.String(256)))
    create_missing_table(
        "experiments",
        sa.Column("experiment", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("material", sa.String(64)),
        sa.Column("feedrate", sa.Float),
        sa.Column("clamp_pressure", sa.Float),
        sa.Column("tool_condition", sa.String(16)),
        sa.Column("machining_finalized", sa.String(8)),
        sa.Column("passed_visual_inspection", sa.String(8)),
        sa.Column("metadata_source", sa.String(1024)),
    )
    create_missing_table(
        "source_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("experiment", sa.Integer, nullable=False),
        sa.Column("file_name", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("imported_at", stamp, nullable=False),
        sa.Column("flags", sa.JSON, nullable=False),
        sa.UniqueConstraint("experiment", "sha256"),
        sa.UniqueConstraint("experiment", "version"),
        indexes=(("ix_source_files_experiment", ["experiment"]),),
    )
    create_missing_table(
        "samples",
        sa.Column("file_id", sa.Integer, sa.ForeignKey("source_files.id"), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        *(sa.Column(name, sa.Float) for name in SIGNAL_COLUMNS),
        sa.Column("Machining_Process", sa.String(64)),
        sa.Column("phase", sa.Integer, nullable=False),
        sa.Column("quality_flags", sa.Integer, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("file_id", "row"),
    )
    create_missing_table(
        "feature_sets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.UniqueConstraint("name", "version"),
    )
    create_missing_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", stamp, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    # -- the live log: audit trail and prediction log
    create_missing_table(
        "audit_trail",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", stamp, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("os_user", sa.String(255), nullable=False),
        sa.Column("machine", sa.String(255)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("comment", sa.Text, nullable=False),
        indexes=(("ix_audit_trail_machine_at", ["machine", "at"]),),
    )
    _append_only()
    create_missing_table(
        "prediction_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("logged_at", stamp, nullable=False),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("sample_time", stamp),
        sa.Column("model_version", sa.String(64)),
        sa.Column("probability", sa.Float),
        sa.Column("wear_state", sa.String(16), nullable=False),
        sa.Column("quality_flags", sa.Integer, nullable=False),
        indexes=(("ix_prediction_log_machine_logged_at", ["machine", "logged_at"]),),
    )
    # -- the pipeline history
    create_missing_table(
        "pipeline_firings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fired_at", stamp, nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("finished_at", stamp),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        indexes=(("ix_pipeline_firings_fired_at", ["fired_at"]), ("ix_pipeline_firings_trigger", ["trigger"])),
    )
    create_missing_table(
        "pipeline_seen_files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("seen_at", stamp, nullable=False),
    )
    create_missing_table(
        "prediction_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("recorded_at", stamp, nullable=False),
        sa.Column("machine", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("predicted_worn", sa.Integer, nullable=False),
        sa.Column("actual_worn", sa.Integer, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        indexes=(("ix_prediction_feedback_recorded_at", ["recorded_at"]),
                 ("ix_prediction_feedback_model_version", ["model_version"])),
    )


def _append_only() -> None:
    """The database refuses UPDATE and DELETE on the audit trail (and TRUNCATE on PostgreSQL)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER IF NOT EXISTS audit_trail_no_{verb.lower()} BEFORE {verb} ON audit_trail "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
    elif dialect == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION audit_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
        op.execute("DROP TRIGGER IF EXISTS audit_trail_no_change ON audit_trail")
        op.execute("DROP TRIGGER IF EXISTS audit_trail_no_truncate ON audit_trail")
        op.execute("CREATE TRIGGER audit_trail_no_change BEFORE UPDATE OR DELETE ON audit_trail "
                   "FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only()")
        op.execute("CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_append_only()")


def downgrade() -> None:
    raise NotImplementedError("cncwear stores are not downgraded: restore the copy made before the upgrade")
