"""Drift check of a 10-minute live window (6,000 rows at 10 Hz; target <= 100 ms) and reference build time.

    .venv/bin/python benchmarks/drift.py [--repeat N] [--rows N] [--feature-set NAME]

The window is 6,000 consecutive real samples (they span several experiments), with their real
quality flags and the P(worn) of a small decision tree, so every part of compute_drift runs.
The reference is built from the whole bundled dataset.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sklearn.tree import DecisionTreeClassifier

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.features.sets import DEFAULT_FEATURE_SET, get_feature_set
from cncwear_gui.monitoring.drift import build_reference, compute_drift
from cncwear_gui.paths import bundled_dataset_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="compute_drift repetitions (default 10)")
    parser.add_argument("--rows", type=int, default=6000, help="window rows (default 6,000 = 10 min at 10 Hz)")
    parser.add_argument("--feature-set", default=DEFAULT_FEATURE_SET, help=f"feature set (default {DEFAULT_FEATURE_SET})")
    args = parser.parse_args()

    samples = load_dataset([bundled_dataset_dir()]).samples()
    feature_set = get_feature_set(args.feature_set)
    features = feature_set.build(samples)
    flags = samples["quality_flags"].to_numpy()
    labelled = samples["worn"].to_numpy() >= 0
    model = DecisionTreeClassifier(max_depth=8, random_state=0).fit(features[labelled], samples["worn"][labelled])
    probabilities = model.predict_proba(features)[:, 1]

    started = time.perf_counter()
    reference = build_reference(features, feature_set.key, worn_probability=probabilities, flags=flags)
    build_time = time.perf_counter() - started

    start = (len(features) - args.rows) // 2
    window = slice(start, start + args.rows)
    window_features = features.iloc[window]
    compute_drift(reference, window_features, probabilities[window], flags[window])  # warm-up
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        report = compute_drift(reference, window_features, probabilities[window], flags[window])
        times.append(time.perf_counter() - started)

    rows, columns = window_features.shape
    print(f"reference: {len(features):,} rows x {len(feature_set.columns)} columns ({feature_set.key})")
    print(f"build_reference (full dataset): {build_time * 1000:.1f} ms")
    print(
        f"compute_drift on {rows:,} x {columns} window, {args.repeat} runs: "
        f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms  (target <= 100 ms)"
    )
    print(f"window drifted: {report.drifted}; {len(report.alarms)} feature(s) at alarm level")


if __name__ == "__main__":
    main()
