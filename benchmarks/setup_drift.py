"""Drift against the setup's own reference (monitoring/setup_drift.py) on the bundled runs, against the pooled check.

    .venv/bin/python benchmarks/setup_drift.py [--feature-set NAME] [--repeat N] [--json]

(a) experiments flagged by the pooled check (monitoring/drift.py: one profile of every training
    row) — each experiment against a reference of all 18;
(b) experiments flagged per setup, each against its setup's training runs (nearest run);
(c) per experiment a fault in a 60 s window — S1_CurrentFeedback x 1.15 (a gain), and
    S1_CurrentFeedback frozen at its first value (a stuck sensor) — flagged or not, and whether
    the top feature is S1_CurrentFeedback. The window is the 60 s (stride 1 s) with the most
    rows in whole phase stretches the reference has; a run shorter than 60 s is the window;
(d) false flags on every clean 60 s window (stride 10 s) of every run, and how many were judged;
(e) the reference: build time, JSON size, load time; ms per compare of a 6,000-row window (a
    machine cutting one part after the other: run 1 repeated) with every stretch new, and moved
    on by 10 s since the previous call (the live case: earlier stretches are remembered); the
    pooled compute_drift on it.

Both references are in-sample (every window's run is in them), as with a champion checked
against its own training data.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.setup import setups_of_rows
from cncwear_gui.features.sets import get_feature_set
from cncwear_gui.monitoring.drift import build_reference, compute_drift
from cncwear_gui.monitoring.setup_drift import MIN_PHASE_ROWS, SetupDriftReference, compare, phase_segments
from cncwear_gui.paths import bundled_dataset_dir

WINDOW = 600  # 60 s at 10 Hz
SIGNAL = "S1_CurrentFeedback"


def judged_rows(phases: np.ndarray) -> int:
    """Rows of a window in whole stretches long enough to be compared."""
    return sum(rows.size for rows in phase_segments(phases)[1:-1] if rows.size >= MIN_PHASE_ROWS)


def fault_window(phases: np.ndarray) -> slice:
    if len(phases) <= WINDOW:
        return slice(0, len(phases))
    starts = range(0, len(phases) - WINDOW + 1, 10)
    best = max(starts, key=lambda start: (judged_rows(phases[start:start + WINDOW]), -start))
    return slice(best, best + WINDOW)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature-set", default="signals", help="feature set (default signals, the first-start champion's)")
    parser.add_argument("--repeat", type=int, default=10, help="timed compare calls (default 10)")
    parser.add_argument("--json", action="store_true", help="the figures as one JSON object")
    args = parser.parse_args()

    samples = load_dataset([bundled_dataset_dir()]).samples(labelled_only=True)
    feature_set = get_feature_set(args.feature_set)
    features = feature_set.build(samples)
    experiments = samples["experiment"].to_numpy()
    phases = samples["phase"].to_numpy().astype(np.int64)
    setups = setups_of_rows(samples)
    numbers = sorted(set(experiments.tolist()))
    runs = {n: np.flatnonzero(experiments == n) for n in numbers}
    figures: dict = {"feature_set": feature_set.key}

    pooled = build_reference(features, feature_set.key, flags=samples["quality_flags"].to_numpy())
    flagged = [n for n in numbers if compute_drift(pooled, features.iloc[runs[n]]).drifted]
    figures["a_pooled_flagged"] = flagged

    started = time.perf_counter()
    reference = SetupDriftReference.build(samples, feature_set)
    build_s = time.perf_counter() - started
    text = json.dumps(reference.to_json())
    started = time.perf_counter()
    SetupDriftReference.from_json(json.loads(text))
    load_s = time.perf_counter() - started
    figures["e_reference"] = {"build_s": round(build_s, 3), "json_mb": round(len(text) / 1e6, 2),
                              "load_s": round(load_s, 3), "setups": len(reference.setups)}

    def judge(rows, values=None):
        window = features.iloc[rows] if values is None else values
        return compare(reference, window, phases[rows], setups[rows[0]])

    figures["b_setup_flagged"] = [n for n in numbers if judge(runs[n]).drifted]

    faults = []
    signal = features.columns.get_loc(SIGNAL)
    for n in numbers:
        rows = runs[n][fault_window(phases[runs[n]])]
        entry = {"experiment": n, "setup": setups[rows[0]], "judged_rows": judged_rows(phases[rows])}
        for fault in ("gain", "frozen"):
            window = features.iloc[rows].copy()
            column = window.iloc[:, signal].to_numpy()
            window.iloc[:, signal] = column * 1.15 if fault == "gain" else np.full(column.size, column[0])
            report = judge(rows, window)
            top = report.features[0] if report.features and report.features[0].psi is not None else None
            entry[fault] = {"flagged": report.drifted, "top": top and top.name,
                            "alarms": [f.name for f in report.alarms]}
        faults.append(entry)
    figures["c_faults"] = faults

    windows = judged = false_flags = 0
    named: dict[str, int] = {}
    for n in numbers:
        for start in range(0, max(len(runs[n]) - WINDOW, 0) + 1, 100):
            rows = runs[n][start:start + WINDOW]
            report = judge(rows)
            windows += 1
            judged += any(f.psi is not None for f in report.features)
            if report.drifted:
                false_flags += 1
                for feature in report.alarms:
                    named[feature.name] = named.get(feature.name, 0) + 1
    figures["d_clean_windows"] = {"windows": windows, "judged": judged, "flagged": false_flags, "alarm_features": named}

    rows = np.resize(runs[1], 6000 + args.repeat * 100)  # run 1 cut over and over
    setup = setups[rows[0]]
    parts = features.iloc[rows].copy()  # no two parts are exactly alike: 1e-9 A more on each
    parts.iloc[:, signal] += np.arange(len(rows)) // len(runs[1]) * 1e-9
    window, window_phases = parts.iloc[:6000], phases[rows[:6000]]
    compare(reference, window, window_phases, setup)  # warm-up (packs the profiles)
    cold, pooled_times, sliding = [], [], []
    for _ in range(args.repeat):
        reference._nearest.clear()  # every stretch compared afresh
        started = time.perf_counter()
        report = compare(reference, window, window_phases, setup)
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        compute_drift(pooled, window)
        pooled_times.append(time.perf_counter() - started)
    for step in range(1, args.repeat + 1):  # the live case: the window moved on by 10 s since the last call
        part = slice(step * 100, step * 100 + 6000)
        started = time.perf_counter()
        compare(reference, parts.iloc[part], phases[rows[part]], setup)
        sliding.append(time.perf_counter() - started)
    figures["e_compare_ms"] = {"cold_median": round(statistics.median(cold) * 1000, 1), "cold_max": round(max(cold) * 1000, 1),
                               "sliding_median": round(statistics.median(sliding) * 1000, 1),
                               "sliding_max": round(max(sliding) * 1000, 1),
                               "pooled_median": round(statistics.median(pooled_times) * 1000, 1),
                               "drifted": report.drifted}

    if args.json:
        print(json.dumps(figures, indent=1))
        return
    print(f"feature set {feature_set.key}; {len(numbers)} experiments, {len(reference.setups)} setups")
    print(f"(a) pooled reference: {len(flagged)}/{len(numbers)} experiments flagged {flagged}")
    print(f"(b) per setup, nearest run: {len(figures['b_setup_flagged'])}/{len(numbers)} flagged {figures['b_setup_flagged']}")
    print(f"(c) faults in a 60 s window on {SIGNAL} (flagged / top feature is {SIGNAL}):")
    for entry in faults:
        cells = [f"{fault} {'FLAGGED' if entry[fault]['flagged'] else 'missed '} top={entry[fault]['top']}"
                 for fault in ("gain", "frozen")]
        print(f"    exp {entry['experiment']:>2} {entry['setup']:<18} judged {entry['judged_rows']:>3} rows  " + "  ".join(cells))
    for fault in ("gain", "frozen"):
        hit = sum(e[fault]["flagged"] for e in faults)
        named_right = sum(e[fault]["flagged"] and e[fault]["top"] == SIGNAL for e in faults)
        print(f"    {fault}: flagged {hit}/{len(faults)}, top feature {SIGNAL} in {named_right} of them")
    clean = figures["d_clean_windows"]
    print(f"(d) clean 60 s windows: {clean['flagged']}/{clean['windows']} flagged ({clean['judged']} judged) {named or ''}")
    ref, ms = figures["e_reference"], figures["e_compare_ms"]
    print(f"(e) reference build {ref['build_s'] * 1000:.0f} ms, JSON {ref['json_mb']:.1f} MB, load {ref['load_s'] * 1000:.0f} ms; "
          f"compare of 6,000 rows: median {ms['cold_median']:.1f} ms (max {ms['cold_max']:.1f}) with every stretch new, "
          f"{ms['sliding_median']:.1f} ms (max {ms['sliding_max']:.1f}) moved on by 10 s since the last call; "
          f"pooled compute_drift {ms['pooled_median']:.1f} ms; drifted: {ms['drifted']}")


if __name__ == "__main__":
    main()
