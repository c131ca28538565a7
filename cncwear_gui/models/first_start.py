"""The first-start champion's recipe, and the figures recorded for it on the bundled dataset.

On first start (no champion in the registry) the app trains ``quick_forest`` on the candidate
feature set that generalises best to unseen experiments: the candidates (sets a live machine
delivers, without train.csv constants) are compared by grouped k-fold by experiment, never by a
random row split. Those figures, and the forest's LOEO figures the promotion gate compares a
challenger with, depend only on the training rows, the recipes, the seed and scikit-learn's
version: for the bundled dataset (where a fresh install starts) they are recorded in
``resources/models/first_start_selection.json`` (``packaging/record_first_start_selection.py``
writes it; tests recompute it) and reused when the key matches, instead of refitting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..data.dataset import Dataset
from ..features.sets import get_feature_set, training_matrix
from ..paths import resources_dir
from ..tasks import Task, ensure_task

log = logging.getLogger(__name__)
QUICK_FEATURE_SET = "signals"  # what an older run without the tag used
QUICK_CANDIDATES = ("signals", "process")
QUICK_TREES = 30  # LOEO as good as 100 trees here, TreeSHAP 15 ms per row instead of 46 (benchmarks/first_start_depth.py)
SELECTION_FOLDS = 3  # grouped by experiment: six experiments held out per fold
SELECTION_TREES = 30


@dataclass(frozen=True)
class Selection:
    chosen: str
    scores: dict[str, float]  # grouped k-fold accuracy per candidate
    source: str  # "computed", or which record the figures come from
    recorded_loeo: dict[str, float] | None = None  # the first-start recipe's LOEO metrics on the chosen set, if recorded


def select_feature_set(dataset: Dataset, seed: int = 0, task: Task | None = None, use_record: bool = True) -> Selection:
    """The candidate feature set with the best grouped k-fold accuracy (experiments held out
    whole), every candidate's figure, and where the figures come from.

    The figures are a function of the training matrices, the seed and scikit-learn's version (up
    to tie-breaks of the forests' threaded votes: a few rows in 25,000), so the ones recorded for
    exactly these inputs (``selection_record()``: the bundled dataset, where a fresh install
    starts) are used instead of refitting; ``use_record=False`` always refits. The record also
    holds the first-start forest's LOEO figures, which the promotion gate needs.
    """
    task = ensure_task(task)
    matrices = candidate_matrices(dataset)
    if any(len(set(groups)) < 2 for _X, _y, groups in matrices.values()):
        return Selection(QUICK_FEATURE_SET, {}, "too few experiments to compare")
    key = selection_key(matrices, seed)
    entry = _recorded_entry(key) if use_record else None
    if entry is None:
        scores = _grouped_accuracies(matrices, seed, task)
        selection = Selection(_best(scores), scores, "computed")
    else:
        scores = {name: float(entry["scores"][name]) for name in QUICK_CANDIDATES}
        loeo = entry.get("first_start_loeo")
        selection = Selection(_best(scores), scores, f"recorded for these exact training rows "
                              f"({selection_record().name}, key {key[:12]})",
                              {name: float(value) for name, value in loeo.items()} if loeo else None)
    task.progress(1.0, "feature set chosen")
    return selection


def _best(scores: dict[str, float]) -> str:
    return max(scores, key=lambda name: (scores[name], name == QUICK_FEATURE_SET))


def quick_forest(seed: int = 0):
    """The first-start champion's recipe."""
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=QUICK_TREES, n_jobs=-1, random_state=seed, min_samples_leaf=2)


def candidate_matrices(dataset: Dataset) -> dict[str, tuple]:
    """(X, y, groups) of every candidate feature set."""
    samples = dataset.samples()
    return {name: training_matrix(samples, get_feature_set(name)) for name in QUICK_CANDIDATES}


def _grouped_accuracies(matrices: dict, seed: int, task: Task) -> dict[str, float]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GroupKFold, cross_val_predict

    scores = {}
    for index, (name, (X, y, groups)) in enumerate(matrices.items()):
        task.progress(index / len(matrices), f"{name}: grouped {SELECTION_FOLDS}-fold by experiment")
        forest = RandomForestClassifier(n_estimators=SELECTION_TREES, n_jobs=-1, random_state=seed, min_samples_leaf=2)
        cv = GroupKFold(min(SELECTION_FOLDS, len(set(groups))))
        predicted = cross_val_predict(forest, X, y, groups=groups, cv=cv)
        scores[name] = float((predicted == y).mean())
    return scores


def selection_key(matrices: dict, seed: int) -> str:
    """What the selection's figures (and the first-start forest's LOEO figures) depend on: every
    candidate's rows, labels and groups, the protocols, the recipes and scikit-learn's version."""
    import hashlib
    import json

    import numpy as np
    import sklearn

    digest = hashlib.sha256(json.dumps({"folds": SELECTION_FOLDS, "trees": SELECTION_TREES, "seed": seed,
                                        "min_samples_leaf": 2, "quick_trees": QUICK_TREES,
                                        "sklearn": sklearn.__version__}).encode())
    for name, arrays in sorted(matrices.items()):
        digest.update(name.encode())
        for array in arrays:
            digest.update(str((array.dtype, array.shape)).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def selection_record() -> Path:
    """Recorded selection figures (packaging/record_first_start_selection.py writes them)."""
    return resources_dir() / "models" / "first_start_selection.json"


def _recorded_entry(key: str) -> dict | None:
    import json

    try:
        entries = json.loads(selection_record().read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError) as error:
        log.warning("no recorded feature-set selection (%s): computing it", error)
        return None
    for entry in entries:
        if entry.get("key") == key and set(entry.get("scores", {})) == set(QUICK_CANDIDATES):
            return entry
    return None
