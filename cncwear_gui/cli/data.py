"""``cncwear validate``, ``import`` and ``drift``: experiment files checked, stored, compared."""

from __future__ import annotations

import sys

from .base import EXIT_BAD_INPUT, EXIT_OK, BadInput, emit
from .common import (TerminalProgress, add_data_paths, add_manual_meta, champion_with_reference, explained_model,
                     load_data, manual_meta, print_reports, redact, training_data)


def cmd_validate(args) -> int:
    from ..tasks import Task

    progress = TerminalProgress(args)
    try:  # samples are not kept: a file of any size is validated chunk by chunk in bounded memory
        dataset = load_data(args.paths, args, keep_samples=False, task=Task(progress))
    finally:
        progress.close()
    emit(args, dataset.to_json(), lambda: print_reports(dataset))
    return EXIT_OK if dataset.ok else EXIT_BAD_INPUT


def cmd_import(args) -> int:
    from ..store.feature_store import FeatureStore, ImportRejected

    dataset = load_data(args.paths, args)
    store = FeatureStore(args.store)
    try:
        result = store.import_dataset(dataset)
    except ImportRejected as error:
        emit(args, {"error": str(error), **dataset.to_json()}, lambda: print_reports(dataset))
        print(f"cncwear import: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        store.close()

    def text() -> None:
        for entry in result.imported:
            print(f"imported  experiment {entry['experiment']:>3} v{entry['version']}  {entry['rows']:>5} rows  {entry['file']}")
        for entry in result.unchanged:
            print(f"unchanged experiment {entry['experiment']:>3} v{entry['version']}  {entry['file']}")
        print(f"store: {redact(store.url)}")

    emit(args, {"store": redact(store.url), **result.to_json(), **dataset.to_json()}, text)
    return EXIT_OK


def cmd_drift(args) -> int:
    """Drift of experiment files against the champion's training data: per setup (each file against
    the training runs of its own job), or ``--pooled`` against all training rows."""
    if args.pooled:
        return _pooled_drift(args)
    from ..monitoring.reference import setup_reference_for
    from ..pipeline.watch import TriggerInputError, setup_drift_of_files

    typed_in = manual_meta(args)  # checked before the champion loads
    model = explained_model("champion", lambda: training_data(args))
    reference = setup_reference_for(model, lambda: training_data(args))
    try:
        files = setup_drift_of_files(args.files, model, reference, typed_in)
    except TriggerInputError as error:
        raise BadInput(str(error)) from None

    def verdict(report) -> str:
        if report.unfamiliar:
            return "unfamiliar setup (no training run of this job; not judged as drift)"
        if report.drifted:
            return f"DRIFTED ({', '.join(f.name for f in report.alarms[:args.top])})"
        if not any(f.psi is not None for f in report.features):
            return "not judged (no whole phase of this setup in the file)"
        return "no drift"

    def text() -> None:
        print(f"per setup, against {model.label}'s training runs of each file's setup "
              f"({len(reference.setups)} setups, {reference.n_rows:,} rows)")
        for path, report in files:
            print(f"{path}: {report.setup}: {verdict(report)}")
            if report.drifted or report.unfamiliar:
                for reason in report.reasons:
                    print(f"  {reason}")

    emit(args, {"model": model.label, "mode": "setup",
                "files": [{"file": path, **report.to_json()} for path, report in files]}, text)
    return EXIT_OK


def _pooled_drift(args) -> int:
    from ..pipeline.watch import TriggerInputError, drift_of_files

    model, reference = champion_with_reference(args)
    try:
        report = drift_of_files(args.files, model, reference)
    except TriggerInputError as error:
        raise BadInput(str(error)) from None

    def text() -> None:
        print(f"{'DRIFTED' if report.drifted else 'no drift'}: {report.n_rows:,} rows of {', '.join(args.files)} "
              f"against {model.label}'s training data ({reference.n_rows:,} rows, pooled)")
        for reason in report.reasons:
            print(f"  {reason}")
        print(f"\n{'feature':28} {'group':8} {'PSI':>8} {'KS':>6}  level")
        for feature in report.top(args.top):
            psi = "n/a" if feature.psi is None else f"{feature.psi:8.3f}"
            ks = "n/a" if feature.ks is None else f"{feature.ks:6.3f}"
            print(f"{feature.name:28} {feature.group:8} {psi:>8} {ks:>6}  {feature.level}")

    emit(args, {"model": model.label, "mode": "pooled", **report.to_json()}, text)
    return EXIT_OK


def register(commands) -> None:
    validate = commands.add_parser("validate", help="check experiment files and train.csv; exit 2 if any file is rejected")
    add_data_paths(validate)
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(func=cmd_validate)

    imp = commands.add_parser("import", help="validate and store experiments in the feature store (all or nothing)")
    add_data_paths(imp)
    imp.add_argument("--store", metavar="URL", help="SQLAlchemy URL (default: SQLite in the user data directory)")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=cmd_import)

    drifter = commands.add_parser("drift", help="drift of experiment files against the champion's training runs "
                                                "of each file's setup (train.csv beside the files)")
    drifter.add_argument("files", nargs="+", metavar="FILE")
    drifter.add_argument("--pooled", action="store_true",
                         help="compare all files together with all training rows (flags every other job as drift)")
    drifter.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    drifter.add_argument("--top", type=int, default=10, help="features to list (default 10)")
    drifter.add_argument("--json", action="store_true")
    add_manual_meta(drifter)
    drifter.set_defaults(func=cmd_drift)
