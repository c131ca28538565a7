"""What several command modules share: data paths and their manual metadata, progress lines,
the champion for a command, the audit trail's store, a redacted URL."""

from __future__ import annotations

import argparse
import math

from .base import BadInput


def add_data_paths(parser: argparse.ArgumentParser, nargs: str = "*") -> None:
    default = "" if nargs == "+" else " (default: the bundled dataset)"
    parser.add_argument("paths", nargs=nargs, metavar="PATH",
                        help=f"data files (.csv, .tsv, .csv.gz, .zip, .parquet) and/or folders{default}")
    add_manual_meta(parser)


def add_manual_meta(parser: argparse.ArgumentParser) -> None:
    """The options that describe a single file by hand (its experiment number, job constants, label)."""
    manual = parser.add_argument_group("metadata entered by hand (for a single file without train.csv or NAME.meta.json)")
    manual.add_argument("--experiment", type=int, help="experiment number (without it the file is unlabelled)")
    manual.add_argument("--feedrate", type=float, help="job constant (needed for per-setup drift and some models)")
    manual.add_argument("--clamp-pressure", type=float, help="job constant, as --feedrate")
    manual.add_argument("--tool-condition", choices=["worn", "unworn", "unknown"], help="the label (needs --experiment)")
    manual.add_argument("--material", default="wax")


# Commands without the manual-metadata options still pass through load_data(), which reads these.
NO_MANUAL_META = {"experiment": None, "feedrate": None, "clamp_pressure": None, "tool_condition": None, "material": "wax"}


def manual_meta(args):
    """The metadata typed in: job constants alone describe an unlabelled file; a label needs a number."""
    if args.experiment is None:
        if args.tool_condition not in (None, "unknown"):
            raise BadInput("--tool-condition needs --experiment as well (training groups rows by experiment)")
        if args.feedrate is None and args.clamp_pressure is None:
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


def load_data(paths: list[str], args, **options):
    """The dataset of ``paths`` (default: the bundled one) with the metadata typed in;
    ``options`` go to ``load_dataset`` (``keep_samples``, ``on_chunk``, ``task``)."""
    from ..data.dataset import load_dataset
    from ..paths import bundled_dataset_dir

    return load_dataset(paths or [bundled_dataset_dir()], manual_meta=manual_meta(args), **options)


def loaded_or_bad_input(args):
    dataset = load_data(args.data or [], args)
    if not dataset.ok:
        rejected = next(r for r in dataset.reports if not r.usable)
        raise BadInput(f"{rejected.errors[0].located(rejected.path)}")
    return dataset


def training_data(args):
    """What a first-start champion trains on: ``--data`` or the bundled set, without the metadata
    typed in (that describes the file under test, not the training data)."""
    return loaded_or_bad_input(argparse.Namespace(**{**vars(args), **NO_MANUAL_META}))


def print_reports(dataset) -> None:
    for report in dataset.reports:
        label = f"experiment {report.experiment}" if report.experiment is not None else report.kind
        status = report.status.upper() + (": unlabelled" if report.status_text == "warning: unlabelled" else "")
        print(f"{status:9} {report.path}  ({'no experiment number' if report.unlabelled else label}, {report.rows} rows)")
        for problem in report.errors:
            print(f"  error: {problem.located(report.path)}")
        for problem in report.warnings:
            print(f"  warning: {problem.located(report.path)}")
        raised = {k: v for k, v in report.flags.items() if v}
        if raised:
            print("  flags: " + ", ".join(f"{k}={v}" for k, v in raised.items()))
    unlabelled = f" ({dataset.unlabelled} unlabelled)" if dataset.unlabelled else ""
    print(f"{len(dataset.experiments)} experiment(s){unlabelled}, {dataset.rows} rows usable")


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

    model = explained_model("champion", lambda: training_data(args))
    return model, reference_for(model, lambda: training_data(args))


def redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from ..store.database import redacted

    return redacted(url)


class TerminalProgress:
    """A one-line progress bar on stderr, only when stderr is a terminal and the output is not JSON."""

    WIDTH = 30

    def __init__(self, args):
        import sys

        self.stream = sys.stderr
        self.shown = self.stream.isatty() and not getattr(args, "json", False) and not getattr(args, "progress_json", False)
        self._last = ""

    def __call__(self, fraction: float, message: str = "") -> None:
        if not self.shown:
            return
        fraction = min(1.0, max(0.0, fraction))
        filled = int(round(fraction * self.WIDTH))
        line = f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction:4.0%} {message[:60]}"
        if line != self._last:
            self.stream.write(line.ljust(len(self._last)))
            self.stream.flush()
            self._last = line

    def close(self) -> None:
        if self.shown and self._last:
            self.stream.write("\r" + " " * len(self._last) + "\r")
            self.stream.flush()
            self._last = ""
