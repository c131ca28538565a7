"""The local MLflow store: processes that open a new one at the same moment all get a working store."""

import os
import subprocess
import sys
import time

from helpers import ROOT

# Import mlflow first (≈1 s), then wait for the go file, so every process opens the store at once.
OPENER = """
import sys, time
from pathlib import Path
import mlflow
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
from cncwear_gui.store.tracking import ensure_experiment, mlflow_client
ensure_experiment("cncwear-race")
print(len(mlflow_client().MlflowClient().search_registered_models()))
"""


def test_processes_opening_a_new_store_at_once_all_succeed_and_leave_it_usable(home, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "CNCWEAR_HOME": str(home)}
    openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(go)], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    time.sleep(4)  # every opener has imported mlflow and is waiting
    go.touch()
    results = [(opener.wait(timeout=300), *opener.communicate()) for opener in openers]
    for returncode, stdout, stderr in results:
        assert returncode == 0, stderr[-1500:]
        assert stdout.strip() == "0"

    from cncwear_gui.store.tracking import mlflow_client

    mlflow = mlflow_client()
    experiment = mlflow.get_experiment_by_name("cncwear-race")
    assert experiment is not None
    with mlflow.start_run(experiment_id=experiment.experiment_id):
        mlflow.log_metric("accuracy", 0.9)
    assert len(mlflow.search_runs([experiment.experiment_id])) == 1
