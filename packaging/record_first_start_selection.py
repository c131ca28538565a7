"""Record the first-start feature-set selection's figures, and the first-start forest's LOEO
figures, for the bundled dataset.

    .venv/bin/python packaging/record_first_start_selection.py

A fresh install starts on the bundled dataset; its selection figures (grouped k-fold by
experiment, see ``models.first_start.select_feature_set``) and the LOEO figures of the forest it
then trains (which the promotion gate compares a challenger with: 18 refits) depend only on the
training rows, the recipes, the seed and scikit-learn's version, so they are computed here once
and the app reuses them when the key matches. ``tests/models/test_generalisation.py`` recomputes them and fails when this file is
stale (new data rules, feature sets or scikit-learn): run this script again then.
"""

from __future__ import annotations

import json

from cncwear_gui import __version__
from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.features.sets import get_feature_set, training_matrix
from cncwear_gui.models.first_start import (candidate_matrices, quick_forest, select_feature_set, selection_key,
                                         selection_record)
from cncwear_gui.models.evaluation import evaluate_loeo
from cncwear_gui.paths import bundled_dataset_dir


def main() -> None:
    dataset = load_dataset([bundled_dataset_dir()])
    key = selection_key(candidate_matrices(dataset), 0)
    selection = select_feature_set(dataset, 0, use_record=False)
    chosen, scores = selection.chosen, selection.scores
    loeo = evaluate_loeo(quick_forest(0), *training_matrix(dataset.samples(), get_feature_set(chosen)), refit=False)
    path = selection_record()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"key": key, "scores": scores, "chosen": chosen, "first_start_loeo": loeo.metrics,
             "data": "the bundled dataset, seed 0",
             "written_by": f"cncwear {__version__}"}
    path.write_text(json.dumps({"entries": [entry]}, indent=2) + "\n", encoding="utf-8")
    print(f"{path}: {chosen} ({', '.join(f'{name} {value:.4f}' for name, value in scores.items())}); "
          f"first-start forest LOEO accuracy {loeo.metrics['accuracy']:.4f}")


if __name__ == "__main__":
    main()
