"""The benchmark: the talk's table per feature set under the seed and LOEO protocols, with each
feature set's leakage score, logged to MLflow."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field


from ..data.dataset import Dataset
from ..features.leakage import LeakageReport
from ..features.sets import FeatureSet, training_matrix
from ..tasks import Task, ensure_task
from .baselines import BASELINE_NAMES, make_baseline
from .evaluation import EVALUATORS, PROTOCOL_LABELS, Evaluation

log = logging.getLogger(__name__)
MLFLOW_EXPERIMENT = "cncwear-benchmark"


@dataclass
class BenchmarkRow:
    model: str
    protocol: str
    metrics: dict[str, float]
    fit_seconds: float
    feature_set: str
    experiments_correct: int | None = None
    experiments: int | None = None
    per_experiment: list[dict] = field(default_factory=list)
    run_id: str | None = None
    model_id: str | None = None
    name: str = ""  # shown in the table; defaults to the baseline's name
    search: dict | None = None  # AutoML rows: how the search was asked to run

    @property
    def label(self) -> str:
        return self.name or BASELINE_NAMES.get(self.model, self.model)

    def to_json(self) -> dict:
        row = {
            "model": self.model,
            "name": self.label,
            "protocol": self.protocol,
            **{k: round(v, 6) for k, v in self.metrics.items()},
            "fit_seconds": round(self.fit_seconds, 3),
            "feature_set": self.feature_set,
        }
        if self.protocol == "loeo":
            row["experiments_correct"] = self.experiments_correct
            row["experiments"] = self.experiments
        row["per_experiment"] = self.per_experiment
        row["mlflow_run_id"] = self.run_id
        if self.search is not None:
            row["search"] = self.search
        return row


def run_benchmark(
    dataset: Dataset,
    feature_set: FeatureSet,
    protocols: list[str],
    models: list[str],
    seed: int = 0,
    log_to_mlflow: bool = True,
    task: Task | None = None,
) -> list[BenchmarkRow]:
    """The rows of one feature set: every protocol x model."""
    task = ensure_task(task)
    X, y, groups = training_matrix(dataset.samples(), feature_set)
    rows: list[BenchmarkRow] = []
    jobs = [(protocol, code) for protocol in protocols for code in models]
    for index, (protocol, code) in enumerate(jobs):
        step = task.child(index / len(jobs), (index + 1) / len(jobs), f"{feature_set.name} / {protocol} / {code}: ")
        estimator = make_baseline(code, seed=seed)
        kwargs = {"seed": seed} if protocol == "seed" else {}
        evaluation = EVALUATORS[protocol](estimator, X, y, groups, task=step, **kwargs)
        row = _row(code, evaluation, feature_set)
        if log_to_mlflow:
            _log_row(row, evaluation, feature_set, dataset, seed, len(y))
        rows.append(row)
    task.progress(1.0, "benchmark done")
    return rows


@dataclass
class FeatureSetResult:
    """One feature set's rows and its leakage check."""

    feature_set: FeatureSet
    leakage: LeakageReport
    rows: list[BenchmarkRow]

    def summary(self) -> list[dict]:
        """Per model: seed accuracy, LOEO row accuracy and experiments correct by verdict."""
        by_model: dict[str, dict] = {}
        for row in self.rows:
            entry = by_model.setdefault(row.model, {"model": row.model, "name": row.label})
            entry[f"{row.protocol}_accuracy"] = round(row.metrics["accuracy"], 6)
            if row.protocol == "loeo":
                entry["loeo_experiments_correct"] = row.experiments_correct
                entry["experiments"] = row.experiments
        return list(by_model.values())

    def to_json(self) -> dict:
        fs = self.feature_set
        return {
            "feature_set": fs.key,
            "description": fs.description,
            "features": len(fs.columns),
            "uses_experiment_constants": fs.uses_experiment_constants,
            "setup_dependent_columns": fs.setup_dependent_columns,
            "leakage_score": round(self.leakage.score, 4),
            "leakage": self.leakage.to_json(),
            "models": self.summary(),
        }


def run_benchmarks(dataset: Dataset, feature_sets: list[FeatureSet], protocols: list[str], models: list[str],
                   seed: int = 0, log_to_mlflow: bool = True, task: Task | None = None) -> list[FeatureSetResult]:
    """``run_benchmark`` for each feature set, each with its leakage check first."""
    from ..features.leakage import feature_set_leakage

    task = ensure_task(task)
    samples = dataset.samples()
    results = []
    for index, feature_set in enumerate(feature_sets):
        part = task.child(index / len(feature_sets), (index + 1) / len(feature_sets))
        leakage = feature_set_leakage(samples, feature_set, task=part.child(0.0, 0.1, f"{feature_set.name} leakage: "))
        rows = run_benchmark(dataset, feature_set, protocols, models, seed, log_to_mlflow, part.child(0.1, 1.0))
        results.append(FeatureSetResult(feature_set, leakage, rows))
    return results


def _row(code: str, evaluation: Evaluation, feature_set: FeatureSet) -> BenchmarkRow:
    verdicts = evaluation.verdicts
    return BenchmarkRow(
        model=code,
        protocol=evaluation.protocol,
        metrics=evaluation.metrics,
        fit_seconds=evaluation.fit_seconds,
        feature_set=feature_set.key if feature_set is not None else "",
        experiments_correct=evaluation.experiments_correct if evaluation.protocol == "loeo" else None,
        experiments=len(verdicts) if evaluation.protocol == "loeo" else None,
        per_experiment=[v.to_json() for v in verdicts],
    )


def _log_row(row: BenchmarkRow, evaluation: Evaluation, feature_set: FeatureSet, dataset: Dataset, seed: int, n_rows: int) -> None:
    from ..store.tracking import ensure_experiment, log_trusted_model, mlflow_client

    mlflow = mlflow_client()
    experiment_id = ensure_experiment(MLFLOW_EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{row.model}-{row.protocol}") as run:
        mlflow.set_tags(
            {
                "cncwear.protocol": row.protocol,
                "cncwear.protocol_note": PROTOCOL_LABELS[row.protocol],
                "cncwear.model": BASELINE_NAMES[row.model],
                "cncwear.feature_set": feature_set.key,
                "cncwear.feature_set_fingerprint": feature_set.fingerprint,
                "cncwear.uses_experiment_constants": str(feature_set.uses_experiment_constants).lower(),
                "cncwear.dataset_files": ",".join(sorted(e.sha256[:12] for e in dataset.experiments.values())),
            }
        )
        mlflow.log_params({"model": row.model, "protocol": row.protocol, "seed": seed, "rows": n_rows, **_estimator_params(evaluation.model)})
        metrics = {**row.metrics, "fit_seconds": row.fit_seconds}
        if row.protocol == "loeo":
            metrics["experiments_correct"] = row.experiments_correct
            metrics["experiments"] = row.experiments
        mlflow.log_metrics(metrics)
        mlflow.log_dict({"per_experiment": row.per_experiment}, "per_experiment.json")
        logged = log_trusted_model(evaluation.model, name="model")
        row.run_id = run.info.run_id
        row.model_id = logged.model_id


def automl_rows(rows: list[BenchmarkRow], result, protocols: list[str], search=None) -> list[BenchmarkRow]:
    """The baseline rows plus the AutoML training run's (a training.TrainingResult), by protocol;
    ``search``, the run's SearchConfig, is described under the table when given."""
    name = {"auto-sklearn": "auto-sklearn", "flaml": "FLAML"}[result.engine]
    extra = []
    for protocol in protocols:
        evaluation = result.evaluations[protocol]
        row = _row("automl", evaluation, None)
        row.name, row.feature_set, row.run_id = name, result.feature_set, result.run_id
        row.fit_seconds = result.search_seconds
        if search is not None:
            row.search = {"budget_s": search.budget_s, "resampling": search.resampling,
                          "search_space": search.search_space, "metric": search.metric, "seed": search.seed}
        extra.append(row)
    return sorted(rows + extra, key=lambda r: protocols.index(r.protocol))


def _estimator_params(model) -> dict:
    params = model.get_params()
    keep = ("n_estimators", "max_depth", "max_features", "criterion", "random_state")
    return {k: params[k] for k in keep if k in params}


def format_results(results: list[FeatureSetResult]) -> str:
    """Per feature set: what it is, its leakage check, and the table."""
    blocks = []
    for result in results:
        fs = result.feature_set
        lines = [f"== feature set {fs.key} ({len(fs.columns)} features): {fs.description}",
                 f"   leakage: {result.leakage.message}"]
        if fs.setup_dependent_columns:
            lines.append(f"   setup-dependent: {len(fs.setup_dependent_columns)} column(s) place samples in machine "
                         f"coordinates or the NC program (e.g. {', '.join(fs.setup_dependent_columns[:3])}); "
                         f"LOEO cannot tell wear from setup when they move together")
        if fs.uses_experiment_constants:
            lines.append("   uses train.csv's per-experiment constants: its seed figures measure recognising the run")
        blocks.append("\n".join(lines) + "\n\n" + format_table(result.rows))
    return "\n\n".join(blocks)


def format_table(rows: list[BenchmarkRow]) -> str:
    """The talk's table, one block per protocol (LOEO first), with what each protocol means."""
    lines = []
    for protocol in sorted(dict.fromkeys(r.protocol for r in rows), key=lambda p: p != "loeo"):
        lines.append(PROTOCOL_LABELS[protocol])
        header = f"  {'model':<19}{'Accuracy':>10}{'Precision':>11}{'Recall':>9}{'F1':>9}{'MCC':>9}{'fit s':>8}"
        if protocol == "loeo":
            header += f"{'experiments':>13}"
        lines.append(header)
        for r in (r for r in rows if r.protocol == protocol):
            m = r.metrics
            line = (
                f"  {r.label:<19}{m['accuracy'] * 100:>9.2f}%{m['precision']:>11.4f}"
                f"{m['recall']:>9.4f}{m['f1']:>9.4f}{m['mcc']:>9.4f}{r.fit_seconds:>8.2f}"
            )
            if protocol == "loeo":
                line += f"{f'{r.experiments_correct}/{r.experiments}':>13}"
            lines.append(line)
        lines.append("")
    searched = next((r for r in rows if r.search), None)  # one search, shown in each protocol's AutoML row
    if searched is not None:
        s = searched.search
        lines.append(f"{searched.label} search: {s['budget_s']} s budget, {s['resampling']} resampling, "
                     f"{s['search_space']} search space, optimising {s['metric']}, seed {s['seed']}.")
    if any(r.model == "automl" for r in rows):
        lines.append(
            "AutoML rows: 'fit s' is the whole run (search within the budget on the seed training rows,\n"
            "then evaluation); loeo refits the pipeline found once per left-out experiment. That search\n"
            "saw rows of every experiment, so the AutoML loeo figure is not nested and leans optimistic;\n"
            "the baselines have fixed settings and need no tuning.\n"
        )
    if any(r.protocol == "seed" for r in rows) and any(r.protocol == "loeo" for r in rows):
        lines.append(
            "The seed split shares neighbouring 100 ms samples of each run between train and test;\n"
            "LOEO is what to expect on the next, unseen tool."
        )
    return "\n".join(lines)
