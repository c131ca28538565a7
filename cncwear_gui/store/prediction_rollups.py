"""Roll-ups of the prediction log: adding raw rows to them, and reading across the retention boundary.

``rollup`` folds raw rows into per-minute and per-run sums (``prediction_tables``); ``merge``
adds them to the stored roll-ups in the caller's transaction. The prune job does both for the
rows it deletes, and the prediction log does it instead of inserting raw rows while the disk is
below its floor, so a roll-up always counts every row that was logged and is gone. ``minutes``
reads per-minute figures across the boundary: the roll-ups where raw rows are gone, the raw rows
where they are still kept, added together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import case, func, literal_column, select
from sqlalchemy.engine import Connection, Engine

from .database import aware_utc, to_utc
from .prediction_tables import ROLLUP_COUNTS, prediction_log, prediction_minutes, prediction_runs

_FIELDS = (*ROLLUP_COUNTS, "p_sum", "p_max", "first_logged_at", "last_logged_at")


def minute_of(stamp: datetime) -> datetime:
    return aware_utc(stamp).replace(second=0, microsecond=0)


def _new() -> dict:
    return {"samples": 0, "ok": 0, "worn": 0, "unknown": 0, "flagged": 0, "scored": 0, "p_sum": 0.0,
            "p_max": None, "first_logged_at": None, "last_logged_at": None}


def _add(total: dict, row: Mapping[str, Any], at: datetime) -> None:
    total["samples"] += 1
    state = row["wear_state"]
    total[state if state in ("ok", "worn") else "unknown"] += 1
    total["flagged"] += 1 if row["quality_flags"] else 0
    p = row["probability"]
    if p is not None:
        total["scored"] += 1
        total["p_sum"] += float(p)
        total["p_max"] = p if total["p_max"] is None else max(total["p_max"], p)
    if total["first_logged_at"] is None or at < total["first_logged_at"]:
        total["first_logged_at"] = at
    if total["last_logged_at"] is None or at > total["last_logged_at"]:
        total["last_logged_at"] = at


def rollup(rows: Iterable[Mapping[str, Any]]) -> tuple[dict, dict]:
    """Per-minute sums keyed (machine, minute, model_version) and per-run sums keyed
    (machine, run_id, model_version) of raw rows (dicts with prediction_log's columns)."""
    minutes: dict[tuple, dict] = {}
    runs: dict[tuple, dict] = {}
    for row in rows:
        at = aware_utc(to_utc(row["logged_at"]))
        version = row["model_version"] or ""
        key = (row["machine"], minute_of(at), version)
        _add(minutes.setdefault(key, _new()), row, at)
        if row.get("run_id") is not None:
            _add(runs.setdefault((row["machine"], int(row["run_id"]), version), _new()), row, at)
    return minutes, runs


def _combined(old: Mapping[str, Any], new: dict) -> dict:
    out = {name: int(old[name]) + new[name] for name in ROLLUP_COUNTS}
    out["p_sum"] = float(old["p_sum"]) + new["p_sum"]
    maxima = [m for m in (old["p_max"], new["p_max"]) if m is not None]
    out["p_max"] = max(maxima) if maxima else None
    out["first_logged_at"] = min(aware_utc(old["first_logged_at"]), new["first_logged_at"])
    out["last_logged_at"] = max(aware_utc(old["last_logged_at"]), new["last_logged_at"])
    return out


def _merge_into(conn: Connection, table, key_names: tuple[str, str, str], totals: dict) -> None:
    if not totals:
        return
    first, second = table.c[key_names[0]], table.c[key_names[1]]
    seconds = [key[1] for key in totals]
    # one range over the batch's minutes (or its run ids) per machine set: an index range, then the exact keys here
    wanted = select(table).where(first.in_(sorted({key[0] for key in totals})), second.between(min(seconds), max(seconds)))
    existing = {}
    for row in conn.execute(wanted).mappings():
        key = (row[key_names[0]], row[key_names[1]], row[key_names[2]])
        if key_names[1] == "minute":
            key = (key[0], aware_utc(key[1]), key[2])
        if key in totals:
            existing[key] = row
    inserts = []
    for key, total in totals.items():
        old = existing.get(key)
        if old is None:
            inserts.append({**dict(zip(key_names, key)), **total})
        else:
            conn.execute(table.update().where(table.c.id == old["id"]).values(**_combined(old, total)))
    if inserts:
        conn.execute(table.insert(), inserts)


def merge(conn: Connection, minutes: dict, runs: dict, keys_per_statement: int = 200) -> None:
    """Add ``rollup``'s sums to the stored roll-ups (in the caller's transaction)."""
    for table, names, totals in ((prediction_minutes, ("machine", "minute", "model_version"), minutes),
                                 (prediction_runs, ("machine", "run_id", "model_version"), runs)):
        items = list(totals.items())
        for start in range(0, len(items), keys_per_statement):
            _merge_into(conn, table, names, dict(items[start:start + keys_per_statement]))


def _minute_expression(dialect: str):
    """logged_at floored to the minute, in SQL (the raw side of ``minutes``)."""
    column = prediction_log.c.logged_at
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:00", column)
    return func.date_trunc(literal_column("'minute'"), column)  # a literal: PostgreSQL must see GROUP BY = SELECT


MINUTE_COLUMNS = ("machine", "minute", "model_version", *_FIELDS)


def minutes(engine: Engine, machine: str | None = None, since: datetime | None = None,
            until: datetime | None = None) -> pd.DataFrame:
    """Per-minute figures per machine and model version over [since, until) (minutes, UTC), from
    the roll-ups where the raw rows are gone and from the raw rows where they are kept; one row
    per (machine, minute, model_version) with ``mean_p`` and ``worn_share`` added."""
    since, until = to_utc(since), to_utc(until)
    minute = _minute_expression(engine.dialect.name).label("minute")
    raw = prediction_log.c
    version = func.coalesce(raw.model_version, literal_column("''"))  # no bound parameter (see above)
    raw_query = select(
        raw.machine, minute, version.label("model_version"),
        func.count().label("samples"),
        func.sum(case((raw.wear_state == "ok", 1), else_=0)).label("ok"),
        func.sum(case((raw.wear_state == "worn", 1), else_=0)).label("worn"),
        func.sum(case((raw.wear_state.not_in(("ok", "worn")), 1), else_=0)).label("unknown"),
        func.sum(case((raw.quality_flags != 0, 1), else_=0)).label("flagged"),
        func.count(raw.probability).label("scored"),
        func.coalesce(func.sum(raw.probability), 0.0).label("p_sum"),
        func.max(raw.probability).label("p_max"),
        func.min(raw.logged_at).label("first_logged_at"), func.max(raw.logged_at).label("last_logged_at"),
    ).group_by(raw.machine, minute, version)
    kept = prediction_minutes.c
    rollup_query = select(*(kept[name] for name in MINUTE_COLUMNS))
    if machine is not None:
        raw_query = raw_query.where(raw.machine == str(machine))
        rollup_query = rollup_query.where(kept.machine == str(machine))
    if since is not None:
        raw_query = raw_query.where(raw.logged_at >= minute_of(since))
        rollup_query = rollup_query.where(kept.minute >= minute_of(since))
    if until is not None:
        raw_query = raw_query.where(raw.logged_at < minute_of(until))
        rollup_query = rollup_query.where(kept.minute < minute_of(until))
    with engine.connect() as conn:
        parts = [pd.DataFrame(conn.execute(q).mappings().all(), columns=list(MINUTE_COLUMNS))
                 for q in (raw_query, rollup_query)]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else parts[0]
    if frame.empty:
        return frame.assign(mean_p=pd.Series(dtype=float), worn_share=pd.Series(dtype=float))
    for name in ("minute", "first_logged_at", "last_logged_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame = frame.groupby(["machine", "minute", "model_version"], as_index=False).agg(
        {**{name: "sum" for name in (*ROLLUP_COUNTS, "p_sum")}, "p_max": "max",
         "first_logged_at": "min", "last_logged_at": "max"})
    frame["mean_p"] = frame["p_sum"] / frame["scored"].where(frame["scored"] > 0)
    frame["worn_share"] = frame["worn"] / frame["samples"]
    return frame.sort_values(["machine", "minute", "model_version"], ignore_index=True)
