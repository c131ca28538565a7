"""train.csv: per-experiment metadata (material, feedrate, clamp pressure) and the label.

``machining_finalized`` and ``passed_visual_inspection`` are kept as outcomes for display only;
they are never features (PROVENANCE.md, leakage traps).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from .csvtext import CsvText, read_csv_text
from .report import DataError, Problem
from .schema import METADATA_COLUMNS, TOOL_CONDITIONS

_YES_NO = ("yes", "no")
#: Header aliases seen in copies of the dataset (case is ignored as well).
_ALIASES = {"feed_rate": "feedrate", "machining_completed": "machining_finalized"}


#: A data file's own metadata, beside it: ``mill3_2026-12-01.csv`` → ``mill3_2026-12-01.meta.json``.
SIDECAR_SUFFIX = ".meta.json"
_SIDECAR_KEYS = ("experiment", "material", "feedrate", "clamp_pressure", "tool_condition")


@dataclass(frozen=True)
class ExperimentMeta:
    experiment: int | None  # None: a file without experiment number (job constants only)
    material: str = "wax"
    feedrate: float = math.nan
    clamp_pressure: float = math.nan
    tool_condition: str | None = None  # "worn", "unworn" or None when unknown
    machining_finalized: str | None = None
    passed_visual_inspection: str | None = None
    source: str = "manual"  # the train.csv path, or "manual" when entered by hand

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def labelled(self) -> bool:
        return self.tool_condition in TOOL_CONDITIONS


def looks_like_metadata_header(header: list[str]) -> bool:
    names = {_ALIASES.get(n.lower(), n.lower()) for n in header}
    return {"no", "tool_condition"} <= names


def read_metadata_file(path: str | Path, text: CsvText | None = None) -> dict[int, ExperimentMeta]:
    """Parse train.csv; raise DataError naming line and column for anything not recognisable."""
    text = text or read_csv_text(path)
    path = Path(path)
    position: dict[str, int] = {}
    for index, name in enumerate(text.header):
        key = _ALIASES.get(name.lower(), name.lower())
        for canonical in METADATA_COLUMNS:
            if key == canonical.lower():
                position[canonical] = index
    required = ("No", "feedrate", "clamp_pressure", "tool_condition")
    missing = [name for name in required if name not in position]
    if missing:
        raise DataError(path, Problem(f"not a train.csv metadata file: missing column(s) {missing}", 1))

    table = pd.read_csv(text.buffer(), header=None, skiprows=1, dtype=str, keep_default_na=False)
    result: dict[int, ExperimentMeta] = {}
    first_line: dict[int, int] = {}
    for row, line in enumerate(text.line_numbers.tolist()):

        def cell(name: str, row=row) -> tuple[str, int]:
            column = position[name]
            return table.iat[row, column].strip(), column + 1

        number_text, column = cell("No")
        if not number_text.isdigit():
            raise DataError(path, Problem(f"experiment number '{number_text}' is not a whole number", line, column))
        number = int(number_text)
        if number in first_line:
            raise DataError(
                path,
                Problem(f"duplicate experiment number {number} (first on line {first_line[number]})", line, column),
            )
        first_line[number] = line
        values: dict[str, object] = {"experiment": number, "source": str(path)}
        for name in ("feedrate", "clamp_pressure"):
            raw, column = cell(name)
            try:
                value = float(raw)
            except ValueError:
                raise DataError(path, Problem(f"{name} '{raw}' is not a number", line, column)) from None
            if not math.isfinite(value) or value <= 0:
                raise DataError(path, Problem(f"{name} must be a positive number, got '{raw}'", line, column))
            values[name] = value
        raw, column = cell("tool_condition")
        if raw.lower() not in TOOL_CONDITIONS:
            raise DataError(
                path, Problem(f"tool_condition '{raw}' is neither 'worn' nor 'unworn'", line, column)
            )
        values["tool_condition"] = raw.lower()
        for name in ("machining_finalized", "passed_visual_inspection"):
            if name in position:
                raw, column = cell(name)
                if raw and raw.lower() not in _YES_NO:
                    raise DataError(path, Problem(f"{name} '{raw}' is neither 'yes' nor 'no'", line, column))
                values[name] = raw.lower() or None
        if "material" in position:
            values["material"] = cell("material")[0] or "wax"
        result[number] = ExperimentMeta(**values)
    return result


def sidecar_path(data_path: str | Path, stem: str) -> Path:
    """Where a data file's own metadata would be: ``STEM.meta.json`` in its folder."""
    return Path(data_path).with_name(stem + SIDECAR_SUFFIX)


def read_sidecar_metadata(path: str | Path) -> ExperimentMeta:
    """A ``NAME.meta.json`` beside a data file: its job constants and, optionally, number and label.

    ``{"feedrate": 6, "clamp_pressure": 4}`` is enough to predict and compare a setup; a label
    (``tool_condition``) needs ``experiment`` as well, since training groups rows by experiment.
    """
    import json

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(path, Problem(f"cannot read file: {exc.strerror or exc}")) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line, column = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (None, None)
        raise DataError(path, Problem(f"not a JSON metadata file: {exc}", line, column)) from None
    if not isinstance(data, dict):
        raise DataError(path, Problem("a metadata file holds one JSON object, e.g. {\"feedrate\": 6, \"clamp_pressure\": 4}", 1, 1))
    unknown = [key for key in data if key not in _SIDECAR_KEYS]
    if unknown:
        raise DataError(path, Problem(f"unknown key(s) {unknown}; known: {list(_SIDECAR_KEYS)}"))
    values: dict[str, object] = {"source": str(path), "experiment": None}
    number = data.get("experiment")
    if number is not None:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise DataError(path, Problem(f"experiment must be a positive whole number, got {number!r}"))
        values["experiment"] = number
    for name in ("feedrate", "clamp_pressure"):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise DataError(path, Problem(f"{name} must be a positive number, got {value!r}"))
        values[name] = float(value)
    condition = data.get("tool_condition")
    if condition is not None:
        if str(condition).lower() not in TOOL_CONDITIONS:
            raise DataError(path, Problem(f"tool_condition {condition!r} is neither 'worn' nor 'unworn'"))
        if values["experiment"] is None:
            raise DataError(path, Problem("tool_condition needs an experiment number as well (training groups rows by experiment)"))
        values["tool_condition"] = str(condition).lower()
    if data.get("material"):
        values["material"] = str(data["material"])
    return ExperimentMeta(**values)
