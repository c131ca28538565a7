"""A global surrogate: a shallow decision tree fitted to the model's predictions (not the true
labels), honest only with its fidelity, its agreement with the model on held-out rows.

Both row sets are labelled by the model in ONE batched call. With ``choose_depth`` the depth is
the shallowest up to ``max_depth`` whose fidelity on a validation fifth of the training rows is
within 0.5 point of the best, so the held-out rows stay untouched by the choice.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ..tasks import Task, ensure_task
from .results import SurrogateResult

CHOICE_MARGIN = 0.005


def _tree(max_depth: int, min_samples_leaf: int, seed: int):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=seed)


def fit_surrogate(predict: Callable[[np.ndarray, Task], np.ndarray], X_train: np.ndarray, X_heldout: np.ndarray,
                  feature_names: list[str], class_names: tuple[str, ...], max_depth: int = 6,
                  min_samples_leaf: int = 1, choose_depth: bool = False, seed: int = 0,
                  task: Task | None = None) -> SurrogateResult:
    """``predict`` gives class indices (into ``class_names``) for a batch of rows."""
    from sklearn.tree import export_text

    task = ensure_task(task)
    started = time.perf_counter()
    task.progress(0.0, f"surrogate: the model labels {len(X_train) + len(X_heldout):,} rows")
    labels = predict(np.vstack([X_train, X_heldout]), task)
    y_train, y_heldout = labels[:len(X_train)], labels[len(X_train):]
    depth_fidelities = None
    depth = max_depth
    if choose_depth:
        order = np.random.default_rng(seed).permutation(len(X_train))
        valid, fit = order[: len(order) // 5], order[len(order) // 5:]
        depth_fidelities = {}
        for d in range(1, max_depth + 1):
            task.progress(0.1 + 0.6 * d / max_depth, f"surrogate: trying depth {d}")
            candidate = _tree(d, min_samples_leaf, seed).fit(X_train[fit], y_train[fit])
            depth_fidelities[str(d)] = float(np.mean(candidate.predict(X_train[valid]) == y_train[valid]))
        best = max(depth_fidelities.values())
        depth = min(int(d) for d, f in depth_fidelities.items() if f >= best - CHOICE_MARGIN)
    task.progress(0.75, f"surrogate: fitting a depth-{depth} tree")
    tree = _tree(depth, min_samples_leaf, seed).fit(X_train, y_train)
    names = [class_names[c] for c in tree.classes_]
    result = SurrogateResult(
        max_depth=max_depth,
        depth=int(tree.get_depth()),
        n_leaves=int(tree.get_n_leaves()),
        fidelity=float(np.mean(tree.predict(X_heldout) == y_heldout)),
        train_fidelity=float(np.mean(tree.predict(X_train) == y_train)),
        n_train=len(X_train),
        n_heldout=len(X_heldout),
        class_names=list(class_names),
        text=export_text(tree, feature_names=list(feature_names), class_names=names, max_depth=max(depth, 1)),
        nodes=tree_nodes(tree, feature_names, class_names),
        depth_fidelities=depth_fidelities,
        seconds=time.perf_counter() - started,
    )
    task.progress(1.0, "surrogate: done")
    return result


def tree_nodes(tree, feature_names: list[str], class_names: tuple[str, ...]) -> list[dict]:
    """The fitted tree as a list of node dicts (ids are sklearn's; left = the split holds)."""
    inner = tree.tree_
    parents, depths, paths = {0: None}, {0: 0}, {0: []}
    nodes = []
    for i in range(inner.node_count):
        left, right = int(inner.children_left[i]), int(inner.children_right[i])
        leaf = left == -1
        feature = None if leaf else feature_names[inner.feature[i]]
        threshold = None if leaf else float(inner.threshold[i])
        if not leaf:
            for kid, condition in ((left, f"{feature} <= {threshold:.6g}"), (right, f"{feature} > {threshold:.6g}")):
                parents[kid], depths[kid], paths[kid] = i, depths[i] + 1, paths[i] + [condition]
        counts = [0] * len(class_names)  # value holds class fractions (sklearn >= 1.4): back to counts
        for position, label in enumerate(tree.classes_):
            counts[int(label)] = int(round(inner.value[i][0][position] * inner.weighted_n_node_samples[i]))
        nodes.append({
            "id": i, "parent": parents[i], "depth": depths[i], "feature": feature, "threshold": threshold,
            "left": None if leaf else left, "right": None if leaf else right,
            "samples": int(inner.n_node_samples[i]), "class_counts": counts,
            "predicted": class_names[int(np.argmax(counts))],
            "rule": "" if leaf else f"{feature} <= {threshold:.6g}",
            "path": " and ".join(paths[i]), "leaf": leaf,
        })
    return nodes
