"""``cncwear explain``: why the model called a sample worn (LIME, SHAP, Anchor, ICE/PDP, surrogate),
the taught monitor's judgement of it, and a report."""

from __future__ import annotations

from .base import EXIT_OK, BadInput, emit
from .common import NO_MANUAL_META, audit_url, explained_model, loaded_or_bad_input

EXPLAIN_METHODS = ("lime", "shap", "anchor", "ice", "pdp", "surrogate")


def cmd_explain(args) -> int:
    """Explain one sample (LIME, SHAP, Anchor) or the model (ICE/PDP, surrogate); optionally a report."""
    from ..explain.service import ExplanationService, SampleNotFound, check_sample

    if args.file and args.data:
        raise BadInput("give either --file (one experiment file) or --data, not both")
    if args.file:
        args.data = [args.file]
    _check_machine(args.machine)
    if args.out:
        _check_out(args.out)  # before a minute of explaining, not after
    dataset = loaded_or_bad_input(args)
    experiment = args.experiment_number
    if experiment is None:
        if len(dataset.experiments) != 1:
            raise BadInput("--experiment is needed when the data holds more than one experiment")
        experiment = next(iter(dataset.experiments))
    try:
        check_sample(dataset, experiment, args.row)  # before the model is loaded
    except SampleNotFound as error:
        raise BadInput(str(error)) from None
    methods = [m for m in EXPLAIN_METHODS if m != "pdp"] if args.method == "all" else [args.method]  # ice holds the PDP
    service = ExplanationService(explained_model(args.model, dataset), dataset)
    feature = args.feature or ("X1_OutputCurrent" if "X1_OutputCurrent" in service.feature_names else service.feature_names[0])
    if feature not in service.feature_names:
        raise BadInput(f"--feature: '{feature}' is not a feature of {service.model.feature_set.key}; "
                       f"e.g. {', '.join(service.feature_names[:5])}")
    try:
        sample = service.sample(experiment, args.row)
        results = {method: service.explain(method, experiment, args.row, feature=feature, centred=args.centred,
                                           depth=args.depth, threshold=args.threshold)
                   for method in methods}
        taught = None
        if args.out or args.machine or set(methods) & {"lime", "shap", "anchor"}:
            taught = _taught(dataset, experiment, args.row, args.machine)
        report = None
        if args.out:
            from ..explain.report import build_report

            report = build_report(service, experiment, args.row, feature=feature, depth=args.depth, taught=taught)
    except (SampleNotFound, ValueError, KeyError) as error:
        raise BadInput(str(error.args[0] if error.args else error)) from None
    if report is not None:
        _write_report(report, args.out)
    summary = service.summary(experiment, args.row) if {"shap", "anchor"} <= set(results) else None
    model = service.model

    def text() -> None:
        print(f"{model.label} ({model.engine}) · {sample.label}")
        for method, result in results.items():
            print(f"\n[{method}] " + _describe(method, result))
        if summary:
            print(f"\n{summary}")
        if taught is not None:
            print(f"\n[taught monitor] {_state(taught.state)}\n  {taught.sentence}")
            if taught.judgement is not None and taught.judgement.windows_judged:
                judgement = taught.judgement
                print(f"  the run: {_state(judgement.run.state)}: {judgement.run.sentence} {judgement.windows_over} "
                      f"of {judgement.windows_judged} window(s) over the alarm limit.")
        if args.out:
            print(f"\nreport written to {args.out}")

    emit(args, {"model": {"name": model.name, "version": model.version, "engine": model.engine,
                          "run_id": model.run_id, "feature_set": model.feature_set.key},
                "sample": sample.to_json(), "summary": summary,
                "taught": taught.to_json() if taught is not None else None,
                **{m: r.to_json() for m, r in results.items()}}, text, indent=1)
    return EXIT_OK


def _state(state: str) -> str:
    return state.upper().replace("_", " ")


def _check_machine(machine: str | None) -> None:
    """``--machine`` must be a configured machine or one the taught references know."""
    from ..store.taught_references import TaughtReferenceStore
    from .teach import configured_machines

    if machine is None:
        return
    known = configured_machines()
    if machine in known:
        return
    with TaughtReferenceStore(audit_url()) as store:
        taught_on = sorted({stored.machine for stored in store.history()})
    if machine not in taught_on:
        raise BadInput(f"--machine: unknown machine {machine!r}; the configured machines are {', '.join(known)} "
                       "(Settings → Machines)" + (f"; taught in the store: {', '.join(taught_on)}" if taught_on else ""))


def _taught(dataset, experiment: int, row: int, machine: str | None):
    """The taught monitor's judgement of the sample, against ``machine``'s reference (None: a
    machine that taught the setup), with the settings' default limits."""
    from ..explain.taught import taught_explanation
    from ..live.teach_state import taught_limits
    from ..settings import load_settings

    return taught_explanation(dataset, experiment, row, audit_url(), machine, taught_limits(load_settings()))


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


def _check_out(out: str) -> None:
    from pathlib import Path

    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise BadInput(f"--out: '{out}' must end in .html or .pdf")
    if not path.parent.is_dir():
        raise BadInput(f"--out: the folder {path.parent} does not exist")


def _write_report(report, out: str) -> None:
    from pathlib import Path

    _check_out(out)  # the folder may have gone meanwhile
    path = Path(out)
    if path.suffix.lower() == ".pdf":
        from ..ui.report_pdf import write_pdf

        write_pdf(report.html, path)
    else:
        report.write_html(path)


def register(commands) -> None:
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
    explainer.add_argument("--machine", metavar="ID",
                           help="judge the sample against this machine's taught reference (default: a machine "
                                "that taught the file's setup)")
    explainer.add_argument("--json", action="store_true")
    explainer.add_argument("--out", metavar="REPORT", help="write the full report: .html or .pdf")
    explainer.set_defaults(func=cmd_explain, **NO_MANUAL_META)
