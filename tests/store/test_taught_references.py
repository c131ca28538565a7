"""The taught-reference store: versions, Relearn, limits, a corrupt row, a locked database, the audit."""

import json
import logging
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlite_lock import short_busy_timeout, write_lock_held

from cncwear_gui.data.schema import PHASES
from cncwear_gui.data.setup import SetupKey
from cncwear_gui.monitoring.teach_in import Limits, TaughtReference, teach, windows_of_samples
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.taught_references import TaughtReferenceStore

SETUP = "feed 6 · clamp 4"


@pytest.fixture(scope="module")
def taught(bundled_dataset):
    """experiment 01's reference (feed 6, clamp 4), as the CLI teaches it."""
    samples = bundled_dataset.samples()
    run = samples[samples["experiment"] == 1].reset_index(drop=True)
    return teach(windows_of_samples(run), "mill-1", SetupKey(6, 4), runs=["experiment_01.csv"])


@pytest.fixture
def db(tmp_path):
    return tmp_path / "features.db"


@pytest.fixture
def store(store_url):
    store = TaughtReferenceStore(store_url)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(db):
    """The locking tests: SQLite's write lock held by another connection."""
    store = TaughtReferenceStore(f"sqlite:///{db}")
    yield store
    store.close()


def audit(store, prefix="teach."):
    with AuditTrail(store.url) as trail:
        return [(e.action, e.subject, e.old_value, e.new_value, e.os_user, e.machine)
                for e in reversed(trail.entries(action_prefix=prefix))]


def test_versions_are_kept_and_the_newest_is_active(store, taught):
    assert store.active("mill-1", SETUP) is None
    assert store.save("mill-1", SETUP, taught.to_json(), "anna", "first good run") == 1
    assert store.save("mill-1", SETUP, taught.to_json(), "ben") == 2
    assert store.save("mill-2", SETUP, taught.to_json(), "ben") == 1  # versions count per machine and setup
    active = store.active("mill-1", SETUP)
    assert (active.version, active.user, active.problem, active.runs) == (2, "ben", "", ["experiment_01.csv"])
    assert active.taught_at.tzinfo is not None
    back = TaughtReference.from_json(active.data, version=active.version)
    assert back.phases == list(PHASES[2:8]) and back.windows == taught.windows
    assert [(r.machine, r.version, r.comment) for r in store.history()] == [
        ("mill-1", 1, "first good run"), ("mill-1", 2, ""), ("mill-2", 1, "")]
    assert store.setups("mill-1") == [SETUP] and store.setups("mill-9") == []
    assert audit(store) == [("teach.learned", f"mill-1/{SETUP}", None, "v1", "anna", "mill-1"),
                            ("teach.learned", f"mill-1/{SETUP}", None, "v2", "ben", "mill-1"),
                            ("teach.learned", f"mill-2/{SETUP}", None, "v1", "ben", "mill-2")]


def test_forget_leaves_the_setup_not_taught_until_relearned(store, taught):
    store.save("mill-1", SETUP, taught.to_json(), "anna")
    store.save("mill-1", SETUP, taught.to_json(), "anna")
    assert store.forget("mill-1", SETUP, "ben", "new fixture") == 2
    assert store.active("mill-1", SETUP) is None  # v1 is not revived: it was replaced, not forgotten
    assert store.forget("mill-1", SETUP, "ben") is None  # nothing active: nothing written
    history = store.history("mill-1", SETUP)
    assert [(r.version, r.forgotten_at is not None) for r in history] == [(1, False), (2, True)]
    assert store.save("mill-1", SETUP, taught.to_json(), "ben", "relearned") == 3
    assert store.active("mill-1", SETUP).version == 3
    assert [a[:4] for a in audit(store)] == [
        ("teach.learned", f"mill-1/{SETUP}", None, "v1"), ("teach.learned", f"mill-1/{SETUP}", None, "v2"),
        ("teach.forgotten", f"mill-1/{SETUP}", "v2", None), ("teach.learned", f"mill-1/{SETUP}", None, "v3")]


def test_limits_are_audited_with_old_and_new_value(store):
    assert store.limits("mill-1", SETUP) is None
    first = Limits(15, 30, 3).to_json()
    store.set_limits("mill-1", SETUP, first, "anna")
    store.set_limits("mill-1", SETUP, Limits(10, 25, 5).to_json(), "ben", "thin walls")
    assert store.limits("mill-1", SETUP) == {"warn_pct": 10, "alarm_pct": 25, "delay_windows": 5}
    assert store.limits("mill-1", "feed 3 · clamp 4") is None
    entries = audit(store)
    assert [(a[0], a[4]) for a in entries] == [("teach.limits", "anna"), ("teach.limits", "ben")]
    assert entries[0][2] is None and Limits.from_json(json.loads(entries[0][3])) == Limits(15, 30, 3)
    assert entries[1][2] == entries[0][3]
    with pytest.raises(ValueError, match="finite numbers"):
        store.set_limits("mill-1", SETUP, {"warn_pct": "15"}, "anna")
    assert len(audit(store)) == 2


def test_limits_and_relearning_never_touch_the_alarm_history(store, taught):
    with AuditTrail(store.url) as trail:
        trail.record("alarm.acknowledged", subject="mill-1/wear", machine="mill-1", user="anna")
    store.save("mill-1", SETUP, taught.to_json(), "anna")
    store.set_limits("mill-1", SETUP, Limits().to_json(), "anna")
    store.forget("mill-1", SETUP, "anna")
    assert [a[0] for a in audit(store, "alarm.")] == ["alarm.acknowledged"]


def test_a_corrupt_row_is_a_problem_not_a_crash(store, taught):
    store.save("mill-1", SETUP, taught.to_json(), "anna")
    raw = create_engine(store.url)
    with raw.begin() as conn:  # a disk or a hand edit spoiled the text
        conn.execute(text("UPDATE taught_references SET reference = substr(reference, 1, 40)"))
    raw.dispose()
    active = store.active("mill-1", SETUP)
    assert active.data is None and active.version == 1
    assert active.problem.startswith("reference v1 does not parse")
    assert store.history()[0].problem == active.problem


def test_bad_arguments_write_nothing(store):
    with pytest.raises(ValueError, match="machine and a setup"):
        store.save("", SETUP, {}, "anna")
    with pytest.raises(ValueError, match="must be a dict"):
        store.save("mill-1", SETUP, ["not", "a", "dict"], "anna")
    with pytest.raises(ValueError, match="JSON"):
        store.save("mill-1", SETUP, {"taught": float("nan")}, "anna")
    assert store.history() == [] and audit(store) == []


def test_a_write_waits_out_a_locked_database(sqlite_store, db, taught, caplog):
    """A real write lock from another connection, longer than SQLite's busy wait: the store retries."""
    store = sqlite_store
    short_busy_timeout(store.engine, store.audit.engine)
    with caplog.at_level(logging.WARNING, logger="cncwear_gui.store.locked_retry"):
        with write_lock_held(db, seconds=1.0):
            version = store.save("mill-1", SETUP, taught.to_json(), "anna")
            store.set_limits("mill-1", SETUP, Limits().to_json(), "anna")
    assert version == 1
    assert any("database is locked" in r.getMessage() for r in caplog.records)
    assert [r.version for r in store.history()] == [1]  # once, not twice
    assert store.limits("mill-1", SETUP) == Limits().to_json()
    assert [a[0] for a in audit(store)] == ["teach.learned", "teach.limits"]
    with sqlite3.connect(db) as raw:  # and the other writer's row is there too
        assert raw.execute("SELECT count(*) FROM holder_rows").fetchone() == (1,)


def test_a_lock_held_past_the_retry_budget_raises_and_writes_nothing(db, taught):
    store = TaughtReferenceStore(f"sqlite:///{db}", retry_for_s=0.3)
    try:
        short_busy_timeout(store.engine, store.audit.engine)
        with write_lock_held(db, seconds=3.0):
            with pytest.raises(OperationalError, match="locked"):
                store.save("mill-1", SETUP, taught.to_json(), "anna")
        assert store.history() == [] and audit(store) == []
    finally:
        store.close()


def test_teach_ins_on_several_pcs_at_once_get_one_version_each(store_url, taught):
    """Four PCs teach the same setup at the same moment: on PostgreSQL the loser of a version race
    sees a unique violation and runs its transaction again; every teach-in gets its own version."""
    import threading

    pcs = [TaughtReferenceStore(store_url) for _ in range(4)]
    versions, errors = [], []

    def teach_five(pc, name):
        for _ in range(5):
            try:
                versions.append(pc.save("mill-1", SETUP, taught.to_json(), name))
            except Exception as error:  # reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=teach_five, args=(pc, f"pc{i}")) for i, pc in enumerate(pcs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert errors == [] and sorted(versions) == list(range(1, 21))
        assert [r.version for r in pcs[0].history("mill-1", SETUP)] == list(range(1, 21))
        assert sorted(a[3] for a in audit(pcs[0])) == sorted(f"v{v}" for v in range(1, 21))  # audited once each
    finally:
        for pc in pcs:
            pc.close()
