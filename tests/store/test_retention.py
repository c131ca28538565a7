"""Retention of the prediction log on a real SQLite store, fed by the real live engine (a real
champion scoring real replays): raw rows pruned after N days, roll-ups equal to what the raw rows
said, every other table untouched, and the free-disk floor measured on the real disk."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, inspect, select, table, update

from cncwear_gui.live.engine import LiveConfig, LiveNode, open_machine
from cncwear_gui.live.replay import ReplaySource
from cncwear_gui.live.sources import MachineSpec
from cncwear_gui.monitoring.metrics import AppMetrics
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.pipeline_history import PipelineHistory
from cncwear_gui.store.prediction_log import PredictionLog
from cncwear_gui.store.prediction_rollups import minutes
from cncwear_gui.store.prediction_tables import prediction_log, prediction_minutes, prediction_runs
from cncwear_gui.store.retention import Pruner, Retention
from cncwear_gui.store.tool_changes import ToolChangeLog

WORN, UNWORN = 6, 1
NOW = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
LOG_TABLES = {"prediction_log", "prediction_minutes", "prediction_runs"}


class SteppedClock:
    def __init__(self):
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def live_node(url, champion, bundled_dataset, retention: Retention | None = None):
    """Two replays (a worn and an unworn tool) on a stepped clock, logging to ``url``."""
    stores = {"audit": AuditTrail(url), "predictions": PredictionLog(url, flush_interval_s=0.05, retention=retention),
              "feedback": PipelineHistory(url), "tool_changes": ToolChangeLog(url)}
    clock = SteppedClock()
    samples = bundled_dataset.samples()
    metrics = AppMetrics(process_metrics=False)
    config = LiveConfig(threshold=0.5, window=30, alarm_delay=20)
    machines = [open_machine(MachineSpec(name, "replay", "memory"), champion, metrics, config,
                             source=ReplaySource(samples[samples["experiment"] == experiment], clock=clock))
                for name, experiment in (("worn-mill", WORN), ("unworn-mill", UNWORN))]
    node = LiveNode(machines, champion, metrics, config, clock=clock, **stores)
    node.start_sources()

    def run_for(seconds: float) -> None:
        for _ in range(round(seconds)):
            clock.now += 1.0
            node.step()

    return node, run_for, stores, metrics


def close_all(stores) -> None:
    for store in stores.values():
        store.close()


def raw_frame(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(select(prediction_log)).mappings().all())
    frame["logged_at"] = pd.to_datetime(frame["logged_at"], utc=True)
    return frame


def spread_over_days(engine, first: datetime) -> None:
    """Give the logged rows a 10 Hz logged_at per machine from ``first`` on (the engine logged them
    within seconds); the rows stay what the engine wrote otherwise."""
    frame = raw_frame(engine)
    with engine.begin() as conn:
        for machine, rows in frame.groupby("machine"):
            for position, row_id in enumerate(rows.sort_values("id")["id"]):
                conn.execute(update(prediction_log).where(prediction_log.c.id == int(row_id))
                             .values(logged_at=first + timedelta(milliseconds=100 * position)))


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table(name))).scalar()
                for name in inspect(engine).get_table_names()}


def expected_rollup(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The roll-up computed independently from raw rows, with pandas."""
    frame = frame.assign(model_version=frame["model_version"].fillna(""),
                         minute=frame["logged_at"].dt.floor("min"),
                         is_ok=frame["wear_state"].eq("ok"), is_worn=frame["wear_state"].eq("worn"),
                         is_unknown=~frame["wear_state"].isin(["ok", "worn"]), is_flagged=frame["quality_flags"].ne(0))
    grouped = frame.groupby(by)
    out = pd.DataFrame({
        "samples": grouped.size(), "ok": grouped["is_ok"].sum(), "worn": grouped["is_worn"].sum(),
        "unknown": grouped["is_unknown"].sum(), "flagged": grouped["is_flagged"].sum(),
        "scored": grouped["probability"].count(), "mean_p": grouped["probability"].mean(),
        "p_max": grouped["probability"].max(),
        "first_logged_at": grouped["logged_at"].min(), "last_logged_at": grouped["logged_at"].max(),
    }).reset_index()
    return out.sort_values(by, ignore_index=True)


def stored_rollup(engine, table, by: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(select(table)).mappings().all())
    for name in ("first_logged_at", "last_logged_at", *(["minute"] if "minute" in frame else [])):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["mean_p"] = frame["p_sum"] / frame["scored"]
    return frame.sort_values(by, ignore_index=True)


def assert_same(stored: pd.DataFrame, expected: pd.DataFrame, by: list[str]) -> None:
    assert len(stored) == len(expected) > 0
    for name in by + ["samples", "ok", "worn", "unknown", "flagged", "scored", "first_logged_at", "last_logged_at"]:
        assert stored[name].tolist() == expected[name].tolist(), name
    np.testing.assert_allclose(stored["mean_p"], expected["mean_p"], rtol=1e-9)
    np.testing.assert_array_equal(stored["p_max"].astype(float), expected["p_max"].astype(float))


@pytest.fixture
def logged(store_url, champion, bundled_dataset):
    """A store (SQLite, PostgreSQL) the live engine wrote about 260 s per machine to (a replay loop:
    two runs on the worn mill), with a raised alarm, a false-alarm label and a tool change; the
    first half of each machine's rows logged 40 days before NOW, the rest 2 days before."""
    url = store_url
    node, run_for, stores, _ = live_node(url, champion, bundled_dataset)
    samples = bundled_dataset.samples()
    run_for(int((samples["experiment"] == WORN).sum()) / 10 + 40)
    node.acknowledge("worn-mill", "olga", "tool looked fine", false_alarm=True)
    stores["tool_changes"].record("unworn-mill", "scheduled", "olga")
    assert stores["predictions"].flush()
    engine = stores["predictions"].engine
    spread_over_days(engine, NOW - timedelta(days=40))
    frame = raw_frame(engine)
    recent = frame.groupby("machine")["id"].transform(lambda ids: ids > ids.median())
    with engine.begin() as conn:
        for row_id, at in zip(frame.loc[recent, "id"], frame.loc[recent, "logged_at"]):
            conn.execute(update(prediction_log).where(prediction_log.c.id == int(row_id))
                         .values(logged_at=at.to_pydatetime() + timedelta(days=38)))
    yield stores, engine
    close_all(stores)


def test_pruning_deletes_only_raw_rows_older_than_the_retention(logged):
    stores, engine = logged
    before = raw_frame(engine)
    cutoff = (NOW - timedelta(days=30)).replace(second=0, microsecond=0)
    old, kept = before[before["logged_at"] < cutoff], before[before["logged_at"] >= cutoff]
    assert len(old) > 1000 and len(kept) > 1000  # several batches of each
    result = Pruner(engine, Retention(days=30, batch_rows=500, pause_s=0)).prune(now=NOW)
    after = raw_frame(engine)
    assert result.rows == len(old) and result.batches == -(-len(old) // 500) and result.cutoff == cutoff
    assert sorted(after["id"]) == sorted(kept["id"])  # exactly the rows at or after the cutoff survive
    assert Pruner(engine, Retention(days=30, pause_s=0)).prune(now=NOW).rows == 0  # nothing left to prune
    assert stores["predictions"].count() == len(kept)


def test_rollups_equal_what_the_raw_rows_said(logged):
    stores, engine = logged
    before = raw_frame(engine)
    across_before = minutes(engine)
    assert before["run_id"].notna().all() and before.groupby("machine")["run_id"].nunique()["worn-mill"] >= 2
    pruned = before[before["logged_at"] < (NOW - timedelta(days=30)).replace(second=0, microsecond=0)]
    Pruner(engine, Retention(days=30, batch_rows=700, pause_s=0)).prune(now=NOW)

    minute_key, run_key = ["machine", "minute", "model_version"], ["machine", "run_id", "model_version"]
    assert_same(stored_rollup(engine, prediction_minutes, minute_key), expected_rollup(pruned, minute_key), minute_key)
    assert_same(stored_rollup(engine, prediction_runs, run_key), expected_rollup(pruned, run_key), run_key)
    # a run cut by the boundary: its pruned part in the roll-up, the rest still raw, nothing lost
    runs = stored_rollup(engine, prediction_runs, run_key)
    left = raw_frame(engine)
    assert set(runs["run_id"]) & set(left["run_id"]), "no run spans the boundary: the test proves less than it says"

    # the reader across the boundary gives what the raw rows said before, minute by minute
    across_after = minutes(engine)
    expected = expected_rollup(before, minute_key)
    for frame in (across_before, across_after):
        assert frame["minute"].tolist() == expected["minute"].tolist()
        assert frame["samples"].tolist() == expected["samples"].tolist()
        assert frame["worn"].tolist() == expected["worn"].tolist()
        np.testing.assert_allclose(frame["mean_p"], expected["mean_p"], rtol=1e-9)
        np.testing.assert_array_equal(frame["p_max"].astype(float), expected["p_max"].astype(float))
    since = NOW - timedelta(days=31)
    window = minutes(engine, machine="worn-mill", since=since, until=NOW)
    assert window["samples"].sum() == len(before[(before["machine"] == "worn-mill") & (before["logged_at"] >= since)])


def test_alarms_audit_labels_and_tool_changes_are_untouched(logged):
    stores, engine = logged
    before = table_counts(engine)
    assert before["audit_trail"] > 0 and before["tool_changes"] == 1
    assert stores["feedback"].feedback_accuracy(str(stores["predictions"].recent(limit=1)[0]["model_version"]),
                                                last=20)[1] == 1
    Pruner(engine, Retention(days=30, pause_s=0)).prune(now=NOW)
    after = table_counts(engine)
    assert after["prediction_log"] < before["prediction_log"]
    assert {k: v for k, v in after.items() if k not in LOG_TABLES} == {k: v for k, v in before.items()
                                                                       if k not in LOG_TABLES}
    assert after["prediction_minutes"] > before["prediction_minutes"] == 0


def test_under_the_disk_floor_raw_rows_stop_and_rollups_alarms_audit_go_on(tmp_path, champion, bundled_dataset):
    free_mb = shutil.disk_usage(tmp_path).free / 2**20
    url = f"sqlite:///{tmp_path / 'store.db'}"
    node, run_for, stores, metrics = live_node(url, champion, bundled_dataset,
                                               Retention(min_free_mb=free_mb * 2 + 1024, interval_s=3600))
    try:
        run_for(30)
        assert stores["predictions"].flush()
        run_for(1)  # the pass after the writer measured publishes the gauges
        log = stores["predictions"]
        scored = sum(m.monitor.scored for m in node.machines)
        assert scored > 0 and log.count() == 0 and log.written == 0 and log.rolled_up_only == scored - log.pending
        status = log.storage()
        assert status.raw_paused and status.free_bytes < status.floor_bytes
        gauge = metrics.registry.get_sample_value
        assert gauge("cncwear_prediction_log_raw_paused") == 1
        assert gauge("cncwear_disk_free_floor_bytes") == status.floor_bytes
        assert 0 < gauge("cncwear_disk_free_bytes") < status.floor_bytes
        assert gauge("cncwear_store_size_bytes") > 0
        assert log.flush()
        rolled = stored_rollup(log.engine, prediction_minutes, ["machine", "minute"])
        assert rolled["samples"].sum() == log.rolled_up_only
        assert stores["audit"].entries(machine="worn-mill", action_prefix="alarm.raised")  # alarms recorded
    finally:
        close_all(stores)


def test_above_the_floor_raw_rows_are_written_and_the_gauge_is_zero(tmp_path, champion, bundled_dataset):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    node, run_for, stores, metrics = live_node(url, champion, bundled_dataset, Retention(min_free_mb=1, interval_s=3600))
    try:
        run_for(5)
        assert stores["predictions"].flush()
        run_for(1)
        assert stores["predictions"].count() > 0 and stores["predictions"].rolled_up_only == 0
        assert metrics.registry.get_sample_value("cncwear_prediction_log_raw_paused") == 0
    finally:
        close_all(stores)


def test_a_store_from_before_run_ids_gets_the_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE prediction_log (id INTEGER PRIMARY KEY, logged_at DATETIME NOT NULL, machine VARCHAR(255) "
                "NOT NULL, sample_time DATETIME, model_version VARCHAR(64), probability FLOAT, wear_state VARCHAR(16) "
                "NOT NULL, quality_flags INTEGER NOT NULL)")
    raw.execute("INSERT INTO prediction_log (logged_at, machine, probability, wear_state, quality_flags) "
                "VALUES ('2026-01-01 00:00:00.000000', 'm1', 0.5, 'ok', 0)")
    raw.commit()
    raw.close()
    log = PredictionLog(f"sqlite:///{path}", flush_interval_s=0.05)
    try:
        log.append({"machine": "m1", "probability": 0.7, "run_id": 42})
        assert log.flush()
        assert [r["run_id"] for r in log.recent()] == [42, None] and log.count() == 2
        assert Pruner(log.engine, Retention(days=30, pause_s=0)).prune(now=NOW).rows == 1
        assert log.count() == 1
    finally:
        log.close()


def _old_rows(n: int, machines: int = 4) -> list[dict]:
    """Rows logged 40 days before NOW at 10 Hz per machine, two runs each (the prune-job tests that
    need volume rather than a model)."""
    return [{"machine": f"m{i % machines}", "logged_at": NOW - timedelta(days=40) + timedelta(milliseconds=100 * (i // machines)),
             "model_version": "5" if i < n // 2 else None, "probability": None if i % 17 == 0 else (i * 37 % 1000) / 1000,
             "wear_state": ("ok", "worn", "unknown")[i % 3], "quality_flags": 4 if i % 11 == 0 else 0,
             "run_id": 1 + (i // machines) // (n // machines // 2 + 1)} for i in range(n)]


def test_a_new_store_gives_pruned_space_back_to_the_file_system(tmp_path):
    import sqlite3

    path = tmp_path / "store.db"
    log = PredictionLog(f"sqlite:///{path}", flush_interval_s=0.05)
    try:
        assert sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone() == (2,)  # INCREMENTAL
        log.append(_old_rows(60_000))
        assert log.flush(60)
        with log.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        result = Pruner(log.engine, Retention(days=30, pause_s=0)).prune(now=NOW)
        with log.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            free_pages = conn.exec_driver_sql("PRAGMA freelist_count").scalar()
        assert result.rows == 60_000 and log.count() == 0 and result.vacuumed_pages > 0
        assert free_pages == 0 and path.stat().st_size < before / 4
    finally:
        log.close()


def test_two_pruners_at_once_count_every_row_once(store_url):
    import threading

    url = store_url
    log = PredictionLog(url, flush_interval_s=0.05)
    other = PredictionLog(url)  # a second process's engine, as the window and `cncwear serve` would have
    try:
        rows = _old_rows(30_000)
        log.append(rows)
        assert log.flush(60)
        expected = expected_rollup(raw_frame(log.engine), ["machine", "minute", "model_version"])
        pruners = [Pruner(engine, Retention(days=30, batch_rows=300, pause_s=0)) for engine in (log.engine, other.engine)]
        errors = []

        def prune(pruner):
            try:
                pruner.prune(now=NOW)
            except Exception as error:  # a failed round would leave rows for the other: say which
                errors.append(error)

        threads = [threading.Thread(target=prune, args=(p,)) for p in pruners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == [] and log.count() == 0 and sum(p.pruned for p in pruners) == len(rows)
        key = ["machine", "minute", "model_version"]
        assert_same(stored_rollup(log.engine, prediction_minutes, key), expected, key)
    finally:
        other.close()
        log.close()


@pytest.mark.slow
def test_serve_under_the_floor_says_disk_low_and_keeps_roll_ups(tmp_path, bundled_dir):
    import json
    import os
    import subprocess
    import sys

    from helpers import ROOT

    floor_mb = 10_000_000  # the setting's upper bound, 9.5 TB: above the real free disk here
    if shutil.disk_usage(tmp_path).free / 2**20 >= floor_mb:
        pytest.skip("more than 9.5 TB free: the floor cannot be set above the free disk")
    config, home = tmp_path / "config", tmp_path / "home"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"version": 1, "min_free_disk_mb": floor_mb}))
    done = subprocess.run(
        [sys.executable, "-m", "cncwear_gui.cli", "serve", "--metrics-addr", "127.0.0.1:0", "--duration", "6",
         "--machine", f"mill=replay:{bundled_dir / 'experiment_06.csv'}@20"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "CNCWEAR_HOME": str(home), "CNCWEAR_CONFIG_DIR": str(config)})
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    low = [e for e in events if e.get("event") == "disk-low"]
    assert len(low) == 1 and low[0]["floor_bytes"] == floor_mb * 2**20 and low[0]["free_bytes"] < low[0]["floor_bytes"]
    assert "raw prediction rows are NOT written" in done.stderr
    scored = events[-1]["scored"]["mill"]
    log = PredictionLog(f"sqlite:///{home / 'features.db'}")
    try:
        assert scored > 0 and log.count() == 0
        assert stored_rollup(log.engine, prediction_minutes, ["minute"])["samples"].sum() == scored
    finally:
        log.close()


def test_the_monitoring_view_row_shows_store_size_free_disk_and_a_paused_log(tmp_path):
    from cncwear_gui.ui.views.monitoring_jobs import metric_rows

    metrics = AppMetrics(process_metrics=False)
    assert dict(metric_rows(metrics))["Store and disk"] == "not measured (no prediction log in this window yet)"
    free_mb = shutil.disk_usage(tmp_path).free / 2**20
    for floor_mb, paused in ((1, False), (free_mb * 2 + 1024, True)):
        log = PredictionLog(f"sqlite:///{tmp_path / f'{floor_mb:.0f}.db'}", flush_interval_s=0.05,
                            retention=Retention(min_free_mb=floor_mb, interval_s=3600))
        try:
            log.append({"machine": "m1", "probability": 0.2})
            assert log.flush()
            status = log.storage()
            assert status.raw_paused is paused and log.count() == (0 if paused else 1)
            metrics.set_storage(status)
            row = dict(metric_rows(metrics))["Store and disk"]
        finally:
            log.close()
        free = f"{status.free_bytes / 2**30:.1f} GB" if status.free_bytes >= 2**30 else f"{status.free_bytes / 2**20:.1f} MB"
        if paused:
            assert row.startswith(f"RAW PREDICTION ROWS NOT WRITTEN: only {free} free, under the floor "), row
        else:
            assert row == f"store {status.store_bytes / 2**20:.1f} MB · {free} free (floor 1.0 MB)", row


def test_the_settings_give_the_retention_and_refuse_a_bad_one():
    from cncwear_gui.settings import Settings
    from cncwear_gui.store.retention import retention_from

    default = retention_from(Settings())
    assert (default.days, default.min_free_mb) == (30.0, 1024.0)
    bad = Settings(prediction_log_retention_days=0, min_free_disk_mb=-1)
    assert set(bad.field_problems()) == {"prediction_log_retention_days", "min_free_disk_mb"}
    assert retention_from(Settings(prediction_log_retention_days=7, min_free_disk_mb=0)).min_free_mb == 0
    with pytest.raises(ValueError, match="days > 0"):
        Retention(days=0)
