"""The prediction log's tables: the raw per-sample rows, and the roll-ups kept for good.

Raw rows (``prediction_log``) are kept for the retention period (``store/retention.py``); before
a raw row is deleted it is added to two roll-ups per machine and model version, which are never
pruned: one row per minute of ``logged_at`` (``prediction_minutes``) and one per run of the
machine's verdict tracker (``prediction_runs``, for rows that carry a ``run_id``). A roll-up keeps
sums, not means, so merging the part of a run pruned today with the part pruned tomorrow stays
exact. ``model_version`` is ``""`` in a roll-up where the raw row had none (a key column cannot
be NULL and still match).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()
prediction_log = Table(
    "prediction_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("machine", String(255), nullable=False),
    Column("sample_time", DateTime(timezone=True)),  # the source's timestamp, when it has one
    Column("model_version", String(64)),
    Column("probability", Float),  # P(worn); NULL when no prediction could be made
    Column("wear_state", String(16), nullable=False),  # ok, worn, unknown
    Column("quality_flags", Integer, nullable=False),
    Column("run_id", BigInteger),  # the machine's run (live: microseconds since the epoch at its start)
    Index("ix_prediction_log_machine_logged_at", "machine", "logged_at"),
)


def _rollup_columns() -> list[Column]:
    """What both roll-ups count: samples, verdicts (the wear state logged with each sample),
    samples with a data-quality flag, and P(worn) as count, sum and maximum."""
    return [
        Column("samples", BigInteger, nullable=False),
        Column("ok", BigInteger, nullable=False),
        Column("worn", BigInteger, nullable=False),
        Column("unknown", BigInteger, nullable=False),
        Column("flagged", BigInteger, nullable=False),  # quality_flags != 0
        Column("scored", BigInteger, nullable=False),  # samples with a P(worn)
        Column("p_sum", Float, nullable=False),
        Column("p_max", Float),  # NULL when no sample had a P(worn)
        Column("first_logged_at", DateTime(timezone=True), nullable=False),
        Column("last_logged_at", DateTime(timezone=True), nullable=False),
    ]


prediction_minutes = Table(
    "prediction_minutes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("machine", String(255), nullable=False),
    Column("minute", DateTime(timezone=True), nullable=False),  # logged_at floored to the minute (UTC)
    Column("model_version", String(64), nullable=False),
    *_rollup_columns(),
    UniqueConstraint("machine", "minute", "model_version", name="uq_prediction_minutes_key"),
)

prediction_runs = Table(
    "prediction_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("machine", String(255), nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("model_version", String(64), nullable=False),
    *_rollup_columns(),
    UniqueConstraint("machine", "run_id", "model_version", name="uq_prediction_runs_key"),
)

ROLLUP_COUNTS = ("samples", "ok", "worn", "unknown", "flagged", "scored")

