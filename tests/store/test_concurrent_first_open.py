import pytest
"""A fresh install: processes that open a new store at the same moment all get a working store.

The window, its trigger watcher and the CLI do exactly that on first start. Each opener imports
what it needs first, then waits for a go file, so they all reach the empty database together.
"""

import os
import subprocess
import sys
import time

from helpers import ROOT

WAIT_FOR_GO = """
import sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.002)
"""

OPEN_MLFLOW = """
import mlflow
""" + WAIT_FOR_GO + """
from cncwear_gui.store.tracking import ensure_experiment, mlflow_client
ensure_experiment("cncwear-race")
print(len(mlflow_client().MlflowClient().search_registered_models()))
"""

OPEN_OWN_STORES = """
from cncwear_gui.store import audit_trail, prediction_log
from cncwear_gui.store.feature_store import FeatureStore
from cncwear_gui.store.pipeline_history import PipelineHistory
from cncwear_gui.store.taught_references import TaughtReferenceStore
from cncwear_gui.store.tool_changes import ToolChangeLog
""" + WAIT_FOR_GO + """
url = sys.argv[2]
FeatureStore(url), PipelineHistory(url), audit_trail.make_engine(url), prediction_log.make_engine(url)
TaughtReferenceStore(url), ToolChangeLog(url)
print(0)
"""


def _open_at_once(code: str, home, tmp_path, openers: int = 4, extra_args: tuple = ()) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "CNCWEAR_HOME": str(home)}
    running = [subprocess.Popen([sys.executable, "-c", code, str(go), *extra_args], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(openers)]
    time.sleep(4)  # every opener has done its imports and is waiting
    go.touch()
    for process in running:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-1500:]
        assert stdout.strip() == "0"


@pytest.mark.slow
def test_a_new_mlflow_store_opened_at_once_is_migrated_once_and_usable(home, tmp_path):
    _open_at_once(OPEN_MLFLOW, home, tmp_path)

    from cncwear_gui.store.tracking import mlflow_client

    mlflow = mlflow_client()
    experiment = mlflow.get_experiment_by_name("cncwear-race")
    with mlflow.start_run(experiment_id=experiment.experiment_id):
        mlflow.log_metric("accuracy", 0.9)
    assert len(mlflow.search_runs([experiment.experiment_id])) == 1


def test_new_feature_history_and_live_stores_opened_at_once_are_created_once(home, tmp_path, store_url):
    """Four processes on a new SQLite file, or on a new PostgreSQL database (several PCs on a new
    central database)."""
    _open_at_once(OPEN_OWN_STORES, home, tmp_path, extra_args=(store_url,))

    import sqlalchemy
    from sqlalchemy import func, select, text

    from cncwear_gui.features.sets import FEATURE_SETS
    from cncwear_gui.store.audit_trail import AuditTrail, audit_trail
    from cncwear_gui.store.feature_store import FeatureStore, feature_sets, store_info
    from cncwear_gui.store.pipeline_history import PipelineHistory

    store = FeatureStore(store_url)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store_info)).scalar() == 2  # schema and app version, once
        assert conn.execute(select(func.count()).select_from(feature_sets)).scalar() == len(FEATURE_SETS)
        if conn.dialect.name == "postgresql":  # the append-only triggers, once each
            names = conn.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_trail'::regclass "
                                      "AND NOT tgisinternal ORDER BY tgname")).scalars().all()
            assert names == ["audit_trail_no_change", "audit_trail_no_truncate"]
    store.close()
    history = PipelineHistory(store_url)
    history.record("manual", "after the race", "failed")
    assert [f.reason for f in history.firings()] == ["after the race"]
    history.close()
    with AuditTrail(store_url) as trail:
        trail.record("settings.changed", "after the race")
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            with trail.engine.begin() as conn:
                conn.execute(audit_trail.delete())
        assert [e.subject for e in trail.entries()] == ["after the race"]


LOAD_MODEL = """
from cncwear_gui.store.tracking import load_trusted_model
""" + WAIT_FOR_GO + """
model = load_trusted_model(sys.argv[2])
print(int(model.predict([[0.0]])[0]))
"""


@pytest.mark.slow
def test_a_new_model_loaded_by_several_processes_at_once_is_downloaded_once(home, tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    from cncwear_gui.store.tracking import ensure_experiment, load_trusted_model, log_trusted_model, mlflow_client

    mlflow = mlflow_client()
    with mlflow.start_run(experiment_id=ensure_experiment("cncwear-race")):
        logged = log_trusted_model(DecisionTreeClassifier().fit([[0.0], [1.0]], [0, 1]))
    _open_at_once(LOAD_MODEL, home, tmp_path, extra_args=(logged.model_id,))

    cached = list((home / "model-files").iterdir())
    assert [path.name for path in cached] == [logged.model_id]  # no staging folder left behind
    placed = (cached[0] / "model.skops").stat().st_mtime_ns
    load_trusted_model(logged.model_id)
    assert (cached[0] / "model.skops").stat().st_mtime_ns == placed  # read from the cache, not rewritten
