"""What several command modules share: data paths and their manual metadata, progress lines,
the champion for a command, the audit trail's store, a redacted URL."""

from __future__ import annotations

import argparse
import math

from .base import BadInput


def add_data_paths(parser: argparse.ArgumentParser, nargs: str = "*") -> None:
    parser.add_argument("paths", nargs=nargs, metavar="PATH", help="experiment files and/or folders (default: the bundled dataset)")
    manual = parser.add_argument_group("metadata entered by hand (for a single experiment file without train.csv)")
    manual.add_argument("--experiment", type=int, help="experiment number")
    manual.add_argument("--feedrate", type=float)
    manual.add_argument("--clamp-pressure", type=float)
    manual.add_argument("--tool-condition", choices=["worn", "unworn", "unknown"])
    manual.add_argument("--material", default="wax")


# Commands without the manual-metadata options still pass through load_data(), which reads these.
NO_MANUAL_META = {"experiment": None, "feedrate": None, "clamp_pressure": None, "tool_condition": None, "material": "wax"}


def manual_meta(args):
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


def load_data(paths: list[str], args):
    from ..data.dataset import load_dataset
    from ..paths import bundled_dataset_dir

    return load_dataset(paths or [bundled_dataset_dir()], manual_meta=manual_meta(args))


def loaded_or_bad_input(args):
    dataset = load_data(args.data or [], args)
    if not dataset.ok:
        rejected = next(r for r in dataset.reports if not r.usable)
        raise BadInput(f"{rejected.errors[0].located(rejected.path)}")
    return dataset


def print_reports(dataset) -> None:
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


def progress_printer(args):
    """A progress callback printing JSON lines with --progress-json, silent otherwise."""
    from .. import events

    def report(fraction: float, message: str) -> None:
        if args.progress_json:
            events.emit_progress(fraction, message)

    return report


def audit_url() -> str | None:
    """The audit trail's store for promotions: the settings' feature store (None: the default)."""
    from ..settings import load_settings

    return load_settings().feature_store_url or None


def explained_model(spec: str, dataset):
    """The champion (trained on first start) or the model a run logged, loaded for explaining."""
    from ..live.node import NodeInputError, load_model

    try:
        return load_model(spec, dataset, audit_url())
    except NodeInputError as error:
        raise BadInput(str(error)) from None


def champion_with_reference(args):
    """The champion (trained on first start) and its training reference for drift checks."""
    from ..monitoring.reference import reference_for

    model = explained_model("champion", lambda: loaded_or_bad_input(args))
    return model, reference_for(model, lambda: loaded_or_bad_input(args))


def redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
