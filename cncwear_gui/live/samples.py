"""Raw live samples (one dict of column → value per 100 ms) → the scoring frame, with checks.

Every source (file tail, OPC UA) hands its raw records here, so a malformed sample is judged the
same way wherever it came from: a missing signal, a value that is not a number, or a non-finite
value rejects that one sample (counted by reason, never ending the stream). Accepted samples get
the loader's data-quality flags, so live rows and imported rows carry the same flags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.schema import PHASE_CODES, PROCESS_COLUMN, SIGNAL_COLUMNS, UNKNOWN_PHASE_CODE
from ..data.validation import check_values

#: Why a sample was rejected; the labels of ``cncwear_live_samples_rejected_total``.
REJECT_REASONS = ("missing", "not_a_number", "non_finite")
#: Columns every scoring frame has besides the signals and the process column.
RECEIVED_AT = "received_at"  # time.monotonic() when the sample reached this process (or was due, for replays)
SAMPLE_TIME = "sample_time"  # the source's own timestamp (epoch seconds), NaN when it has none
_PHASE_BY_LOWER = {name.lower(): code for name, code in PHASE_CODES.items()}


@dataclass(frozen=True)
class RejectedSample:
    reason: str  # one of REJECT_REASONS
    detail: str  # names the column and value, and where (file line, node id) when known


def phase_code(process: object) -> int:
    return _PHASE_BY_LOWER.get(str(process).strip().lower(), UNKNOWN_PHASE_CODE)


def check_record(record: dict, where: str = "") -> RejectedSample | None:
    """Why ``record`` cannot be scored, or None when every signal is a finite number."""
    at = f" ({where})" if where else ""
    for column in SIGNAL_COLUMNS:
        if column not in record or record[column] is None:
            return RejectedSample("missing", f"no value for {column}{at}")
        value = record[column]
        if isinstance(value, bool):
            return RejectedSample("not_a_number", f"{column} = {value!r} is not a number{at}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            return RejectedSample("not_a_number", f"{column} = {value!r} is not a number{at}")
        if not math.isfinite(number):
            return RejectedSample("non_finite", f"{column} = {value!r} is not finite{at}")
    return None


def build_frame(records: list[dict], received_at: list[float], sample_times: list[float] | None = None,
                job: dict[str, float] | None = None) -> pd.DataFrame:
    """The scoring frame of already-checked records (see :func:`check_record`).

    Columns: the 47 signals (float64), ``Machining_Process``, ``phase``, ``quality_flags``,
    ``received_at``, ``sample_time``, and the job constants in ``job`` (e.g. feedrate and
    clamp_pressure, which some feature sets need and a live signal stream does not carry).
    """
    values = np.array([[float(r[c]) for c in SIGNAL_COLUMNS] for r in records], dtype=np.float64).reshape(
        len(records), len(SIGNAL_COLUMNS))
    frame = pd.DataFrame(values, columns=list(SIGNAL_COLUMNS))
    process = [str(r.get(PROCESS_COLUMN, "")) for r in records]
    frame[PROCESS_COLUMN] = pd.Series(process, dtype=object)
    frame["phase"] = np.array([phase_code(p) for p in process], dtype=np.int8)
    frame["quality_flags"] = check_values(values, frame["phase"].to_numpy())
    frame[RECEIVED_AT] = np.asarray(received_at, dtype=np.float64)
    frame[SAMPLE_TIME] = np.asarray(sample_times if sample_times is not None else [np.nan] * len(records), dtype=np.float64)
    for name, value in (job or {}).items():
        frame[name] = float(value)
    return frame


def empty_frame(job: dict[str, float] | None = None) -> pd.DataFrame:
    return build_frame([], [], [], job)
