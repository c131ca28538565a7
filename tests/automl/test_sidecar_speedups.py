"""The sidecar's small-batch paths (automl/sidecar_speedups.py) on real auto-sklearn pipelines fitted
on real rows: each kind of step is sped up, and every batch size gives bit-identical
probabilities to the untouched pipeline, a forest fed a sparse matrix included; a step whose fast
path fails to install keeps scikit-learn's own."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cncwear_gui.automl.runtime import automl_env, automl_python
from helpers import needs_automl_runtime

SCRIPT = Path(__file__).with_name("fit_and_speed_up.py")


@pytest.mark.automl
@needs_automl_runtime
def test_each_sped_up_step_predicts_exactly_what_scikit_learn_does(bundled_dataset, tmp_path):
    from cncwear_gui.features.sets import get_feature_set, training_matrix

    X, y, groups = training_matrix(bundled_dataset.samples(), get_feature_set("seed_slides"))
    rng = np.random.default_rng(0)
    fitted_on = rng.choice(np.flatnonzero(np.isin(groups, (1, 2, 6, 7))), 600, replace=False)  # two worn, two unworn
    scored = rng.choice(np.flatnonzero(~np.isin(groups, (1, 2, 6, 7))), 300, replace=False)  # other experiments
    np.savez(tmp_path / "rows.npz", X=X[fitted_on], y=y[fitted_on], X_new=X[scored])
    done = subprocess.run([str(automl_python()), str(SCRIPT), str(tmp_path / "rows.npz"), str(tmp_path / "out.json")],
                          capture_output=True, text=True, timeout=600, env=automl_env())
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "out.json").read_text())
    counts = {name: report[name]["counts"] for name in report if name != "max_rows"}
    assert counts == {
        "embedding → forest": {"forests": 1, "boosting": 0, "preprocessors": 2},
        "extra-trees selection → boosting": {"forests": 0, "boosting": 1, "preprocessors": 2},
        "linear-SVC selection → extra trees": {"forests": 1, "boosting": 0, "preprocessors": 2},
        "failed install": {"forests": 0, "boosting": 0, "preprocessors": 1},  # said on stderr, served all the same
    }
    assert "RandomForestClassifier keeps scikit-learn's own path: RuntimeError: a forest unlike" in done.stderr
    for name in counts:
        for size, batch in report[name]["batches"].items():
            fast, plain = np.array(batch["fast"]), np.array(batch["plain"])
            assert fast.shape == (int(size), 2)
            np.testing.assert_array_equal(fast, plain, err_msg=f"{name}, {size} row(s)")
    for name in counts:
        if name != "failed install":
            assert len(np.unique(np.array(report[name]["batches"]["7"]["plain"])[:, 1])) > 1  # not a constant model
