"""Loading a dataset: folders, single experiment files, train.csv, or a file plus manual metadata.

Nothing here raises for a bad file: every file gets a FileReport, and rejected files contribute
no samples. Callers decide what a rejection means (the CLI exits 2, the store refuses to import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..tasks import Task, ensure_task
from .csvtext import DEFAULT_CHUNK_BYTES, read_csv_text
from .experiment_file import (
    blank_lines_warning,
    data_stem,
    experiment_number_from_name,
    experiment_warnings,
    iter_experiment_chunks,
    looks_like_experiment_header,
    open_data_file,
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
from .validation import ValueChecks

METADATA_FILE_NAME = "train.csv"


def is_unlabelled_key(number: int) -> bool:
    """Files without an experiment number are keyed -1, -2, … in the order given (never stored)."""
    return number < 0


@dataclass
class Experiment:
    number: int  # negative for an unlabelled file (see is_unlabelled_key)
    path: Path
    sha256: str
    samples: pd.DataFrame | None  # signals, Machining_Process, phase, quality_flags, line (None: not kept)
    meta: ExperimentMeta | None
    n_rows: int = 0  # rows read (what ``rows`` says when the samples were not kept)

    @property
    def rows(self) -> int:
        return self.n_rows if self.samples is None else len(self.samples)

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
            if experiment.samples is not None:  # None: loaded with keep_samples=False
                frames.append(_with_meta(experiment.samples, number, experiment.meta))
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


_OPENING = 0.05  # the share of a load's progress for opening the files (the rest: reading them)
FOLDER_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".zip", ".parquet")


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Folders become their data files (*.csv, *.tsv, *.csv.gz, *.tsv.gz, *.zip, *.parquet; sorted);
    files stay as given, in order."""
    expanded: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            expanded.extend(sorted(p for p in path.iterdir() if p.name.lower().endswith(FOLDER_SUFFIXES) and p.is_file()))
        else:
            expanded.append(path)
    return expanded


def load_dataset(
    paths: Iterable[str | Path],
    manual_meta: ExperimentMeta | None = None,
    check_ranges: bool = True,
    task: Task | None = None,
    *,
    keep_samples: bool = True,
    on_chunk: Callable[[Experiment, pd.DataFrame], None] | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Dataset:
    """Read, classify and validate every file. ``manual_meta`` describes a single experiment file.

    Experiment files are read in chunks of about ``chunk_bytes``: ``keep_samples=False`` keeps
    only the reports (validating a file of any size in bounded memory); ``on_chunk(experiment,
    samples)`` sees each chunk's samples, shaped as :meth:`Dataset.samples`, as it is read (not
    for a file already known to be rejected; a file rejected later in its reading has had chunks).
    """
    task = ensure_task(task)
    files = expand_paths(paths)
    dataset = Dataset()
    metadata: dict[int, ExperimentMeta] = {}
    metadata_sources: list[str] = []
    experiment_files = []  # (report, source, warnings of its header) for files that look like experiments

    for index, path in enumerate(files):
        task.progress(_OPENING * index / max(1, len(files)), f"opening {path.name}")
        report = FileReport(path=str(path))
        dataset.reports.append(report)
        try:
            if not path.exists():
                report.reject("no such file or directory")
                continue
            source = open_data_file(path, chunk_bytes)
            if looks_like_metadata_header(source.header) and not looks_like_experiment_header(source.header):
                report.kind = "metadata"
                text = read_csv_text(path)
                report.sha256 = text.sha256
                table = read_metadata_file(path, text)
                report.rows = len(table)
                for number, meta in table.items():
                    if number in metadata:
                        report.reject(f"experiment {number} is also described by {metadata[number].source}")
                if report.usable:
                    metadata.update(table)
                    metadata_sources.append(str(path))
                continue
            header_warnings = experiment_warnings(source)  # or DataError: not an experiment file
        except DataError as error:
            report.errors.append(error.problem)
            continue
        experiment_files.append((report, source, header_warnings))

    if manual_meta is not None and len(experiment_files) != 1:
        for report, _, _ in experiment_files:
            report.reject("metadata entered by hand needs exactly one experiment file")
        experiment_files = []
    if manual_meta is None and not metadata_sources:
        metadata, metadata_sources = _sibling_metadata(dataset, [source.path for _, source, _ in experiment_files])

    unlabelled_keys = iter(range(-1, -len(experiment_files) - 1, -1))
    for index, (report, source, header_warnings) in enumerate(experiment_files):
        task.check()
        path = source.path
        own = manual_meta
        if own is None:
            own = _own_metadata(report, path)
            if not report.usable:
                continue
        # Who the file is, before its samples are read (on_chunk needs it); a refusal is said
        # after the content's own problems, which come first.
        refusal = None
        named = experiment_number_from_name(path)
        number = own.experiment if own is not None and own.experiment is not None else named
        if own is not None and own.experiment is not None and named is not None and named != own.experiment:
            refusal = f"the file name says experiment {named}, its metadata ({own.source}) says {own.experiment}"
        elif number is not None and number in dataset.experiments:
            refusal = f"experiment {number} is already given by {dataset.experiments[number].path}"
        if number is None:
            report.unlabelled = True
        else:
            report.experiment = number
        meta = own or (None if report.unlabelled else metadata.get(number))
        if refusal is None and meta is None and metadata_sources and not report.unlabelled:
            refusal = f"experiment {number} has no row in {', '.join(metadata_sources)}"
        experiment = Experiment(next(unlabelled_keys) if number is None else number, path, "", None, meta)

        report.warnings.extend(header_warnings)
        checks = ValueChecks(check_ranges)
        frames = []
        try:
            for chunk in iter_experiment_chunks(source):
                task.check()
                done = (index + min(1.0, source.bytes_read / max(1, source.size))) / len(experiment_files)
                task.progress(_OPENING + (1 - _OPENING) * done, f"reading {path.name}")
                samples = chunk.samples
                samples["quality_flags"] = checks.add(chunk.values, samples["phase"].to_numpy(), chunk.line_numbers,
                                                      chunk.column_numbers, samples[PROCESS_COLUMN].to_numpy())
                samples["line"] = chunk.line_numbers.astype(np.int32)
                if on_chunk is not None and refusal is None:
                    on_chunk(experiment, _with_meta(samples, experiment.number, meta, experiment.n_rows))
                if keep_samples:
                    frames.append(samples)
                experiment.n_rows += len(samples)
        except DataError as error:
            report.rows = experiment.n_rows
            report.errors.append(error.problem)
            checks.finish(report)
            continue
        report.rows = experiment.n_rows
        report.sha256 = experiment.sha256 = source.sha256
        if source.skipped_blank_lines:
            report.warnings.append(blank_lines_warning(source.skipped_blank_lines))
        checks.finish(report)
        if refusal is not None:
            report.reject(refusal)
            continue
        if report.unlabelled:
            report.warn("unlabelled: no experiment number in the file name or metadata; usable for predict, "
                        "drift and explain, not for training")
        elif own is not None and own.source != "manual" and number in metadata:
            report.warn(f"metadata from {own.source}; the row of experiment {number} in "
                        f"{metadata[number].source} is not used")
        elif meta is None:
            report.warn("no metadata (no train.csv beside it): tool condition unknown, usable for prediction only")
        if keep_samples:
            experiment.samples = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        dataset.experiments[experiment.number] = experiment
    task.progress(1.0, "loaded")
    return dataset


def _with_meta(samples: pd.DataFrame, number: int, meta: ExperimentMeta | None, first_row: int = 0) -> pd.DataFrame:
    """An experiment's samples with the columns :meth:`Dataset.samples` adds (number, row, metadata, worn)."""
    frame = samples.copy()
    frame.insert(0, "experiment", np.int32(number))  # floor runs are numbered from 100001
    frame.insert(1, "row", np.arange(first_row, first_row + len(frame), dtype=np.int32))
    frame["feedrate"] = meta.feedrate if meta else np.nan
    frame["clamp_pressure"] = meta.clamp_pressure if meta else np.nan
    frame["tool_condition"] = meta.tool_condition if meta else None
    frame["worn"] = np.int8({"worn": 1, "unworn": 0}.get(meta.tool_condition if meta else None, -1))
    return frame


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
