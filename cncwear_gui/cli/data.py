"""``cncwear validate``, ``import`` and ``drift``: experiment files checked, stored, compared."""

from __future__ import annotations

import sys

from .base import EXIT_BAD_INPUT, EXIT_OK, BadInput, emit
from .common import NO_MANUAL_META, add_data_paths, champion_with_reference, load_data, print_reports, redact


def cmd_validate(args) -> int:
    dataset = load_data(args.paths, args)
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
    """Drift of experiment files against the champion's training data: per feature PSI and KS."""
    from ..pipeline.watch import TriggerInputError, drift_of_files

    model, reference = champion_with_reference(args)
    try:
        report = drift_of_files(args.files, model, reference)
    except TriggerInputError as error:
        raise BadInput(str(error)) from None

    def text() -> None:
        print(f"{'DRIFTED' if report.drifted else 'no drift'}: {report.n_rows:,} rows of {', '.join(args.files)} "
              f"against {model.label}'s training data ({reference.n_rows:,} rows)")
        for reason in report.reasons:
            print(f"  {reason}")
        print(f"\n{'feature':28} {'group':8} {'PSI':>8} {'KS':>6}  level")
        for feature in report.top(args.top):
            psi = "n/a" if feature.psi is None else f"{feature.psi:8.3f}"
            ks = "n/a" if feature.ks is None else f"{feature.ks:6.3f}"
            print(f"{feature.name:28} {feature.group:8} {psi:>8} {ks:>6}  {feature.level}")

    emit(args, {"model": model.label, **report.to_json()}, text)
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

    drifter = commands.add_parser("drift", help="drift of experiment files against the champion's training data")
    drifter.add_argument("files", nargs="+", metavar="FILE")
    drifter.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    drifter.add_argument("--top", type=int, default=10, help="features to list (default 10)")
    drifter.add_argument("--json", action="store_true")
    drifter.set_defaults(func=cmd_drift, **NO_MANUAL_META)
