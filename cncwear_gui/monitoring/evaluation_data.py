"""The held-out predictions a training run logs, from which the model statistics are drawn.

Statistics on the rows a model was fitted on would flatter it; the run logs the P(worn) its
seed-protocol model gave the held-out 20 % instead (``evaluation_predictions.json``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

ARTIFACT = "evaluation_predictions.json"


def log_evaluation_predictions(mlflow, protocol: str, y_true: np.ndarray, p_worn: np.ndarray, note: str = "") -> None:
    mlflow.log_dict({"protocol": protocol, "rows": int(len(y_true)), "note": note,
                     "y_true": np.asarray(y_true, dtype=int).tolist(),
                     "p_worn": np.round(np.asarray(p_worn, dtype=float), 6).tolist()}, ARTIFACT)


def load_evaluation_predictions(run_id: str) -> dict | None:
    """The run's held-out predictions, or None for a run that logged none."""
    from ..store.tracking import mlflow_client

    mlflow = mlflow_client()
    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = mlflow.MlflowClient().download_artifacts(run_id, ARTIFACT, scratch)
        except (OSError, mlflow.exceptions.MlflowException):
            return None
        return json.loads(Path(path).read_text())


def run_statistics(run_id: str, threshold: float = 0.5):
    """(ModelStatistics, description of the data) for a run, or (None, why not)."""
    from .model_stats import model_statistics

    data = load_evaluation_predictions(run_id) if run_id else None
    if data is None:
        return None, "this model's run logged no held-out predictions"
    statistics = model_statistics(np.asarray(data["y_true"]), np.asarray(data["p_worn"]), threshold)
    source = f"{data['protocol']} protocol, held-out rows ({data['rows']:,})" + (f"; {data['note']}" if data.get("note") else "")
    return statistics, source
