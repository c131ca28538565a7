"""Loading a dataset: folders, single experiment files, train.csv, or a file plus manual metadata.

Nothing here raises for a bad file: every file gets a FileReport, and rejected files contribute
no samples. Callers decide what a rejection means (the CLI exits 2, the store refuses to import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..tasks import Task, ensure_task
from .csvtext import read_csv_text
from .experiment_file import (
    data_stem,
    experiment_number_from_name,
    looks_like_experiment_header,
    read_experiment_file,
)
from .metadata import (
    ExperimentMeta,
    looks_like_metadata_header,
    read_metadata_file,
    read_sidecar_metadata,
    sidecar_path,
)
from .report import DataError, FileReport
from .schema import PROCESS_COLUMN, SIGNAL_COLUMNS
from .validation import check_values

METADATA_FILE_NAME = "train.csv"


def is_unlabelled_key(number: int) -> bool:
    """Files without an experiment number are keyed -1, -2, … in the order given (never stored)."""
    return number < 0


@dataclass
class Experiment:
    number: int  # negative for an unlabelled file (see is_unlabelled_key)
    path: Path
    sha256: str
    samples: pd.DataFrame  # signals, Machining_Process, phase, quality_flags, line
    meta: ExperimentMeta | None

    @property
    def rows(self) -> int:
        return len(self.samples)

    @property
    def unlabelled(self) -> bool:
        return is_unlabelled_key(self.number)

    @property
    def title(self) -> str:
        """``experiment 4``, or the file's name for an unlabelled file."""
        return f"{self.path.name} (unlabelled)" if self.unlabelled else f"experiment {self.number}"


@dataclass
class Dataset:
    experiments: dict[int, Experiment] = field(default_factory=dict)
    reports: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file was rejected (warnings allowed)."""
        return all(report.usable for report in self.reports)

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.experiments.values())

    @cached_property
    def _all_samples(self) -> pd.DataFrame:
        frames = []
        for number in sorted(self.experiments):
            experiment = self.experiments[number]
            frame = experiment.samples.copy()
            meta = experiment.meta
            frame.insert(0, "experiment", np.int32(number))  # floor runs are numbered from 100001
            frame.insert(1, "row", np.arange(len(frame), dtype=np.int32))
            frame["feedrate"] = meta.feedrate if meta else np.nan
            frame["clamp_pressure"] = meta.clamp_pressure if meta else np.nan
            frame["tool_condition"] = meta.tool_condition if meta else None
            frame["worn"] = np.int8(
                {"worn": 1, "unworn": 0}.get(meta.tool_condition if meta else None, -1)
            )
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["experiment", "row", *SIGNAL_COLUMNS, "worn"])
        return pd.concat(frames, ignore_index=True)

    def samples(self, labelled_only: bool = False, exclude_flags: int = 0) -> pd.DataFrame:
        """All samples with experiment number, metadata and ``worn`` (1/0, -1 when unknown)."""
        frame = self._all_samples
        keep = np.ones(len(frame), dtype=bool)
        if labelled_only:
            keep &= frame["worn"].to_numpy() >= 0
        if exclude_flags:
            keep &= (frame["quality_flags"].to_numpy() & exclude_flags) == 0
        return frame if keep.all() else frame.loc[keep].reset_index(drop=True)

    @property
    def unlabelled(self) -> int:
        """Usable files without an experiment number (status ``warning: unlabelled``)."""
        return sum(1 for report in self.reports if report.unlabelled and report.usable)

    def to_json(self) -> dict:
        return {
            "files": [report.to_json() for report in self.reports],
            "experiments": len(self.experiments),
            "unlabelled": self.unlabelled,
            "rows": self.rows,
        }


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Folders become their *.csv files (sorted); files stay as given, in order."""
    expanded: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            expanded.extend(sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file()))
        else:
            expanded.append(path)
    return expanded


def load_dataset(
    paths: Iterable[str | Path],
    manual_meta: ExperimentMeta | None = None,
    check_ranges: bool = True,
    task: Task | None = None,
) -> Dataset:
    """Read, classify and validate every file. ``manual_meta`` describes a single experiment file."""
    task = ensure_task(task)
    files = expand_paths(paths)
    dataset = Dataset()
    metadata: dict[int, ExperimentMeta] = {}
    metadata_sources: list[str] = []
    parsed = []  # (report, ExperimentFile) for files that parsed as experiments

    for index, path in enumerate(files):
        task.progress(index / max(1, len(files)), f"reading {path.name}")
        report = FileReport(path=str(path))
        dataset.reports.append(report)
        try:
            if not path.exists():
                report.reject("no such file or directory")
                continue
            text = read_csv_text(path)
            report.sha256 = text.sha256
            if looks_like_metadata_header(text.header) and not looks_like_experiment_header(text.header):
                report.kind = "metadata"
                table = read_metadata_file(path, text)
                report.rows = len(table)
                for number, meta in table.items():
                    if number in metadata:
                        report.reject(f"experiment {number} is also described by {metadata[number].source}")
                if report.usable:
                    metadata.update(table)
                    metadata_sources.append(str(path))
                continue
            experiment_file = read_experiment_file(path, text)
        except DataError as error:
            report.errors.append(error.problem)
            continue
        report.warnings.extend(experiment_file.warnings)
        parsed.append((report, experiment_file))

    experiment_files = [p for p in parsed]
    if manual_meta is not None and len(experiment_files) != 1:
        for report, _ in experiment_files:
            report.reject("metadata entered by hand needs exactly one experiment file")
        experiment_files = []
    if manual_meta is None and not metadata_sources:
        metadata, metadata_sources = _sibling_metadata(dataset, [ef.path for _, ef in experiment_files])

    unlabelled_keys = iter(range(-1, -len(experiment_files) - 1, -1))
    for report, experiment_file in experiment_files:
        task.check()
        samples = experiment_file.samples
        report.rows = len(samples)
        flags = check_values(
            experiment_file.values,
            samples["phase"].to_numpy(),
            check_ranges,
            report,
            experiment_file.line_numbers,
            experiment_file.column_numbers,
            samples[PROCESS_COLUMN].to_numpy(),
        )
        own = manual_meta
        if own is None:
            own = _own_metadata(report, experiment_file.path)
            if not report.usable:
                continue
        named = experiment_number_from_name(experiment_file.path)
        number = own.experiment if own is not None and own.experiment is not None else named
        if own is not None and own.experiment is not None and named is not None and named != own.experiment:
            report.reject(f"the file name says experiment {named}, its metadata ({own.source}) says {own.experiment}")
            continue
        if number is None:
            number = next(unlabelled_keys)
            report.unlabelled = True
            report.warn("unlabelled: no experiment number in the file name or metadata; usable for predict, "
                        "drift and explain, not for training")
        else:
            report.experiment = number
            if number in dataset.experiments:
                report.reject(f"experiment {number} is already given by {dataset.experiments[number].path}")
                continue
        if own is not None and own.source != "manual" and number in metadata:
            report.warn(f"metadata from {own.source}; the row of experiment {number} in "
                        f"{metadata[number].source} is not used")
        meta = own or (None if report.unlabelled else metadata.get(number))
        if meta is None and metadata_sources and not report.unlabelled:
            report.reject(f"experiment {number} has no row in {', '.join(metadata_sources)}")
            continue
        if meta is None and not report.unlabelled:
            report.warn("no metadata (no train.csv beside it): tool condition unknown, usable for prediction only")
        samples["quality_flags"] = flags
        samples["line"] = experiment_file.line_numbers.astype(np.int32)
        dataset.experiments[number] = Experiment(number, experiment_file.path, experiment_file.sha256, samples, meta)
    task.progress(1.0, "loaded")
    return dataset


def _own_metadata(report: FileReport, path: Path) -> ExperimentMeta | None:
    """The file's ``NAME.meta.json``, when there is one (a problem in it rejects the file)."""
    candidate = sidecar_path(path, data_stem(path))
    if not candidate.is_file():
        return None
    try:
        return read_sidecar_metadata(candidate)
    except DataError as error:
        report.reject(error.problem.located(error.path))
        return None


def _sibling_metadata(dataset: Dataset, experiment_paths: list[Path]) -> tuple[dict, list[str]]:
    """For files given one by one: use the train.csv in their folder, when there is one."""
    metadata: dict[int, ExperimentMeta] = {}
    sources: list[str] = []
    for folder in sorted({p.parent for p in experiment_paths}):
        candidate = folder / METADATA_FILE_NAME
        if not candidate.is_file():
            continue
        try:
            table = read_metadata_file(candidate)
        except DataError as error:
            report = FileReport(path=str(candidate), kind="metadata")
            report.errors.append(error.problem)
            dataset.reports.append(report)
            continue
        metadata.update(table)
        sources.append(str(candidate))
    return metadata, sources
