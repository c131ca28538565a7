"""``cncwear champion``, ``benchmark``, ``train``, ``registry`` and ``promote``: the models and their registry."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from .base import EXIT_BAD_INPUT, EXIT_OK, BadInput, emit
from .common import NO_MANUAL_META, audit_url, explained_model, load_data, loaded_or_bad_input, print_reports, progress_printer, redact


def cmd_benchmark(args) -> int:
    from ..features.sets import FEATURE_SETS, get_feature_set
    from ..models.baselines import BASELINE_NAMES
    from ..models.benchmark import format_results, run_benchmarks

    if args.protocol == "paired":
        return _paired(args)
    if args.progress_json:
        raise BadInput("--progress-json: only with --protocol paired")
    protocols = ["seed", "loeo"] if args.protocol == "both" else [args.protocol]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in (*BASELINE_NAMES, "automl")]
    if unknown or not models:
        raise BadInput(f"--models: unknown model(s) {unknown}; known: {', '.join(BASELINE_NAMES)}, automl")
    if args.feature_set is None:  # every set; the AutoML row belongs to the talk's table
        args.feature_set = "seed_slides" if "automl" in models else "all"
    names = list(FEATURE_SETS) if args.feature_set == "all" else [n.strip() for n in args.feature_set.split(",") if n.strip()]
    try:
        feature_sets = [get_feature_set(name) for name in names]
    except KeyError as error:
        raise BadInput(f"--feature-set: {error.args[0]} (or 'all')") from None
    automl_config = None
    if "automl" in models:
        if len(feature_sets) != 1:
            raise BadInput("--models automl: give one --feature-set for the AutoML run")
        args.skip_loeo = "loeo" not in protocols
        args.feature_set = feature_sets[0].name
        automl_config = training_config(args, register=False)
    dataset = load_data(args.data or [], args)
    if not dataset.ok:
        emit(args, dataset.to_json(), lambda: print_reports(dataset))
        return EXIT_BAD_INPUT
    baselines = [m for m in models if m != "automl"]
    results = run_benchmarks(dataset, feature_sets, protocols, baselines, seed=args.seed, log_to_mlflow=not args.no_mlflow)
    if automl_config is not None:
        from ..models.benchmark import automl_rows

        args.progress_json = False
        results[0].rows = automl_rows(results[0].rows, _train(dataset, automl_config, args), protocols,
                                      automl_config.search)

    def text() -> None:
        print(format_results(results))
        if not args.no_mlflow:
            from ..store.tracking import tracking_uri

            print(f"\nlogged to MLflow: {redact(tracking_uri())} (experiment 'cncwear-benchmark'"
                  + (", AutoML runs in 'cncwear-training')" if automl_config else ")"))

    emit(args, {"protocols": protocols,
                "feature_sets": [result.to_json() for result in results],
                "rows": [row.to_json() for result in results for row in result.rows]}, text)
    return EXIT_OK


def _paired(args) -> int:
    """The paired protocol: the taught monitor on matched unworn/worn runs, the champion beside it."""
    from ..models.paired import model_training_files, paired_protocol, training_note
    from ..monitoring.teach_in import Limits
    from ..tasks import Task

    try:
        limits = Limits(args.warn_pct, args.alarm_pct, args.delay_windows)
    except ValueError as error:
        raise BadInput(f"--warn-pct/--alarm-pct/--delay-windows: {error}") from None
    if not 0.0 < args.threshold < 1.0:
        raise BadInput(f"--threshold: P(worn) threshold must be between 0 and 1, got {args.threshold:g}")
    task = Task(progress_printer(args))
    dataset = loaded_or_bad_input(args)
    model = None
    if not args.no_classifier:
        task.progress(0.0, "the champion (trained on first start)")
        model = explained_model("champion", lambda: dataset)
    report = paired_protocol(dataset, limits, model, args.threshold, task.child(0.1 if model else 0.0, 1.0))
    if model is not None:
        report.classifier_note = training_note(model_training_files(model.run_id), dataset)
    emit(args, {"paired": report.to_json()}, lambda: print(report.format_table()))
    return EXIT_OK


def cmd_champion(args) -> int:
    """Locate the registry's champion, training and registering a quick one when there is none."""
    from ..models.champion import resolve_champion
    from ..tasks import Task

    def fitted_first(reference) -> None:  # a first start's model, fitted and verified, still being registered
        emit(args, {"first_start": reference.to_json()})

    task = Task(progress_printer(args), fitted_first if args.progress_json else None)
    try:
        champion = resolve_champion(lambda: loaded_or_bad_input(args), task, audit_url())
    except ValueError as error:
        raise BadInput(str(error)) from None
    emit(args, {"champion": champion.to_json()},
         f"champion: {champion.name} v{champion.version} ({champion.engine}, trained {champion.trained_at})", indent=None)
    return EXIT_OK


def _dask_address(args) -> str | None:
    """--dask-scheduler, else the settings' scheduler for auto-sklearn runs (the app's Training view
    and pipeline start this command line); None: train on this machine."""
    if args.dask_scheduler:
        return args.dask_scheduler
    if args.engine != "auto-sklearn":
        return None
    from ..settings import load_settings

    return load_settings().dask_scheduler or None


def training_config(args, register: bool):
    from ..automl.config import SearchConfig
    from ..models.training import TrainingConfig

    protocols = ("seed",) if getattr(args, "skip_loeo", False) else ("seed", "loeo")
    config = TrainingConfig(
        engine=args.engine,
        search=SearchConfig(budget_s=args.budget, seed=args.search_seed, metric=args.search_metric,
                            resampling=args.resampling, workers=args.workers, dask_address=_dask_address(args),
                            search_space=args.search_space),
        feature_set=args.feature_set,
        protocols=protocols,
        register=register,
        promote=getattr(args, "promote", False),
        gate_protocol=args.protocol if args.command == "train" else "loeo",
        gate_metric=getattr(args, "metric", "accuracy"),
        gate_margin=getattr(args, "margin", 0.0),
        audit_url=audit_url(),
    )
    try:
        config.check()
        from ..features.sets import get_feature_set

        get_feature_set(config.feature_set)
    except KeyError as error:
        raise BadInput(f"--feature-set: {error.args[0]}") from None
    except ValueError as error:
        raise BadInput(str(error)) from None
    return config


def _train(dataset, config, args):
    """Run a training; unusable input (one class, too few rows) is the user's to fix: exit 2."""
    from .. import events
    from ..automl.jobs import AutoMLUnavailable
    from ..models.training import train
    from ..tasks import Task

    def on_event(event) -> None:
        if args.progress_json:
            events.emit({"event": event.kind, **event.data})
        elif not args.json and event.kind in ("best", "ensemble", "fold"):
            print(f"  {event.kind}: {json.dumps(event.data)}", file=sys.stderr, flush=True)

    task = Task(progress_printer(args))
    signal.signal(signal.SIGTERM, lambda *_: task.cancel())  # the GUI cancels a training child this way
    try:
        return train(dataset, config, task, on_event)
    except AutoMLUnavailable as error:
        raise BadInput(f"{error} (--engine flaml)") from None
    except ValueError as error:
        raise BadInput(str(error)) from None


def _with_floor_runs(dataset):
    """The data plus the floor-labelled runs of the settings' feature store (what the pipeline trains on)."""
    from ..store.feature_store import FeatureStore

    store = FeatureStore(audit_url())
    try:
        return store.training_dataset(dataset)
    except ValueError as error:
        raise BadInput(f"--floor-runs: {error}") from None
    finally:
        store.close()


def cmd_train(args) -> int:
    """Search with an AutoML engine, evaluate under both protocols, log to MLflow, maybe register."""
    config = training_config(args, register=args.register or args.promote)
    dataset = loaded_or_bad_input(args)
    if args.floor_runs:
        dataset = _with_floor_runs(dataset)
    result = _train(dataset, config, args)

    def text() -> None:
        print(f"engine {result.engine}, {result.trials} candidates in {result.search_seconds:.0f} s; feature set {result.feature_set}")
        for protocol, evaluation in result.evaluations.items():
            m = evaluation.metrics
            print(f"  {protocol:<5} accuracy {m['accuracy'] * 100:6.2f} %  F1 {m['f1']:.4f}  MCC {m['mcc']:.4f}  "
                  f"experiments {evaluation.experiments_correct}/{len(evaluation.verdicts)}")
        print(f"MLflow run {result.run_id}" + (f", registered as version {result.model_version}" if result.model_version else ""))
        if result.gate is not None:
            print(f"gate: {result.gate.to_json()['decision']} — {result.gate.reason}")
            if result.promoted:
                print(f"version {result.model_version} is now the champion")

    emit(args, {"training": result.to_json()}, text, indent=None)
    return EXIT_OK


def cmd_registry(args) -> int:
    """The registry's champion and challenger with the metrics their runs recorded."""
    from ..models.registry import registry_status
    from ..tasks import Task

    status = registry_status(Task(progress_printer(args)))

    def text() -> None:
        for role, model in (("champion", status.champion), ("challenger", status.challenger)):
            if model is None:
                print(f"{role}: none")
                continue
            figures = ", ".join(f"{k} {v:.4f}" for k, v in sorted(model.metrics.items()) if k.endswith("_accuracy"))
            print(f"{role}: v{model.version} ({model.engine}, trained {model.trained_at or '—'}) {figures}")

    emit(args, {"registry": status.to_json()}, text, indent=None)
    return EXIT_OK


def cmd_promote(args) -> int:
    """Run the promotion gate for the registered challenger; promote it when it passes."""
    from ..models.registry import promote_challenger
    from ..models.training import GATE_METRICS
    from ..tasks import Task

    if args.metric not in GATE_METRICS:
        raise BadInput(f"--metric must be one of {', '.join(GATE_METRICS)}")
    try:
        outcome = promote_challenger(loaded_or_bad_input(args), args.protocol, args.metric, args.margin,
                                     Task(progress_printer(args)), audit_url())
    except ValueError as error:
        raise BadInput(str(error)) from None
    emit(args, {"promotion": {"decision": outcome.decision.to_json(), "promoted": outcome.promoted,
                              "registry": outcome.registry.to_json()}},
         f"{'promoted' if outcome.promoted else 'not promoted'}: {outcome.decision.reason}", indent=None)
    return EXIT_OK


def add_search_options(parser: argparse.ArgumentParser, resampling: str = "grouped-holdout",
                       search_space: str = "all") -> None:
    search = parser.add_argument_group("AutoML search")
    search.add_argument("--engine", choices=["auto-sklearn", "flaml"], default="flaml",
                        help="auto-sklearn runs in the AutoML runtime (Linux, Python 3.9); FLAML runs anywhere")
    search.add_argument("--budget", type=int, default=60, metavar="SECONDS", help="search time budget")
    search.add_argument("--search-metric", default="accuracy", help="what the search optimises: accuracy, balanced_accuracy, f1, roc_auc")
    search.add_argument("--resampling", default=resampling, choices=["grouped-holdout", "grouped-cv", "holdout", "cv"],
                        help=f"how the search scores candidates (default {resampling}; grouped-* hold out whole "
                             f"experiments, holdout and cv split rows at random as in the talk)")
    search.add_argument("--search-seed", type=int, default=1)
    search.add_argument("--search-space", choices=["all", "tree-ensembles"], default=search_space,
                        help=f"all of the engine's models, or only forests and gradient boosting on the features as "
                             f"they are: more candidates fit in the budget, larger ensembles score more slowly "
                             f"(default {search_space})")
    search.add_argument("--workers", type=int, default=1, help="auto-sklearn: candidates fitted in parallel")
    search.add_argument("--dask-scheduler", metavar="ADDRESS",
                        help="auto-sklearn: fit candidates on this Dask cluster, e.g. tcp://host:8786 "
                             "(default: the settings' Dask scheduler, else this machine)")


def register(commands) -> None:
    champ = commands.add_parser("champion", help="show the registry's champion model; train one if there is none")
    champ.add_argument("--data", nargs="+", metavar="PATH", help="data to train on if needed (default: bundled)")
    champ.add_argument("--json", action="store_true")
    champ.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the champion")
    champ.set_defaults(func=cmd_champion, **NO_MANUAL_META)

    bench = commands.add_parser("benchmark", help="the talk's table under the seed and leave-one-experiment-out protocols")
    bench.add_argument("--data", nargs="+", metavar="PATH", help="folder or files (default: the bundled dataset)")
    bench.add_argument("--protocol", choices=["seed", "loeo", "both", "paired"], default="both",
                       help="paired: the taught monitor on matched unworn/worn runs of one setup, the champion beside it")
    bench.add_argument("--models", default="dt,rf,hgb", help="comma-separated: dt, rf, hgb, automl (default dt,rf,hgb)")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--feature-set", help="a feature set, a comma-separated list, or all (default; with automl: seed_slides)")
    bench.add_argument("--no-mlflow", action="store_true", help="do not log the baseline runs to MLflow (AutoML runs are always logged)")
    add_search_options(bench, resampling="holdout", search_space="tree-ensembles")  # the talk's table: accuracy only
    paired = bench.add_argument_group("--protocol paired (the taught monitor's limits: defaults unless given)")
    paired.add_argument("--warn-pct", type=float, default=15.0, help="warning at this %% over taught (default 15)")
    paired.add_argument("--alarm-pct", type=float, default=30.0, help="alarm limit at this %% over taught (default 30)")
    paired.add_argument("--delay-windows", type=int, default=3, help="consecutive 2 s windows over the alarm limit (default 3)")
    paired.add_argument("--threshold", type=float, default=0.5, help="the classifier's call: P(worn) >= this (default 0.5)")
    paired.add_argument("--no-classifier", action="store_true", help="the taught monitor only (no champion)")
    paired.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the report")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_benchmark, **NO_MANUAL_META)

    trainer = commands.add_parser("train", help="AutoML: search, evaluate (seed and loeo), log to MLflow, register a challenger")
    add_search_options(trainer)
    trainer.add_argument("--data", nargs="+", metavar="PATH", help="folder or files (default: the bundled dataset)")
    trainer.add_argument("--feature-set", default="signals", help="default: signals (what a live machine delivers)")
    trainer.add_argument("--protocol", choices=["seed", "loeo"], default="loeo", help="the promotion gate compares this protocol")
    trainer.add_argument("--metric", default="accuracy", help="the gate's metric: accuracy, f1, mcc, precision, recall")
    trainer.add_argument("--margin", type=float, default=0.0, help="promote when challenger >= champion - margin")
    trainer.add_argument("--register", action="store_true", help="register the model as challenger and run the gate")
    trainer.add_argument("--promote", action="store_true", help="as --register, and make it champion if the gate passes")
    trainer.add_argument("--floor-runs", action="store_true",
                         help="also train on the operators' floor-labelled runs in the feature store (as the pipeline does)")
    trainer.add_argument("--skip-loeo", action="store_true", help="evaluate the seed protocol only (faster; the gate then needs --protocol seed)")
    trainer.add_argument("--json", action="store_true")
    trainer.add_argument("--progress-json", action="store_true", help="JSON lines: progress and job events, then the result")
    trainer.set_defaults(func=cmd_train, **NO_MANUAL_META)

    registry = commands.add_parser("registry", help="the registry's champion and challenger with their recorded metrics")
    registry.add_argument("--json", action="store_true")
    registry.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the registry")
    registry.set_defaults(func=cmd_registry)

    promoter = commands.add_parser("promote", help="run the promotion gate for the challenger; promote it when it passes")
    promoter.add_argument("--data", nargs="+", metavar="PATH", help="data to evaluate an unrecorded champion on (default: bundled)")
    promoter.add_argument("--protocol", choices=["seed", "loeo"], default="loeo")
    promoter.add_argument("--metric", default="accuracy", help="accuracy, f1, mcc, precision, recall")
    promoter.add_argument("--margin", type=float, default=0.0, help="promote when challenger >= champion - margin")
    promoter.add_argument("--json", action="store_true")
    promoter.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the verdict")
    promoter.set_defaults(func=cmd_promote, **NO_MANUAL_META)
