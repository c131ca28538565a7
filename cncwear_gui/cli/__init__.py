"""The ``cncwear`` command: every capability headless, with ``--json`` output.

Exit codes: 0 success, 2 bad input (the message names file, line and column), 1 other failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import signal
import sys

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
log = logging.getLogger("cncwear")


class BadInput(Exception):
    """Input the user must fix; reported with exit code 2."""


def _add_data_paths(parser: argparse.ArgumentParser, nargs: str = "*") -> None:
    parser.add_argument("paths", nargs=nargs, metavar="PATH", help="experiment files and/or folders (default: the bundled dataset)")
    manual = parser.add_argument_group("metadata entered by hand (for a single experiment file without train.csv)")
    manual.add_argument("--experiment", type=int, help="experiment number")
    manual.add_argument("--feedrate", type=float)
    manual.add_argument("--clamp-pressure", type=float)
    manual.add_argument("--tool-condition", choices=["worn", "unworn", "unknown"])
    manual.add_argument("--material", default="wax")


# Commands without the manual-metadata options still pass through _load(), which reads these.
NO_MANUAL_META = {"experiment": None, "feedrate": None, "clamp_pressure": None, "tool_condition": None, "material": "wax"}


def _manual_meta(args):
    if args.experiment is None:
        given = [o for o in ("feedrate", "clamp_pressure", "tool_condition") if getattr(args, o) is not None]
        if given:
            raise BadInput(f"--{given[0].replace('_', '-')} needs --experiment as well")
        return None
    from ..data.metadata import ExperimentMeta

    condition = None if args.tool_condition in (None, "unknown") else args.tool_condition
    return ExperimentMeta(
        experiment=args.experiment,
        material=args.material,
        feedrate=args.feedrate if args.feedrate is not None else math.nan,
        clamp_pressure=args.clamp_pressure if args.clamp_pressure is not None else math.nan,
        tool_condition=condition,
        source="manual",
    )


def _load(paths: list[str], args):
    from ..data.dataset import load_dataset
    from ..paths import bundled_dataset_dir

    return load_dataset(paths or [bundled_dataset_dir()], manual_meta=_manual_meta(args))


def _print_reports(dataset) -> None:
    for report in dataset.reports:
        label = f"experiment {report.experiment}" if report.experiment is not None else report.kind
        print(f"{report.status.upper():9} {report.path}  ({label}, {report.rows} rows)")
        for problem in report.errors:
            print(f"  error: {problem.located(report.path)}")
        for problem in report.warnings:
            print(f"  warning: {problem.located(report.path)}")
        raised = {k: v for k, v in report.flags.items() if v}
        if raised:
            print("  flags: " + ", ".join(f"{k}={v}" for k, v in raised.items()))
    print(f"{len(dataset.experiments)} experiment(s), {dataset.rows} rows usable")


def cmd_validate(args) -> int:
    dataset = _load(args.paths, args)
    if args.json:
        print(json.dumps(dataset.to_json(), indent=2))
    else:
        _print_reports(dataset)
    return EXIT_OK if dataset.ok else EXIT_BAD_INPUT


def cmd_import(args) -> int:
    from ..store.feature_store import FeatureStore, ImportRejected

    dataset = _load(args.paths, args)
    store = FeatureStore(args.store)
    try:
        result = store.import_dataset(dataset)
    except ImportRejected as error:
        if args.json:
            print(json.dumps({"error": str(error), **dataset.to_json()}, indent=2))
        else:
            _print_reports(dataset)
        print(f"cncwear import: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        store.close()
    if args.json:
        print(json.dumps({"store": _redact(store.url), **result.to_json(), **dataset.to_json()}, indent=2))
    else:
        for entry in result.imported:
            print(f"imported  experiment {entry['experiment']:>3} v{entry['version']}  {entry['rows']:>5} rows  {entry['file']}")
        for entry in result.unchanged:
            print(f"unchanged experiment {entry['experiment']:>3} v{entry['version']}  {entry['file']}")
        print(f"store: {_redact(store.url)}")
    return EXIT_OK


def cmd_benchmark(args) -> int:
    from ..features.sets import FEATURE_SETS, get_feature_set
    from ..models.baselines import BASELINE_NAMES
    from ..models.benchmark import format_results, run_benchmarks

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
        automl_config = _training_config(args, register=False)
    dataset = _load(args.data or [], args)
    if not dataset.ok:
        if args.json:
            print(json.dumps(dataset.to_json(), indent=2))
        else:
            _print_reports(dataset)
        return EXIT_BAD_INPUT
    baselines = [m for m in models if m != "automl"]
    results = run_benchmarks(dataset, feature_sets, protocols, baselines, seed=args.seed, log_to_mlflow=not args.no_mlflow)
    if automl_config is not None:
        from ..models.benchmark import automl_rows

        args.progress_json = False
        results[0].rows = automl_rows(results[0].rows, _train(dataset, automl_config, args), protocols,
                                      automl_config.search)
    if args.json:
        print(json.dumps({"protocols": protocols,
                          "feature_sets": [result.to_json() for result in results],
                          "rows": [row.to_json() for result in results for row in result.rows]}, indent=2))
    else:
        print(format_results(results))
        if not args.no_mlflow:
            from ..store.tracking import tracking_uri

            print(f"\nlogged to MLflow: {_redact(tracking_uri())} (experiment 'cncwear-benchmark'"
                  + (", AutoML runs in 'cncwear-training')" if automl_config else ")"))
    return EXIT_OK


def _print_progress(args):
    """A progress callback printing JSON lines with --progress-json, silent otherwise."""
    def report(fraction: float, message: str) -> None:
        if args.progress_json:
            print(json.dumps({"progress": round(fraction, 4), "message": message}), flush=True)

    return report


def cmd_champion(args) -> int:
    """Locate the registry's champion, training and registering a quick one when there is none."""
    from ..models.champion import resolve_champion
    from ..tasks import Task

    try:
        champion = resolve_champion(lambda: _loaded_or_bad_input(args), Task(_print_progress(args)), _audit_url())
    except ValueError as error:
        raise BadInput(str(error)) from None
    if args.progress_json or args.json:
        print(json.dumps({"champion": champion.to_json()}), flush=True)
    else:
        print(f"champion: {champion.name} v{champion.version} ({champion.engine}, trained {champion.trained_at})")
    return EXIT_OK


def _audit_url() -> str | None:
    """The audit trail's store for promotions: the settings' feature store (None: the default)."""
    from ..settings import load_settings

    return load_settings().feature_store_url or None


def _dask_address(args) -> str | None:
    """--dask-scheduler, else the settings' scheduler for auto-sklearn runs (the app's Training view
    and pipeline start this command line); None: train on this machine."""
    if args.dask_scheduler:
        return args.dask_scheduler
    if args.engine != "auto-sklearn":
        return None
    from ..settings import load_settings

    return load_settings().dask_scheduler or None


def _training_config(args, register: bool):
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
        audit_url=_audit_url(),
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


def _loaded_or_bad_input(args):
    dataset = _load(args.data or [], args)
    if not dataset.ok:
        rejected = next(r for r in dataset.reports if not r.usable)
        raise BadInput(f"{rejected.errors[0].located(rejected.path)}")
    return dataset


def _train(dataset, config, args):
    """Run a training; unusable input (one class, too few rows) is the user's to fix: exit 2."""
    from ..automl.jobs import AutoMLUnavailable
    from ..models.training import train
    from ..tasks import Task

    def on_event(event) -> None:
        if args.progress_json:
            print(json.dumps({"event": event.kind, **event.data}), flush=True)
        elif not args.json and event.kind in ("best", "ensemble", "fold"):
            print(f"  {event.kind}: {json.dumps(event.data)}", file=sys.stderr, flush=True)

    task = Task(_print_progress(args))
    signal.signal(signal.SIGTERM, lambda *_: task.cancel())  # the GUI cancels a training child this way
    try:
        return train(dataset, config, task, on_event)
    except AutoMLUnavailable as error:
        raise BadInput(f"{error} (--engine flaml)") from None
    except ValueError as error:
        raise BadInput(str(error)) from None


def cmd_train(args) -> int:
    """Search with an AutoML engine, evaluate under both protocols, log to MLflow, maybe register."""
    config = _training_config(args, register=args.register or args.promote)
    result = _train(_loaded_or_bad_input(args), config, args)
    if args.json or args.progress_json:
        print(json.dumps({"training": result.to_json()}), flush=True)
        return EXIT_OK
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
    return EXIT_OK


def cmd_registry(args) -> int:
    """The registry's champion and challenger with the metrics their runs recorded."""
    from ..models.registry import registry_status
    from ..tasks import Task

    status = registry_status(Task(_print_progress(args)))
    if args.json or args.progress_json:
        print(json.dumps({"registry": status.to_json()}), flush=True)
        return EXIT_OK
    for role, model in (("champion", status.champion), ("challenger", status.challenger)):
        if model is None:
            print(f"{role}: none")
            continue
        figures = ", ".join(f"{k} {v:.4f}" for k, v in sorted(model.metrics.items()) if k.endswith("_accuracy"))
        print(f"{role}: v{model.version} ({model.engine}, trained {model.trained_at or '—'}) {figures}")
    return EXIT_OK


def cmd_promote(args) -> int:
    """Run the promotion gate for the registered challenger; promote it when it passes."""
    from ..models.registry import promote_challenger
    from ..models.training import GATE_METRICS
    from ..tasks import Task

    if args.metric not in GATE_METRICS:
        raise BadInput(f"--metric must be one of {', '.join(GATE_METRICS)}")
    try:
        outcome = promote_challenger(_loaded_or_bad_input(args), args.protocol, args.metric, args.margin,
                                     Task(_print_progress(args)), _audit_url())
    except ValueError as error:
        raise BadInput(str(error)) from None
    if args.json or args.progress_json:
        print(json.dumps({"promotion": {"decision": outcome.decision.to_json(), "promoted": outcome.promoted,
                                        "registry": outcome.registry.to_json()}}), flush=True)
        return EXIT_OK
    print(f"{'promoted' if outcome.promoted else 'not promoted'}: {outcome.decision.reason}")
    return EXIT_OK


EXPLAIN_METHODS = ("lime", "shap", "anchor", "ice", "pdp", "surrogate")


def _explained_model(spec: str, dataset):
    """The champion (trained on first start) or the model a run logged, loaded for explaining."""
    from ..models.champion import find_run_model, load_active_model, resolve_champion
    from ..store.tracking import ModelTrustError

    try:
        reference = resolve_champion(dataset, audit_url=_audit_url()) if spec == "champion" else find_run_model(spec)
        return load_active_model(reference)
    except (LookupError, ModelTrustError) as error:
        raise BadInput(f"--model {spec}: {error}") from None


def cmd_explain(args) -> int:
    """Explain one sample (LIME, SHAP, Anchor) or the model (ICE/PDP, surrogate); optionally a report."""
    from ..explain.service import ExplanationService, SampleNotFound

    if args.file and args.data:
        raise BadInput("give either --file (one experiment file) or --data, not both")
    if args.file:
        args.data = [args.file]
    dataset = _loaded_or_bad_input(args)
    experiment = args.experiment_number
    if experiment is None:
        if len(dataset.experiments) != 1:
            raise BadInput("--experiment is needed when the data holds more than one experiment")
        experiment = next(iter(dataset.experiments))
    methods = [m for m in EXPLAIN_METHODS if m != "pdp"] if args.method == "all" else [args.method]  # ice holds the PDP
    service = ExplanationService(_explained_model(args.model, dataset), dataset)
    feature = args.feature or ("X1_OutputCurrent" if "X1_OutputCurrent" in service.feature_names else service.feature_names[0])
    if feature not in service.feature_names:
        raise BadInput(f"--feature: '{feature}' is not a feature of {service.model.feature_set.key}; "
                       f"e.g. {', '.join(service.feature_names[:5])}")
    try:
        sample = service.sample(experiment, args.row)
        results = {method: service.explain(method, experiment, args.row, feature=feature, centred=args.centred,
                                           depth=args.depth, threshold=args.threshold)
                   for method in methods}
        report = None
        if args.out:
            from ..explain.report import build_report

            report = build_report(service, experiment, args.row, feature=feature, depth=args.depth)
    except (SampleNotFound, ValueError, KeyError) as error:
        raise BadInput(str(error.args[0] if error.args else error)) from None
    if report is not None:
        _write_report(report, args.out)
    summary = service.summary(experiment, args.row) if {"shap", "anchor"} <= set(results) else None
    model = service.model
    if args.json:
        print(json.dumps({"model": {"name": model.name, "version": model.version, "engine": model.engine,
                                    "run_id": model.run_id, "feature_set": model.feature_set.key},
                          "sample": sample.to_json(), "summary": summary,
                          **{m: r.to_json() for m, r in results.items()}}, indent=1))
        return EXIT_OK
    print(f"{model.label} ({model.engine}) · {sample.label}")
    for method, result in results.items():
        print(f"\n[{method}] " + _describe(method, result))
    if summary:
        print(f"\n{summary}")
    if args.out:
        print(f"\nreport written to {args.out}")
    return EXIT_OK


def _describe(method: str, result) -> str:
    if method == "lime":
        lines = [f"predicted {result.predicted.upper()}; "
                 + ", ".join(f"P({n}) = {p:.3f}" for n, p in result.probabilities.items())
                 + f"; local fit R² {result.local_fit_score:.3f}"]
        lines += [f"  {weight:+.4f}  {condition}" for condition, weight in result.conditions]
    elif method == "shap":
        top = sorted(result.contributions, key=lambda c: -abs(c[2]))[:10]
        lines = [f"{result.explainer_kind}: base {result.base_value:.4f} + contributions = {result.model_output:.4f} "
                 f"P(worn) (additivity error {result.additivity_error:.1e})"]
        lines += [f"  {shap:+.4f}  {name} = {value:.4g}" for name, value, shap in top]
    elif method == "anchor":
        lines = [f"IF {' AND '.join(result.rule) or '(empty rule)'} THEN {result.predicted.upper()}",
                 f"  precision {result.precision:.3f}, coverage {result.coverage:.3f}, threshold {result.threshold:.2f} "
                 + ("met" if result.threshold_met else "NOT met: do not read this rule as a reason")]
    elif method in ("ice", "pdp"):
        lines = [f"{result.feature}: PDP over {len(result.grid)} values (the mean of {len(result.ice)} "
                 + ("centred " if result.centred else "") + "ICE curves)"]
        lines += [f"  {x:12.4g}  {y:.4f}" for x, y in zip(result.grid, result.pdp)]
    else:
        lines = [f"depth {result.depth}: agrees with the model on {result.fidelity:.1%} of held-out samples "
                 f"({result.train_fidelity:.1%} on its own)", result.text]
    return "\n".join(lines)


def _write_report(report, out: str) -> None:
    from pathlib import Path

    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise BadInput(f"--out: '{out}' must end in .html or .pdf")
    if not path.parent.is_dir():
        raise BadInput(f"--out: the folder {path.parent} does not exist")
    if path.suffix.lower() == ".pdf":
        from ..ui.report_pdf import write_pdf

        write_pdf(report.html, path)
    else:
        report.write_html(path)


def _champion_with_reference(args):
    """The champion (trained on first start) and its training reference for drift checks."""
    from ..monitoring.reference import reference_for

    model = _explained_model("champion", lambda: _loaded_or_bad_input(args))
    return model, reference_for(model, lambda: _loaded_or_bad_input(args))


def _drift_report(paths: list[str], model, reference):
    from ..data.dataset import load_dataset
    from ..monitoring.reference import drift_of_samples

    dataset = load_dataset(paths)
    rejected = [r for r in dataset.reports if not r.usable]
    if rejected:
        raise BadInput(f"{rejected[0].errors[0].located(rejected[0].path)}")
    if not dataset.experiments:
        raise BadInput(f"no experiment files in {', '.join(paths)}")
    return drift_of_samples(model, reference, dataset.samples())


def cmd_drift(args) -> int:
    """Drift of experiment files against the champion's training data: per feature PSI and KS."""
    model, reference = _champion_with_reference(args)
    report = _drift_report(args.files, model, reference)
    if args.json:
        print(json.dumps({"model": model.label, **report.to_json()}, indent=2))
        return EXIT_OK
    print(f"{'DRIFTED' if report.drifted else 'no drift'}: {report.n_rows:,} rows of {', '.join(args.files)} "
          f"against {model.label}'s training data ({reference.n_rows:,} rows)")
    for reason in report.reasons:
        print(f"  {reason}")
    print(f"\n{'feature':28} {'group':8} {'PSI':>8} {'KS':>6}  level")
    for feature in report.top(args.top):
        psi = "n/a" if feature.psi is None else f"{feature.psi:8.3f}"
        ks = "n/a" if feature.ks is None else f"{feature.ks:6.3f}"
        print(f"{feature.name:28} {feature.group:8} {psi:>8} {ks:>6}  {feature.level}")
    return EXIT_OK


def _pipeline_config(args, settings):
    from ..paths import bundled_dataset_dir
    from ..pipeline.run import PipelineConfig

    data = list(args.data or ([settings.data_dir] if settings.data_dir else [str(bundled_dataset_dir())]))
    return PipelineConfig(data=data, engine=args.engine or settings.pipeline_engine,
                          budget_s=args.budget or settings.pipeline_budget_s, gate_margin=args.margin,
                          dask_address=settings.dask_scheduler or None,
                          audit_url=getattr(args, "store", None) or settings.feature_store_url or None)


def _check_trigger(args, settings, history, watching=False):
    """Whether the asked-for trigger fires now, and why.

    Watching, a missing champion only means there is nothing to judge yet; asked for by hand, it is an error.
    """
    import getpass

    from ..pipeline import triggers

    if args.trigger == "manual":
        return triggers.manual(getpass.getuser(), "the command line")
    if args.trigger == "schedule":
        return triggers.schedule(history, settings.pipeline_schedule_hours)
    if args.trigger == "new-data":
        return triggers.new_data(history, args.watch_dir or settings.pipeline_watch_dir)
    if args.trigger == "degradation":
        from ..models.champion import find_champion

        champion = find_champion()
        if champion is None and not watching:
            raise BadInput("--trigger degradation: there is no champion whose feedback could be judged")
        return triggers.degradation(history, champion and champion.version, settings.degradation_accuracy,
                                    settings.degradation_min_labels)
    if not args.new_data:
        raise BadInput("--trigger drift needs --new-data FILE... (the data to compare with the champion's training data)")
    model, reference = _champion_with_reference(args)
    return triggers.drift(_drift_report(args.new_data, model, reference), ", ".join(args.new_data))


def cmd_pipeline_run(args) -> int:
    """Check a trigger and, when it fires (or --force), run the automated pipeline once."""
    from ..pipeline.run import run_pipeline
    from ..settings import load_settings
    from ..store.pipeline_history import PipelineHistory
    from ..tasks import Task

    settings = load_settings()
    if args.budget is not None and args.budget < 1:
        raise BadInput("--budget must be a positive number of seconds")
    history = PipelineHistory(args.store or settings.feature_store_url or None)
    try:
        history.abandon_stale(older_than_s=24 * 3600)
        check = _check_trigger(args, settings, history)
        if not check.fires and not args.force:
            if args.trigger in ("drift", "degradation"):  # an evaluated condition: keep the record
                history.record(check.trigger, check.reason, "skipped", {"context": check.context, "skipped_because": "condition not met"})
            output = {"trigger": check.trigger, "fired": False, "reason": check.reason, "context": check.context}
            if args.json or args.progress_json:
                print(json.dumps(output, indent=None if args.progress_json else 2, default=str), flush=True)
            else:
                print(f"not fired: {check.reason}")
            return EXIT_OK
        reason = check.reason + (" (forced)" if not check.fires else "")
        config = _pipeline_config(args, settings)
        if check.trigger == "new-data":
            config.data.append(check.context["folder"])
            history.mark_seen(check.context["files"])
        task = Task(_print_progress(args))
        signal.signal(signal.SIGTERM, lambda *_: task.cancel())  # the GUI's Cancel: recorded, never half-written
        result = run_pipeline(check.trigger, reason, config, history, task, context=check.context)
    finally:
        history.close()
    if args.json or args.progress_json:
        print(json.dumps({"fired": True, **result.to_json()}, indent=None if args.progress_json else 2, default=str), flush=True)
    else:
        print(f"pipeline #{result.firing_id} ({result.trigger}): {result.status.upper()}")
        print(f"  why: {result.reason}")
        for step in result.steps:
            print(f"  {step.name:9} {step.status:6} {step.seconds:8.1f} s  "
                  + ", ".join(f"{k}={v}" for k, v in step.detail.items() if k not in ("traceback",))[:300])
        if result.error:
            print(f"  error: {result.error}")
    return EXIT_FAILURE if result.status == "failed" else EXIT_OK


def cmd_pipeline_watch(args) -> int:
    """Check the automatic triggers (schedule, new data, degradation) every interval; run the pipeline when one fires."""
    import time as clock

    from ..pipeline.run import run_pipeline
    from ..settings import load_settings
    from ..store.pipeline_history import PipelineHistory
    from ..tasks import Task

    if args.interval <= 0:
        raise BadInput("--interval must be above 0 seconds")
    stop = []
    task = Task(_print_progress(args))

    def on_sigterm(*_):
        stop.append(True)
        task.cancel()  # a pipeline in progress is recorded as cancelled; one being logged completes

    signal.signal(signal.SIGTERM, on_sigterm)
    started = clock.monotonic()
    while not stop and (args.duration is None or clock.monotonic() - started < args.duration):
        settings = load_settings()  # edits in the app's Settings apply without a restart
        history = PipelineHistory(args.store or settings.feature_store_url or None)
        try:
            history.abandon_stale(older_than_s=24 * 3600)
            for trigger in ("schedule", "new-data", "degradation"):
                args.trigger, args.new_data = trigger, None
                check = _check_trigger(args, settings, history, watching=True)
                if not check.fires:
                    continue
                config = _pipeline_config(args, settings)
                if trigger == "new-data":
                    config.data.append(check.context["folder"])
                    history.mark_seen(check.context["files"])
                result = run_pipeline(trigger, check.reason, config, history, task, context=check.context)
                print(json.dumps({"fired": True, "trigger": trigger, "firing_id": result.firing_id, "status": result.status,
                                  "reason": result.reason, "error": result.error}, default=str), flush=True)
                break  # one pipeline per round; the next round sees the others again
        finally:
            history.close()
        deadline = clock.monotonic() + args.interval
        while not stop and clock.monotonic() < deadline:
            clock.sleep(0.2)
    return EXIT_OK


def cmd_pipeline_history(args) -> int:
    from ..settings import load_settings
    from ..store.pipeline_history import PipelineHistory

    history = PipelineHistory(args.store or load_settings().feature_store_url or None)
    try:
        entries = history.firings(limit=args.limit)
    finally:
        history.close()
    if args.json:
        print(json.dumps([f.to_json() for f in entries], indent=2, default=str))
        return EXIT_OK
    for firing in entries:
        print(f"#{firing.id:<4} {firing.fired_at:%Y-%m-%d %H:%M:%S} {firing.trigger:11} {firing.status:9} {firing.reason[:110]}")
    if not entries:
        print("no pipeline firings recorded yet")
    return EXIT_OK


def cmd_pipeline_feedback(args) -> int:
    """Record whether a prediction was right (an inspected tool, a false alarm) for the degradation trigger."""
    from ..models.champion import find_champion
    from ..settings import load_settings
    from ..store.pipeline_history import PipelineHistory

    version = args.model_version
    if version is None:
        champion = find_champion()
        if champion is None:
            raise BadInput("there is no champion; give --model-version")
        version = champion.version
    history = PipelineHistory(args.store or load_settings().feature_store_url or None)
    try:
        for _ in range(args.count):
            history.add_feedback(args.machine, version, args.predicted == "worn", args.actual == "worn", args.source)
        accuracy, labels = history.feedback_accuracy(version, last=50)
    finally:
        history.close()
    print(f"recorded {args.count} label(s) for model v{version}; right on {accuracy:.0%} of the last {labels}")
    return EXIT_OK


def cmd_monitor(args) -> int:
    """The Monitoring view's data: champion, model statistics, training reference, triggers, history."""
    from ..pipeline.snapshot import monitoring_snapshot
    from ..settings import load_settings
    from ..tasks import Task

    snapshot = monitoring_snapshot(load_settings(), lambda: _loaded_or_bad_input(args), Task(_print_progress(args)))
    if args.json or args.progress_json:
        print(json.dumps({"snapshot": snapshot} if args.progress_json else snapshot, default=str), flush=True)
        return EXIT_OK
    model, statistics = snapshot["model"], snapshot["statistics"]
    print(f"model: {model['label']} ({model['engine']}, trained {model['trained_at']})")
    for protocol, figures in model["evaluation"].items():
        print(f"  {protocol}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(figures.items())))
    if statistics:
        print(f"statistics on {snapshot['statistics_source']}: accuracy {statistics['accuracy']:.4f}, "
              f"AUC {statistics['roc_auc'] if statistics['roc_auc'] is None else round(statistics['roc_auc'], 4)}, "
              f"TN {statistics['tn']} FP {statistics['fp']} FN {statistics['fn']} TP {statistics['tp']}")
    else:
        print(f"statistics: {snapshot['statistics_source']}")
    for check in snapshot["triggers"]:
        print(f"trigger {check['trigger']:11} {'FIRES' if check['fires'] else 'quiet'}: {check['reason']}")
    print(f"{len(snapshot['history'])} recorded pipeline firing(s); see 'cncwear pipeline history'")
    return EXIT_OK


DEMO_REPLAYS = {"mill-1": "experiment_01.csv", "mill-2": "experiment_06.csv", "mill-3": "experiment_11.csv",
                "mill-4": "experiment_18.csv"}


def _champion_follower(args, node, metrics):
    """Serve the champion that is promoted while serving: load it in a thread, swap it in, say so."""
    from ..live.champion_follower import ChampionFollower
    from ..models.champion import load_active_model
    from ..monitoring.model_info import describe_model
    from ..monitoring.reference import model_evaluation, reference_for

    def load(champion):
        model = load_active_model(champion)
        return model, reference_for(model, lambda: _loaded_or_bad_input(args))

    def changed(model):
        describe_model(metrics, model, model_evaluation(model.run_id))
        print(json.dumps({"event": "model", "model": model.label, "run_id": model.run_id}), flush=True)

    def failed(version, message):
        print(json.dumps({"event": "model-error", "version": version, "error": message,
                          "model": node.model.label}), flush=True)

    return ChampionFollower(node, node.model.version, load, changed, failed, args.champion_check)


def cmd_serve(args) -> int:
    """Headless node: live sources → scoring → alarms, logs, drift → the Prometheus endpoint, until SIGTERM."""
    from ..live.engine import LiveConfig, LiveNode, open_machine
    from ..live.sources import MachineSpec, SourceSpecError
    from ..monitoring.endpoint import MetricsAddress, MetricsEndpoint, MetricsEndpointError
    from ..monitoring.metrics import app_metrics
    from ..monitoring.model_info import describe_model
    from ..monitoring.reference import model_evaluation, reference_for
    from ..paths import bundled_dataset_dir
    from ..settings import load_settings

    logging.getLogger("asyncua").setLevel(logging.ERROR)  # outages are reported by the source's own log and health
    settings = load_settings()
    try:
        address = MetricsAddress.parse(args.metrics_addr or f"{settings.metrics_bind_address}:{settings.metrics_port}")
        specs = [MachineSpec.parse(text) for text in args.machine] or [
            MachineSpec.parse(f"{machine}=replay:{bundled_dataset_dir() / name}") for machine, name in DEMO_REPLAYS.items()]
    except (ValueError, SourceSpecError) as error:
        raise BadInput(str(error)) from None
    duplicates = {s.machine for s in specs if [t.machine for t in specs].count(s.machine) > 1}
    if duplicates:
        raise BadInput(f"--machine: machine id(s) {sorted(duplicates)} given more than once")
    if args.drift_interval <= 0:
        raise BadInput("--drift-interval must be above 0 seconds")
    if args.champion_check < 0:
        raise BadInput("--champion-check must be 0 (never) or a positive number of seconds")
    threshold = settings.worn_threshold if args.threshold is None else args.threshold
    if not 0 < threshold < 1:
        raise BadInput("--threshold must be between 0 and 1")
    config = LiveConfig(threshold=threshold, window=settings.smoothing_window,
                        alarm_delay=settings.alarm_delay_samples, drift_interval_s=args.drift_interval)

    metrics = app_metrics()
    endpoint = MetricsEndpoint(metrics.registry, address, args.tls_cert or "", args.tls_key or "")
    try:
        endpoint.start()  # first, so a busy port is reported before minutes of model loading
    except MetricsEndpointError as error:
        raise BadInput(str(error)) from None
    stores = []
    try:
        model = _explained_model(args.model, lambda: _loaded_or_bad_input(args))
        describe_model(metrics, model, model_evaluation(model.run_id))
        reference = reference_for(model, lambda: _loaded_or_bad_input(args))
        try:
            machines = [open_machine(spec, model, metrics, config, reference) for spec in specs]
        except ValueError as error:
            raise BadInput(str(error)) from None
        node = LiveNode(machines, model, metrics, config, **_live_stores(args, stores))
        signal.signal(signal.SIGTERM, lambda *_: node.stop_event.set())
        follower = _champion_follower(args, node, metrics) if args.model == "champion" and args.champion_check > 0 else None
        print(json.dumps({"event": "serving", "url": endpoint.url, "model": model.label,
                          "machines": [s.machine for s in specs]}), flush=True)
        if follower is not None:
            follower.start()
        try:
            node.run(args.duration)
        except KeyboardInterrupt:
            node.close()
        finally:
            if follower is not None:
                follower.stop()
        print(json.dumps({"event": "stopped", "scored": {m.name: m.monitor.scored for m in machines},
                          "alarms": {m.name: node.alarm_of(m.name)["state"] for m in machines}}), flush=True)
    finally:
        endpoint.stop()
        for store in stores:
            store.close()
    return EXIT_OK


def _live_stores(args, opened: list) -> dict:
    """The audit trail, prediction log and feedback store of the live engine (``--no-log``: none)."""
    if getattr(args, "no_log", False):
        return {}
    from ..store.audit_trail import AuditTrail
    from ..store.pipeline_history import PipelineHistory
    from ..store.prediction_log import PredictionLog

    url = getattr(args, "store", None) or None
    stores = {"audit": AuditTrail(url), "predictions": PredictionLog(url), "feedback": PipelineHistory(url)}
    opened += list(stores.values())
    return stores


def cmd_simulate(args) -> int:
    """An OPC UA server replaying an experiment file on loopback, for demos and tests."""
    from pathlib import Path

    from ..live.opcua_mapping import write_mapping
    from ..live.opcua_simulator import SimulatorError, run_simulator

    if args.write_mapping:
        print(write_mapping(args.write_mapping))
        return EXIT_OK
    if not args.file:
        raise BadInput("--file is required (the experiment file to serve)")
    if not Path(args.file).is_file():
        raise BadInput(f"--file: no such file {args.file}")
    if not 0 < args.speed <= 1000:
        raise BadInput("--speed must be above 0 and at most 1000")
    if bool(args.cert) != bool(args.key):
        raise BadInput("--cert and --key go together")
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # a client dropping out is not the server's error
    try:
        return run_simulator(args.file, host=args.host, port=args.port, speed=args.speed, cert=args.cert, key=args.key)
    except (SimulatorError, ValueError) as error:
        raise BadInput(str(error)) from None


def cmd_gui(args) -> int:
    from ..ui.app import run_gui

    size = None
    if args.size:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise BadInput(f"--size: expected WIDTHxHEIGHT such as 1600x1000, got '{args.size}'") from None
        size = (width, height)
    from ..live.sources import MachineSpec, SourceSpecError

    try:
        for text in args.machine:
            MachineSpec.parse(text)
    except SourceSpecError as error:
        raise BadInput(str(error)) from None
    return run_gui(screenshot_dir=args.screenshot, size=size, machines=args.machine or None)


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _add_search_options(parser: argparse.ArgumentParser, resampling: str = "grouped-holdout",
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


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="cncwear", description="Milling-tool wear prediction for CNC shop floors.")
    parser.add_argument("--version", action="version", version=f"cncwear {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gui = commands.add_parser("gui", help="open the desktop app")
    gui.add_argument("--screenshot", metavar="DIR", help="render every view to DIR/<view>.png and exit")
    gui.add_argument("--size", metavar="WxH", help="window size, e.g. 1600x1000")
    gui.add_argument("--machine", action="append", default=[], metavar="ID=SOURCE",
                     help="watch this machine in the Operator view instead of the configured ones (repeatable), "
                          "e.g. mill-1=opc.tcp://127.0.0.1:4840")
    gui.set_defaults(func=cmd_gui)

    validate = commands.add_parser("validate", help="check experiment files and train.csv; exit 2 if any file is rejected")
    _add_data_paths(validate)
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(func=cmd_validate)

    imp = commands.add_parser("import", help="validate and store experiments in the feature store (all or nothing)")
    _add_data_paths(imp)
    imp.add_argument("--store", metavar="URL", help="SQLAlchemy URL (default: SQLite in the user data directory)")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=cmd_import)

    champ = commands.add_parser("champion", help="show the registry's champion model; train one if there is none")
    champ.add_argument("--data", nargs="+", metavar="PATH", help="data to train on if needed (default: bundled)")
    champ.add_argument("--json", action="store_true")
    champ.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the champion")
    champ.set_defaults(func=cmd_champion, **NO_MANUAL_META)

    bench = commands.add_parser("benchmark", help="the talk's table under the seed and leave-one-experiment-out protocols")
    bench.add_argument("--data", nargs="+", metavar="PATH", help="folder or files (default: the bundled dataset)")
    bench.add_argument("--protocol", choices=["seed", "loeo", "both"], default="both")
    bench.add_argument("--models", default="dt,rf,hgb", help="comma-separated: dt, rf, hgb, automl (default dt,rf,hgb)")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--feature-set", help="a feature set, a comma-separated list, or all (default; with automl: seed_slides)")
    bench.add_argument("--no-mlflow", action="store_true", help="do not log the baseline runs to MLflow (AutoML runs are always logged)")
    _add_search_options(bench, resampling="holdout", search_space="tree-ensembles")  # the talk's table: accuracy only
    bench.add_argument("--json", action="store_true")
    trainer = commands.add_parser("train", help="AutoML: search, evaluate (seed and loeo), log to MLflow, register a challenger")
    _add_search_options(trainer)
    trainer.add_argument("--data", nargs="+", metavar="PATH", help="folder or files (default: the bundled dataset)")
    trainer.add_argument("--feature-set", default="signals", help="default: signals (what a live machine delivers)")
    trainer.add_argument("--protocol", choices=["seed", "loeo"], default="loeo", help="the promotion gate compares this protocol")
    trainer.add_argument("--metric", default="accuracy", help="the gate's metric: accuracy, f1, mcc, precision, recall")
    trainer.add_argument("--margin", type=float, default=0.0, help="promote when challenger >= champion - margin")
    trainer.add_argument("--register", action="store_true", help="register the model as challenger and run the gate")
    trainer.add_argument("--promote", action="store_true", help="as --register, and make it champion if the gate passes")
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

    explainer = commands.add_parser("explain", help="why the model called a sample worn: LIME, SHAP, Anchor, ICE/PDP, surrogate")
    explainer.add_argument("--method", choices=[*EXPLAIN_METHODS, "all"], default="all")
    explainer.add_argument("--model", default="champion", help="champion (default) or an MLflow run id")
    explainer.add_argument("--data", nargs="+", metavar="PATH", help="folder or files (default: the bundled dataset)")
    explainer.add_argument("--file", metavar="F", help="one experiment file instead of --data")
    explainer.add_argument("--experiment", dest="experiment_number", type=int, metavar="E",
                           help="the experiment number (optional with --file)")
    explainer.add_argument("--row", type=int, default=0, metavar="N", help="the sample's row in its experiment (0-based)")
    explainer.add_argument("--feature", metavar="NAME", help="ICE/PDP feature (default X1_OutputCurrent)")
    explainer.add_argument("--centred", action="store_true", help="centred ICE")
    explainer.add_argument("--depth", type=int, default=6, choices=range(1, 7), metavar="1-6", help="surrogate tree depth (default 6)")
    explainer.add_argument("--threshold", type=float, default=0.95, help="anchor precision threshold")
    explainer.add_argument("--json", action="store_true")
    explainer.add_argument("--out", metavar="REPORT", help="write the full report: .html or .pdf")
    explainer.set_defaults(func=cmd_explain, **NO_MANUAL_META)

    server = commands.add_parser("serve", help="headless node: score machines, monitor drift, serve Prometheus metrics")
    server.add_argument("--metrics-addr", metavar="HOST:PORT",
                        help="where /metrics listens (default: the settings, 127.0.0.1:9464); 0.0.0.0:PORT opens it to the LAN")
    server.add_argument("--machine", action="append", default=[], metavar="ID=SOURCE",
                        help="a machine and its source: replay:PATH[@SPEED], tail:PATH or opc.tcp://HOST:PORT[/PATH], "
                             "options after ?: feedrate=, clamp_pressure=, mapping=FILE, security=POLICY,MODE, cert=, key= "
                             "(repeatable; default: four bundled replays)")
    server.add_argument("--model", default="champion", help="champion (default) or an MLflow run id")
    server.add_argument("--champion-check", type=float, default=60.0, metavar="SECONDS",
                        help="with --model champion: how often to look for a newly promoted champion and switch to it "
                             "(default 60; 0: never)")
    server.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    server.add_argument("--threshold", type=float, help="worn threshold (default: the settings)")
    server.add_argument("--drift-interval", type=float, default=10.0, metavar="SECONDS", help="drift check period (default 10)")
    server.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until SIGTERM)")
    server.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (needs --tls-key)")
    server.add_argument("--tls-key", metavar="FILE")
    server.add_argument("--store", metavar="URL", help="the audit trail and prediction log's database (default: the feature store's)")
    server.add_argument("--no-log", action="store_true", help="keep no prediction log or audit trail")
    server.set_defaults(func=cmd_serve, **NO_MANUAL_META)

    simulator = commands.add_parser("simulate", help="demo sources: serve a recorded experiment as a live machine")
    simulate_kinds = simulator.add_subparsers(dest="kind", required=True)
    opcua = simulate_kinds.add_parser("opcua", help="an OPC UA server publishing one sample every 100 ms (per --speed)")
    opcua.add_argument("--file", metavar="CSV", help="the experiment file to replay, e.g. experiment_06.csv")
    opcua.add_argument("--port", type=int, default=4840)
    opcua.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    opcua.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time, 10 Hz)")
    opcua.add_argument("--cert", metavar="FILE", help="server certificate (DER): offer Basic256Sha256 SignAndEncrypt")
    opcua.add_argument("--key", metavar="FILE", help="the certificate's private key (PEM)")
    opcua.add_argument("--write-mapping", metavar="FILE",
                       help="write the node-id mapping template (column,node_id) for a real machine's server and exit")
    opcua.set_defaults(func=cmd_simulate)

    monitor = commands.add_parser("monitor", help="model statistics, trigger states and pipeline history in one report")
    monitor.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    monitor.add_argument("--json", action="store_true")
    monitor.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the snapshot")
    monitor.set_defaults(func=cmd_monitor, **NO_MANUAL_META)

    drifter = commands.add_parser("drift", help="drift of experiment files against the champion's training data")
    drifter.add_argument("files", nargs="+", metavar="FILE")
    drifter.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    drifter.add_argument("--top", type=int, default=10, help="features to list (default 10)")
    drifter.add_argument("--json", action="store_true")
    drifter.set_defaults(func=cmd_drift, **NO_MANUAL_META)

    pipeline = commands.add_parser("pipeline", help="the automated pipeline: validate, train, evaluate, gate, promote")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")
    runner = pipeline_commands.add_parser("run", help="check a trigger; run the pipeline when it fires")
    runner.add_argument("--trigger", choices=["manual", "schedule", "new-data", "degradation", "drift"], default="manual")
    runner.add_argument("--new-data", nargs="+", metavar="FILE", help="drift trigger: files to compare with the training data")
    runner.add_argument("--watch-dir", metavar="DIR", help="new-data trigger: the watched folder (default: the settings)")
    runner.add_argument("--data", nargs="+", metavar="PATH", help="training data (default: the settings' data folder or the bundled dataset)")
    runner.add_argument("--engine", choices=["flaml", "auto-sklearn"], help="default: the settings (flaml)")
    runner.add_argument("--budget", type=int, metavar="SECONDS", help="search budget (default: the settings, 60)")
    runner.add_argument("--margin", type=float, default=0.0, help="promote when challenger >= champion - margin")
    runner.add_argument("--force", action="store_true", help="run even when the trigger's condition does not hold")
    runner.add_argument("--store", metavar="URL", help="history database (default: the feature store's)")
    runner.add_argument("--json", action="store_true")
    runner.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the result")
    runner.set_defaults(func=cmd_pipeline_run, **NO_MANUAL_META)
    watcher = pipeline_commands.add_parser("watch", help="check the schedule, the watched folder and feedback every interval; run when one fires")
    watcher.add_argument("--interval", type=float, default=60.0, metavar="SECONDS", help="how often to check (default 60)")
    watcher.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until SIGTERM)")
    watcher.add_argument("--watch-dir", metavar="DIR", help="the watched folder (default: the settings)")
    watcher.add_argument("--data", nargs="+", metavar="PATH", help="training data (default: the settings' data folder or the bundled dataset)")
    watcher.add_argument("--engine", choices=["flaml", "auto-sklearn"])
    watcher.add_argument("--budget", type=int, metavar="SECONDS")
    watcher.add_argument("--margin", type=float, default=0.0)
    watcher.add_argument("--store", metavar="URL")
    watcher.add_argument("--progress-json", action="store_true")
    watcher.set_defaults(func=cmd_pipeline_watch, **NO_MANUAL_META)
    shower = pipeline_commands.add_parser("history", help="the recorded firings: why, when, what ran, the result")
    shower.add_argument("--limit", type=int, default=20)
    shower.add_argument("--store", metavar="URL")
    shower.add_argument("--json", action="store_true")
    shower.set_defaults(func=cmd_pipeline_history)
    labeller = pipeline_commands.add_parser("feedback", help="record whether predictions were right (feeds the degradation trigger)")
    labeller.add_argument("--machine", required=True)
    labeller.add_argument("--predicted", choices=["worn", "ok"], required=True)
    labeller.add_argument("--actual", choices=["worn", "ok"], required=True)
    labeller.add_argument("--source", default="inspection", help="e.g. inspection, false alarm")
    labeller.add_argument("--count", type=int, default=1, help="record this many identical labels")
    labeller.add_argument("--model-version", help="default: the champion's")
    labeller.add_argument("--store", metavar="URL")
    labeller.set_defaults(func=cmd_pipeline_feedback)

    bench.set_defaults(func=cmd_benchmark, progress_json=False, **NO_MANUAL_META)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..tasks import Cancelled

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except BadInput as error:
        print(f"cncwear {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Cancelled:
        print(f"cncwear {args.command}: cancelled", file=sys.stderr)
        return 130
    except Exception as error:  # reported, logged with traceback in verbose mode
        log.debug("failure", exc_info=True)
        print(f"cncwear {args.command}: failed: {error}", file=sys.stderr)
        return EXIT_FAILURE


def gui_main() -> int:
    """Entry point of the GUI script (no console on Windows)."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
