"""``cncwear export``: the real command line writes the file and says how many rows; bad input
exits 2 with a message naming what is wrong, and writes nothing."""

import json
from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest

from helpers import ROOT, run_cli
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.prediction_log import PredictionLog


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export-cli")
    url = f"sqlite:///{folder / 'features.db'}"
    with PredictionLog(url) as log:
        log.append([{"machine": f"mill-{i % 2 + 1}", "probability": i / 10,
                     "logged_at": datetime(2026, 11, 2, 6, i, tzinfo=timezone.utc)} for i in range(10)])
        assert log.flush()
    with AuditTrail(url) as trail:
        trail.record("alarm.raised", "mill-1#1", None, "unacknowledged", "mill-1")
    return url


def test_export_writes_the_file_and_counts_the_rows(tmp_path, store):
    out = tmp_path / "p.parquet"
    done = run_cli("export", "predictions", "-o", str(out), "--store", store, "--machine", "mill-2",
                   "--since", "2026-11-02T06:02", "--until", "2026-11-02T07:07+01:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"2 predictions rows written to {out} (parquet) from {store}"
    table = pq.read_table(out)
    assert table.column("machine").to_pylist() == ["mill-2", "mill-2"]
    assert [t.minute for t in table.column("logged_at").to_pylist()] == [3, 5]

    done = run_cli("export", "alarms", "-o", str(tmp_path / "alarms.txt"), "--format", "csv", "--store", store, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["export"]
    assert (result["rows"], result["format"], result["columns"][:3]) == (1, "csv", ["id", "at", "machine"])
    assert (tmp_path / "alarms.txt").read_text().splitlines()[1].split(",")[2] == '"mill-1"'


@pytest.mark.parametrize("args, message", [
    (["tools", "-o", "x.csv"], "argument KIND: invalid choice: 'tools'"),
    (["audit", "-o", "x.csv", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["audit", "-o", "x.json"], "cannot tell the format from the file name 'x.json'"),
    (["audit", "-o", "missing/x.csv"], "the folder missing does not exist"),
    (["audit", "-o", "x.csv", "--since", "last week"], "since: 'last week' is not a time"),
    (["audit", "-o", "x.csv", "--until", "2026-13-01"], "until: '2026-13-01' is not a time"),
    (["audit", "-o", "x.csv", "--since", "2026-12-02", "--until", "2026-12-01"], "is after until"),
    (["audit", "-o", "x.csv", "--store", "sqlite:///nowhere.db"], "there is no store at sqlite:///nowhere.db"),
    (["audit", "-o", "x.csv", "--store", "postgresql+psycopg://ann:secret@127.0.0.1:1/db"], None),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, store, args, message):
    if "--store" not in args:
        args = [*args, "--store", store]
    done = run_cli("export", *args, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})  # relative paths from tmp_path
    if message is None:  # an unreachable server: a failure (1), the URL named without its password
        assert done.returncode == 1, done.stderr
        assert "secret" not in done.stderr and "ann:***@127.0.0.1:1" in done.stderr
    else:
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
    assert list(tmp_path.iterdir()) == []
