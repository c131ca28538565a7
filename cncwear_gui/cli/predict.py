"""``cncwear predict``: score data files headless — P(worn) and the call per sample, the live
engine's verdict per run and per cutting phase, the model's name and version.

Per-sample scores go to ``--out`` (.csv or .parquet), written beside the target and renamed over
it only when every file was scored (atomic_files.atomic_path): bad input, a failure or Ctrl-C
leave no half-written file and an existing one untouched.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from .base import EXIT_OK, BadInput, emit
from .common import TerminalProgress, add_data_paths, explained_model, load_data, manual_meta, training_data

OUT_SUFFIXES = (".csv", ".parquet")


def cmd_predict(args) -> int:
    from ..models.file_predictions import FilePrediction, FileScorer
    from ..settings import load_settings
    from ..tasks import Task

    out = _out_path(args.out)
    threshold = load_settings().worn_threshold if args.threshold is None else args.threshold
    if not 0.0 < threshold < 1.0:
        raise BadInput(f"--threshold must be between 0 and 1 (exclusive), got {threshold}")
    manual_meta(args)  # a mistake in the typed-in metadata is said before the model loads
    model = explained_model(args.model, lambda: training_data(args))
    scorers: dict[int, tuple] = {}  # experiment key -> (FileScorer, per-sample frames kept for --json)
    progress = TerminalProgress(args)

    try:
        with _ScoresOut(out) as writer:
            def score(experiment, samples) -> None:
                """Each chunk as it is read and validated: scored, written, then let go."""
                entry = scorers.get(experiment.number)
                number = None if experiment.unlabelled else experiment.number
                if entry is None:
                    _check_constants(model, experiment)
                    prediction = FilePrediction(str(experiment.path), number, _setup_text(experiment.meta))
                    entry = scorers[experiment.number] = (FileScorer(model, threshold, prediction), [])
                scorer, kept = entry
                frame = scorer.add(samples).frame(str(experiment.path), number, int(samples["row"].iloc[0]))
                if writer is not None:
                    writer.write(frame)
                elif args.json:
                    kept.append(frame)

            dataset = load_data(args.paths, args, keep_samples=False, on_chunk=score, task=Task(progress))
            rejected = [r for r in dataset.reports if not r.usable]
            if rejected:
                raise BadInput(f"{rejected[0].errors[0].located(rejected[0].path)}")
            if not dataset.experiments:
                raise BadInput(f"no data files in {', '.join(args.paths)}")
    finally:
        progress.close()
    predictions = [scorers[number][0].finish() for number in dataset.experiments]
    samples = [scorers[number][1] for number in dataset.experiments]

    info = {"name": model.name, "version": model.version, "engine": model.engine, "run_id": model.run_id,
            "feature_set": model.feature_set.key}
    files = []
    for prediction, kept in zip(predictions, samples):
        entry = prediction.to_json()
        if kept:
            import pandas as pd

            frame = pd.concat(kept, ignore_index=True)
            entry["samples"] = {"line": frame["line"].tolist(), "p_worn": frame["p_worn"].round(6).tolist(),
                                "predicted": frame["predicted"].tolist()}
        files.append(entry)

    def text() -> None:
        print(f"{model.label} ({model.engine}, {model.feature_set.key}) · worn when P(worn) >= {threshold:g}")
        for prediction in predictions:
            who = f"experiment {prediction.experiment}" if prediction.experiment is not None else "unlabelled"
            print(f"\n{prediction.path} ({who}, {prediction.setup}): {prediction.rows:,} samples, "
                  f"{prediction.called_worn:,} called worn, {len(prediction.runs)} run(s)")
            for run in prediction.runs:
                print(f"  run {run.run} (lines {run.first_line}-{run.last_line}): {run.verdict.label}")
                for phase in run.phases:
                    print(f"    {phase.scope:14} {phase.label}")
        print(f"\nper-sample scores written to {out}" if out else "\nper-sample scores: --out FILE.csv|.parquet or --json")

    emit(args, {"model": info, "threshold": threshold, "out": str(out) if out else None, "files": files}, text, indent=1)
    return EXIT_OK


def _out_path(out: str | None) -> Path | None:
    if out is None:
        return None
    path = Path(out)
    if path.suffix.lower() not in OUT_SUFFIXES:
        raise BadInput(f"--out: '{out}' must end in .csv or .parquet")
    if not path.parent.is_dir():
        raise BadInput(f"--out: the folder {path.parent} does not exist")
    if path.is_dir():
        raise BadInput(f"--out: '{out}' is a folder")
    return path


def _check_constants(model, experiment) -> None:
    """A model on train.csv's constants cannot score a file without them: say which and how to give them."""
    if not model.feature_set.uses_experiment_constants:
        return
    meta = experiment.meta
    if meta is None or not (math.isfinite(meta.feedrate) and math.isfinite(meta.clamp_pressure)):
        raise BadInput(f"{experiment.path}: {model.label} ({model.feature_set.key}) uses feedrate and clamp_pressure, "
                           "which this file lacks; give --feedrate and --clamp-pressure, a NAME.meta.json beside it, "
                           "or a train.csv row")


def _setup_text(meta) -> str:
    from ..data.setup import setup_of_meta

    return setup_of_meta(meta).text


class _ScoresOut:
    """The per-sample scores file, written whole or not at all (None without --out)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._context = self._handle = self._parquet = None
        self._header = True

    def __enter__(self):
        if self.path is None:
            return None
        from ..atomic_files import atomic_path

        self._context = atomic_path(self.path, fsync=False)
        self._temporary = self._context.__enter__()
        if self.path.suffix.lower() == ".csv":
            self._handle = open(self._temporary, "x", encoding="utf-8", newline="")
        return self

    def write(self, frame) -> None:
        if self._handle is not None:
            frame.to_csv(self._handle, header=self._header, index=False, float_format="%.6g")
            self._header = False
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._temporary, table.schema)
        self._parquet.write_table(table)

    def __exit__(self, kind, error, trace):
        if self._context is None:
            return False
        try:
            if self._handle is not None:
                self._handle.close()
            elif self._parquet is not None:
                self._parquet.close()
            elif error is None:  # no rows at all: an empty Parquet file with the columns
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({name: [] for name in ("file", "experiment", "row", "line", "phase", "p_worn", "predicted")}),
                               self._temporary)
        except BaseException:
            self._context.__exit__(*sys.exc_info())
            raise
        return self._context.__exit__(kind, error, trace)


def register(commands) -> None:
    predictor = commands.add_parser(
        "predict", help="score data files: P(worn) per sample, the verdict per run and phase (exit 2 on bad input)",
        description="Score data files with the champion or a logged model: P(worn) and the predicted class per "
                    "sample (to --out or --json), the live engine's verdict with its confidence per run and per "
                    "cutting phase, and the model's name and version. Files need no experiment number or label.")
    add_data_paths(predictor, nargs="+")
    predictor.add_argument("--model", default="champion", help="champion (default) or an MLflow run id")
    predictor.add_argument("--threshold", type=float, help="P(worn) at which a sample is called worn (default: the settings')")
    predictor.add_argument("--out", metavar="SCORES", help="per-sample scores: scores.csv or scores.parquet (written whole or not at all)")
    predictor.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    predictor.add_argument("--json", action="store_true", help="one JSON document (per-sample scores included without --out)")
    predictor.set_defaults(func=cmd_predict)
