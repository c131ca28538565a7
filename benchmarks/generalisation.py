"""Why leave-one-experiment-out (LOEO) accuracy on the bundled dataset cannot honestly reach 95 %.

    .venv/bin/python benchmarks/generalisation.py [--draws 5] [--sizes 4,8,12,17] [--seed 0] [--threads 1] [--json]

Four pieces of evidence, every model a HistGradientBoostingClassifier(random_state=0):

1. LOEO per feature set (signals, process): row accuracy, experiments whose tool verdict is
   correct (models/verdict.py), and the table per experiment.
2. Learning curve: train on k randomly drawn experiments (both tool conditions present), test
   on all the others; mean over ``--draws`` distinct draws per k (the same draws for signals,
   signals without the Z positions, and process). If the held-out accuracy does not climb with
   k, more runs of this kind would not help.
3. The setup fingerprint: the modal Z1_ActualPosition per cutting phase during cutting rows.
   Worn runs cut their layers at x.7 mm, unworn at x.5 mm (features/derived.py); a model given
   only that decimal digit and the phase, against ``signals`` without the two Z position columns.
4. Paired runs: experiments with the same feedrate and clamp pressure but a different tool
   condition; the median absolute load during cutting rows, worn run against unworn run.

"Cutting rows" are phases Layer 1 Up .. Layer 3 Down (codes 2..7), commanded XY path speed
> 0.5 and M1_CURRENT_FEEDRATE != 50 (the dataset's unreliable samples). ``--json`` prints the
figures as one JSON object instead of the tables. About 130 model fits.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.schema import PHASES
from cncwear_gui.features.derived import compute
from cncwear_gui.features.sets import FeatureSet, get_feature_set, training_matrix, training_rows
from cncwear_gui.models.evaluation import evaluate_loeo, experiment_verdicts
from cncwear_gui.paths import bundled_dataset_dir

FEATURE_SET_NAMES = ("signals", "process")
CUTTING_CODES = range(2, 8)  # Layer 1 Up .. Layer 3 Down
Z_POSITIONS = ("Z1_ActualPosition", "Z1_CommandPosition")
LOAD_SIGNALS = ("S1_CurrentFeedback", "S1_OutputPower", "X1_CurrentFeedback", "Y1_CurrentFeedback")


def signals_without_z() -> FeatureSet:
    signals = get_feature_set("signals")
    return FeatureSet(name="signals_without_z", version=0, description="signals minus the two Z positions",
                      columns=tuple(c for c in signals.columns if c not in Z_POSITIONS))


def model() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(random_state=0)


def cutting_rows(samples: pd.DataFrame) -> pd.DataFrame:
    keep = (samples["phase"].between(CUTTING_CODES.start, CUTTING_CODES.stop - 1)
            & (compute(samples, "path_speed_command") > 0.5)
            & (samples["M1_CURRENT_FEEDRATE"] != 50))
    return samples[keep]


def experiment_table(samples: pd.DataFrame) -> pd.DataFrame:
    return samples.groupby("experiment")[["worn", "feedrate", "clamp_pressure"]].first()


def loeo(X: np.ndarray, y: np.ndarray, groups: np.ndarray, experiments: pd.DataFrame) -> dict:
    evaluation = evaluate_loeo(model(), X, y, groups, refit=False)
    per_experiment = []
    for verdict in evaluation.verdicts:
        meta = experiments.loc[verdict.experiment]
        per_experiment.append({**verdict.to_json(), "feedrate": float(meta["feedrate"]),
                               "clamp_pressure": float(meta["clamp_pressure"])})
    return {"rows": len(y), "accuracy": round(evaluation.metrics["accuracy"], 4),
            "mcc": round(evaluation.metrics["mcc"], 4),
            "experiments_correct": evaluation.experiments_correct, "experiments": len(evaluation.verdicts),
            "per_experiment": per_experiment}


# 1 ------------------------------------------------------------------------------------------


def section_loeo(samples: pd.DataFrame, experiments: pd.DataFrame) -> dict:
    return {name: loeo(*training_matrix(samples, get_feature_set(name)), experiments) for name in FEATURE_SET_NAMES}


# 2 ------------------------------------------------------------------------------------------


def draw_training_sets(experiments: pd.DataFrame, sizes: list[int], draws: int, seed: int) -> dict[int, list[list[int]]]:
    rng = np.random.default_rng(seed)
    ids, worn = experiments.index.to_numpy(), experiments["worn"].to_numpy()
    out: dict[int, list[list[int]]] = {}
    for size in sizes:
        chosen: list[tuple[int, ...]] = []
        for _ in range(10_000):
            if len(chosen) == draws:
                break
            pick = np.sort(rng.choice(len(ids), size=size, replace=False))
            if len(set(worn[pick])) == 2 and tuple(pick) not in chosen:
                chosen.append(tuple(pick))
        out[size] = [[int(ids[i]) for i in pick] for pick in chosen]
    return out


def section_learning_curve(samples: pd.DataFrame, experiments: pd.DataFrame, sizes: list[int], draws: int,
                           seed: int) -> dict:
    training_sets = draw_training_sets(experiments, sizes, draws, seed)
    curves: dict[str, list[dict]] = {}
    for feature_set in (get_feature_set("signals"), signals_without_z(), get_feature_set("process")):
        X, y, groups = training_matrix(samples, feature_set)
        points = []
        for size, sets in training_sets.items():
            accuracies, verdicts_correct = [], []
            for train_ids in sets:
                train = np.isin(groups, train_ids)
                predicted = model().fit(X[train], y[train]).predict(X[~train])
                accuracies.append(float((predicted == y[~train]).mean()))
                verdicts = experiment_verdicts(groups[~train], y[~train], predicted)
                verdicts_correct.append(sum(v.correct for v in verdicts) / len(verdicts))
            points.append({"training_experiments": size, "draws": len(sets),
                           "accuracy_mean": round(float(np.mean(accuracies)), 4),
                           "accuracy_min": round(min(accuracies), 4), "accuracy_max": round(max(accuracies), 4),
                           "experiments_correct_share": round(float(np.mean(verdicts_correct)), 4)})
        curves[feature_set.name] = points
    return {"seed": seed, "training_sets": {str(k): v for k, v in training_sets.items()}, "curves": curves}


# 3 ------------------------------------------------------------------------------------------


def section_fingerprint(samples: pd.DataFrame, experiments: pd.DataFrame) -> dict:
    cut = cutting_rows(samples)
    modal = (cut.groupby(["experiment", "phase"])["Z1_ActualPosition"]
             .agg(lambda v: float(v.round(3).mode().iloc[0])).unstack())
    table = []
    for experiment, meta in experiments.iterrows():
        z = {PHASES[code]: (None if code not in modal.columns or pd.isna(modal.at[experiment, code])
                            else round(float(modal.at[experiment, code]), 3)) for code in CUTTING_CODES}
        digits = sorted({int(round((value * 10) % 10)) for value in z.values() if value is not None})
        table.append({"experiment": int(experiment), "true": "worn" if meta["worn"] else "unworn",
                      "modal_z": z, "decimal_digits": digits})
    digits_by_condition = {condition: sorted({d for row in table if row["true"] == condition for d in row["decimal_digits"]})
                           for condition in ("worn", "unworn")}

    signals = get_feature_set("signals")
    rows = training_rows(samples, signals)
    z_digit = np.round((rows["Z1_CommandPosition"].to_numpy(dtype=np.float64) * 10) % 10)
    X_digit = np.column_stack([z_digit, rows["phase"].to_numpy(dtype=np.float64)])
    y, groups = rows["worn"].to_numpy(dtype=np.int64), rows["experiment"].to_numpy()
    return {
        "table": table,
        "digits_by_condition": digits_by_condition,
        "z_digit_and_phase": loeo(X_digit, y, groups, experiments),
        "signals_without_z_positions": loeo(*training_matrix(samples, signals_without_z()), experiments),
    }


# 4 ------------------------------------------------------------------------------------------


def section_pairs(samples: pd.DataFrame, experiments: pd.DataFrame) -> dict:
    cut = cutting_rows(samples)
    medians = cut[["experiment", *LOAD_SIGNALS]].assign(**{c: cut[c].abs() for c in LOAD_SIGNALS}) \
        .groupby("experiment").median()
    counts = cut.groupby("experiment").size()
    pairs, paired = [], set()
    for (feedrate, clamp), group in experiments.groupby(["feedrate", "clamp_pressure"]):
        for unworn in group.index[group["worn"] == 0]:
            for worn in group.index[group["worn"] == 1]:
                paired |= {int(unworn), int(worn)}
                pairs.append({
                    "feedrate": float(feedrate), "clamp_pressure": float(clamp),
                    "unworn": int(unworn), "worn": int(worn),
                    "cutting_rows": {"unworn": int(counts.get(unworn, 0)), "worn": int(counts.get(worn, 0))},
                    "signals": {signal: {"unworn": round(float(medians.at[unworn, signal]), 4),
                                         "worn": round(float(medians.at[worn, signal]), 4),
                                         "worn_higher": bool(medians.at[worn, signal] > medians.at[unworn, signal])}
                                for signal in LOAD_SIGNALS},
                })
    pairs.sort(key=lambda p: (p["unworn"], p["worn"]))
    worn_higher = {signal: sum(p["signals"][signal]["worn_higher"] for p in pairs) for signal in LOAD_SIGNALS}
    return {"statistic": "median of |value| over cutting rows", "pairs": pairs, "worn_higher": worn_higher,
            "unpaired": [int(e) for e in experiments.index if int(e) not in paired]}


# output -------------------------------------------------------------------------------------


def print_loeo(title: str, result: dict) -> None:
    print(f"\n{title}: LOEO row accuracy {result['accuracy'] * 100:.2f} % over {result['rows']:,} rows, "
          f"MCC {result['mcc']:.3f}, experiments correct {result['experiments_correct']}/{result['experiments']}")
    print("    exp  tool    feed  clamp   rows  row acc  worn share  verdict  correct")
    for row in result["per_experiment"]:
        print(f"    {row['experiment']:>3}  {row['true']:<6}  {row['feedrate']:>4g}  {row['clamp_pressure']:>5g}  "
              f"{row['rows']:>5,}  {row['row_accuracy'] * 100:6.1f} %  {row['worn_share']:>10.2f}  "
              f"{row['predicted']:<7}  {'yes' if row['correct'] else 'NO'}")


def print_report(report: dict) -> None:
    print(f"{report['rows']:,} samples, {report['experiments']} experiments; HistGradientBoostingClassifier(random_state=0)")

    print("\n1. Leave-one-experiment-out per feature set")
    for name, result in report["loeo"].items():
        print_loeo(name, result)

    curve = report["learning_curve"]
    print(f"\n2. Learning curve: held-out accuracy vs training experiments "
          f"(distinct random draws, seed {curve['seed']}, tested on all other experiments)")
    print("    set                train exps  draws  row acc mean  (min .. max)      held-out exps correct")
    for name, points in curve["curves"].items():
        for p in points:
            print(f"    {name:<17}  {p['training_experiments']:>10}  {p['draws']:>5}  {p['accuracy_mean'] * 100:9.1f} %  "
                  f"({p['accuracy_min'] * 100:5.1f} .. {p['accuracy_max'] * 100:5.1f} %)  "
                  f"{p['experiments_correct_share'] * 100:8.0f} %")

    fp = report["fingerprint"]
    print("\n3. Setup fingerprint: modal Z1_ActualPosition (mm) per cutting phase, cutting rows only")
    print("    exp  tool    " + "  ".join(f"{PHASES[c]:>12}" for c in CUTTING_CODES) + "  decimals")
    for row in fp["table"]:
        cells = "  ".join(f"{'—' if v is None else f'{v:.1f}':>12}" for v in row["modal_z"].values())
        print(f"    {row['experiment']:>3}  {row['true']:<6}  {cells}  {','.join(map(str, row['decimal_digits']))}")
    d = fp["digits_by_condition"]
    print(f"    decimal digit of the cutting depth: worn runs {d['worn']}, unworn runs {d['unworn']}")
    for title, key in (("round((Z1_CommandPosition*10) % 10) + phase only", "z_digit_and_phase"),
                       ("signals without Z1_ActualPosition, Z1_CommandPosition", "signals_without_z_positions")):
        result = fp[key]
        print(f"    {title}: LOEO row accuracy {result['accuracy'] * 100:.2f} %, "
              f"experiments correct {result['experiments_correct']}/{result['experiments']}")
    print(f"    (signals with them, section 1: {report['loeo']['signals']['accuracy'] * 100:.2f} %, "
          f"{report['loeo']['signals']['experiments_correct']}/{report['loeo']['signals']['experiments']})")

    pairs = report["pairs"]
    print(f"\n4. Paired runs: same feedrate and clamp pressure, different tool; {pairs['statistic']}")
    short = {"S1_CurrentFeedback": "S1 current", "S1_OutputPower": "S1 power",
             "X1_CurrentFeedback": "X1 current", "Y1_CurrentFeedback": "Y1 current"}
    print("    unworn/worn  feed  clamp  cut rows   " + "  ".join(f"{short[s]:>21}" for s in LOAD_SIGNALS))
    for p in pairs["pairs"]:
        cells = "  ".join(
            f"{p['signals'][s]['unworn']:>8.4g} → {p['signals'][s]['worn']:>8.4g} {'↑' if p['signals'][s]['worn_higher'] else '↓'}"
            for s in LOAD_SIGNALS)
        rows = f"{p['cutting_rows']['unworn']}/{p['cutting_rows']['worn']}"
        print(f"    {p['unworn']:>6}/{p['worn']:<4}  {p['feedrate']:>4g}  {p['clamp_pressure']:>5g}  {rows:>9}   {cells}")
    n = len(pairs["pairs"])
    print("    worn higher than unworn: " + ", ".join(f"{short[s]} {k}/{n}" for s, k in pairs["worn_higher"].items()))
    print(f"    no partner: experiments {', '.join(map(str, pairs['unpaired']))}")
    print(f"\nruntime {report['runtime_s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=5, help="random draws per learning-curve point (default 5)")
    parser.add_argument("--sizes", default="4,8,12,17", help="training experiments per point (default 4,8,12,17)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the learning-curve draws (default 0)")
    parser.add_argument("--threads", type=int, default=1,
                        help="OpenMP threads per model fit (default 1: on a busy 2-core machine 2 threads ran 20x slower)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    started = time.perf_counter()
    samples = load_dataset([bundled_dataset_dir()]).samples()
    experiments = experiment_table(samples[samples["worn"] >= 0])
    if any(not 2 <= size < len(experiments) for size in sizes):
        parser.error(f"--sizes: each between 2 and {len(experiments) - 1}")
    with threadpool_limits(args.threads):
        report = {
            "rows": len(samples),
            "experiments": len(experiments),
            "model": "HistGradientBoostingClassifier(random_state=0)",
            "loeo": section_loeo(samples, experiments),
            "learning_curve": section_learning_curve(samples, experiments, sizes, args.draws, args.seed),
            "fingerprint": section_fingerprint(samples, experiments),
            "pairs": section_pairs(samples, experiments),
        }
    report["runtime_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
