"""Floor-labelled runs in the feature store: stored with their audit entry, read back as experiments
next to the bundled ones, numbered where no experiment file can be, refused whole when invalid."""

import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.schema import SIGNAL_COLUMNS
from cncwear_gui.data.setup import setup_of_meta
from cncwear_gui.features.sets import get_feature_set, training_matrix
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.locked_retry import retry_when_locked
from cncwear_gui.store.feature_store import FLOOR_RUN_OFFSET, FeatureStore, FloorRunRejected, ImportRejected


@pytest.fixture
def url(store_url):
    return store_url


@pytest.fixture
def store(url):
    store = FeatureStore(url)
    yield store
    store.close()


def run_rows(dataset, number: int) -> pd.DataFrame:
    """One bundled experiment's rows as the live engine hands a run over (with feedrate and clamp pressure)."""
    samples = dataset.samples()
    return samples[samples["experiment"] == number].drop(columns=["experiment", "row", "tool_condition", "worn"])


def labelled_entries(url) -> list:
    with AuditTrail(url) as trail:
        return trail.entries(action_prefix="run.")


def test_a_relabelled_bundled_run_reads_back_next_to_the_bundled_experiments(store, url, bundled_dataset):
    original = bundled_dataset.experiments[1]  # unworn in train.csv; the floor says worn
    setup = setup_of_meta(original.meta).text
    rows = run_rows(bundled_dataset, 1)

    run = store.add_floor_run("mill-1", setup, "3", "worn", rows, "worn", "anna")

    assert run == FLOOR_RUN_OFFSET + 1
    [stored] = store.floor_runs()
    assert (stored.run, stored.machine, stored.setup, stored.model_version, stored.label, stored.reason, stored.user) == (
        run, "mill-1", setup, "3", "worn", "worn", "anna")
    assert stored.rows == original.rows and stored.recorded_at.tzinfo is not None
    assert store.floor_runs("mill-2") == []
    [entry] = labelled_entries(url)
    assert (entry.action, entry.subject, entry.machine, entry.new_value, entry.os_user) == (
        "run.labelled", f"run {run}", "mill-1", "worn", "anna")
    assert "worn" in entry.comment and setup in entry.comment

    dataset = store.training_dataset(bundled_dataset)
    assert sorted(dataset.experiments) == [*range(1, 19), run]
    floor = dataset.experiments[run]
    meta = floor.meta
    assert (meta.tool_condition, meta.source, meta.feedrate, meta.clamp_pressure) == (
        "worn", "floor:mill-1", original.meta.feedrate, original.meta.clamp_pressure)
    columns = [*SIGNAL_COLUMNS, "Machining_Process", "phase", "quality_flags"]
    pd.testing.assert_frame_equal(floor.samples[columns], original.samples[columns].reset_index(drop=True))

    samples = dataset.samples()
    assert (samples.loc[samples["experiment"] == run, "worn"] == 1).all()
    assert (samples.loc[samples["experiment"] == 1, "worn"] == 0).all()  # the bundled experiment keeps its label
    _, y, groups = training_matrix(samples, get_feature_set("signals"))
    assert set(np.unique(groups)) == {*range(1, 19), run}  # leave-one-experiment-out holds the floor run out alone
    assert (groups == run).sum() == original.rows and (y[groups == run] == 1).all()


def test_the_stores_own_dataset_has_the_floor_runs_unless_asked_not_to(store, bundled_dataset):
    store.import_dataset(bundled_dataset)
    run = store.add_floor_run("mill-1", "setup unknown", None, "unworn", run_rows(bundled_dataset, 2), "false alarm")
    with_floor = store.load_dataset()
    assert sorted(with_floor.experiments) == [*range(1, 19), run]
    # an unknown setup takes the run's constant feedrate and clamp pressure columns
    assert with_floor.experiments[run].meta.feedrate == bundled_dataset.experiments[2].meta.feedrate
    assert sorted(store.load_dataset(floor_runs=False).experiments) == list(range(1, 19))
    assert sorted(store.floor_dataset().experiments) == [run]
    assert store.floor_runs()[0].model_version is None


def test_floor_run_numbers_never_collide_with_experiment_numbers(store, url, bundled_dataset, bundled_dir, tmp_path):
    setup = setup_of_meta(bundled_dataset.experiments[3].meta).text
    first = store.add_floor_run("mill-1", setup, "3", "worn", run_rows(bundled_dataset, 3), "broken")
    other_pc = FeatureStore(url)  # a second PC on the same database continues the numbering
    second = other_pc.add_floor_run("mill-2", setup, "3", "unworn", run_rows(bundled_dataset, 4), "false alarm")
    other_pc.close()
    assert (first, second) == (FLOOR_RUN_OFFSET + 1, FLOOR_RUN_OFFSET + 2)

    store.import_dataset(bundled_dataset)  # the bundled numbers and the floor numbers live side by side
    assert sorted(store.load_dataset().experiments) == [*range(1, 19), first, second]

    # the same run pressed twice is stored once; a contradicting second label is refused
    assert store.add_floor_run("mill-1", setup, "3", "worn", run_rows(bundled_dataset, 3), "worn") == first
    before = store.counts()
    with pytest.raises(FloorRunRejected, match=f"stored already as worn \\(run {first}\\)"):
        store.add_floor_run("mill-1", setup, "3", "unworn", run_rows(bundled_dataset, 3), "false alarm")
    assert store.counts() == before and len(labelled_entries(url)) == 2

    # an experiment file numbered in the floor range is neither imported nor merged with the floor runs
    folder = tmp_path / "renumbered"
    folder.mkdir()
    shutil.copy(bundled_dir / "experiment_05.csv", folder / f"experiment_{first}.csv")
    renumbered = load_dataset([folder / f"experiment_{first}.csv"])
    assert list(renumbered.experiments) == [first]
    with pytest.raises(ImportRejected, match=f"{first}.*floor-labelled runs' range"):
        store.import_dataset(renumbered)
    assert store.counts() == before
    with pytest.raises(ValueError, match=f"{first}.*floor-labelled runs' range"):
        store.training_dataset(renumbered)


def _without(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.drop(columns=list(columns))


def _with(frame: pd.DataFrame, column: str, row: int, value) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.iloc[row, frame.columns.get_loc(column)] = value
    return frame


INVALID = {
    "missing columns": (lambda r: _without(r, "X1_ActualPosition", "phase"), {},
                        "lack column\\(s\\) X1_ActualPosition, phase"),
    "no samples": (lambda r: r.iloc[:0], {}, "no samples"),
    "not a frame": (lambda r: r.to_dict("records"), {}, "must be a pandas DataFrame, not list"),
    "text in a signal": (lambda r: _with(r, "S1_OutputPower", 7, "n/a"), {},
                         "column S1_OutputPower: 'n/a' \\(sample 8\\) is not a number"),
    "no phase": (lambda r: _with(r, "phase", 3, None), {}, "column phase: every sample needs a whole number"),
    "scheduled change": (lambda r: r, {"reason": "scheduled"}, "reason 'scheduled' labels no run"),
    "label against reason": (lambda r: r, {"label": "unworn"}, "label 'unworn' contradicts reason 'worn'"),
    "unknown label": (lambda r: r, {"label": "blunt"}, "label 'blunt': expected one of unworn, worn"),
    "setup text": (lambda r: r, {"setup": "feed six"}, "setup 'feed six'"),
    "no machine": (lambda r: r, {"machine": " "}, "needs the machine"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_run_is_refused_with_a_message_and_nothing_is_written(store, url, bundled_dataset, case):
    store.add_floor_run("mill-1", "feed 6 · clamp 4", "3", "worn", run_rows(bundled_dataset, 1), "worn")
    before, audited = store.counts(), len(labelled_entries(url))
    change, arguments, message = INVALID[case]
    call = {"machine": "mill-1", "setup": "feed 20 · clamp 4", "model_version": "3", "label": "worn",
            "rows": change(run_rows(bundled_dataset, 5)), "reason": "worn", **arguments}
    with pytest.raises(FloorRunRejected, match=message):
        store.add_floor_run(**call)
    assert store.counts() == before and len(labelled_entries(url)) == audited
    assert len(store.floor_runs()) == 1


def test_a_write_refused_by_a_locked_database_is_tried_again(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)  # another process, holding the database
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})  # no busy wait: refused at once
    attempts = []

    def write() -> int:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 3:
            holder.execute("COMMIT")  # the other writer finishes before the third try
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        return len(attempts)

    assert retry_when_locked(write, "a test write") == 3
    assert holder.execute("SELECT count(*) FROM t").fetchone() == (1,)

    holder.execute("BEGIN EXCLUSIVE")
    attempts.clear()
    with pytest.raises(OperationalError, match="database is locked"):
        retry_when_locked(write, "a test write", budget_s=0.01)
    assert attempts == [1]  # still locked when the retry budget is spent: raised
    holder.execute("COMMIT")

    def broken() -> None:
        attempts.append(0)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO missing VALUES (1)"))

    attempts.clear()
    with pytest.raises(OperationalError, match="no such table"):
        retry_when_locked(broken, "a test write")
    assert attempts == [0]  # anything but a lock is raised at once
    engine.dispose()
    holder.close()
