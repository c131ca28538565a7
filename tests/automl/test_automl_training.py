"""auto-sklearn for real through the whole path: job → evaluation → MLflow pyfunc → registry → sidecar."""

from __future__ import annotations

import math
import os
import signal

import numpy as np
import pandas as pd
import pytest

from cncwear_gui.automl.config import SearchConfig
from cncwear_gui.automl.jobs import JobFailed
from cncwear_gui.models.champion import REGISTERED_NAME, find_champion, load_active_model
from cncwear_gui.models.predictor import SidecarPredictor
from cncwear_gui.models.training import TRAINING_EXPERIMENT, TrainingConfig, train
from cncwear_gui.process_groups import group_alive
from helpers import needs_automl_runtime

pytestmark = [
    pytest.mark.automl,
    needs_automl_runtime,
]


def autosklearn_config(budget: int = 60, **kwargs) -> TrainingConfig:
    return TrainingConfig(engine="auto-sklearn", search=SearchConfig(budget_s=budget, seed=1), **kwargs)


def _client():
    from cncwear_gui.store.tracking import mlflow_client

    return mlflow_client().MlflowClient()


@pytest.mark.slow
def test_a_real_run_is_evaluated_logged_registered_and_served_by_the_sidecar(bundled_dataset, home):
    """Seed protocol only: 18 LOEO refits of an auto-sklearn ensemble take minutes here (the
    benchmark runs them); the LOEO path of the job is exercised on a small table below."""
    events = []
    config = autosklearn_config(register=True, promote=True, protocols=("seed",), gate_protocol="seed")
    result = train(bundled_dataset, config, on_event=events.append)
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and "trial" in kinds and kinds[-1] == "done" and "evaluated" in kinds
    seed = result.evaluations["seed"]
    assert sum(v.rows for v in seed.verdicts) == math.ceil(0.2 * len(bundled_dataset.samples()))  # as scikit-learn
    assert len(seed.verdicts) == 18  # (a short budget's accuracy is not asserted)

    run = _client().get_run(result.run_id)
    assert run.data.params["engine"] == "auto-sklearn" and run.data.metrics["seed_accuracy"] == pytest.approx(seed.metrics["accuracy"])
    assert '"autosklearn": "0.15.0"' in run.data.tags["cncwear.automl_runtime.model"]
    assert result.promoted and find_champion().engine == "auto-sklearn"

    # the app serves the champion through the sidecar; MLflow's pyfunc drives one too: same answers
    active = load_active_model(find_champion())
    assert isinstance(active.estimator, SidecarPredictor)
    samples = bundled_dataset.samples().iloc[::997]
    X = active.feature_set.build(samples).to_numpy()
    import mlflow

    pyfunc = mlflow.pyfunc.load_model(f"models:/{REGISTERED_NAME}@champion")
    try:
        labels = pyfunc.predict(pd.DataFrame(X, columns=list(active.feature_set.columns)))
        proba = active.worn_probability(samples)
        assert np.array_equal(labels, active.estimator.predict(X))
        assert proba.shape == (len(samples),) and np.all((proba >= 0) & (proba <= 1))
    finally:
        pyfunc.unwrap_python_model().predictor.close()
        active.estimator.close()


@pytest.mark.slow
def test_a_job_killed_mid_run_is_reported_and_the_registry_is_unchanged(bundled_dataset, home):
    client = _client()
    before = client.search_model_versions(f"name='{REGISTERED_NAME}'")
    job = {}

    def on_event(event):
        if event.kind == "started":
            job["pid"] = event.data["pid"]
        if event.kind == "trial" and event.data["n"] == 1:  # mid-search: kill the job's leader outright
            os.kill(job["pid"], signal.SIGKILL)

    with pytest.raises(JobFailed, match="SIGKILL"):
        train(bundled_dataset, autosklearn_config(register=True, promote=True), on_event=on_event)
    assert not group_alive(job["pid"])
    assert client.search_model_versions(f"name='{REGISTERED_NAME}'") == before
    experiment = client.get_experiment_by_name(TRAINING_EXPERIMENT)
    assert experiment is None or client.search_runs([experiment.experiment_id]) == []
