"""The UMich SMART experiment format: column names, phases, metadata fields, flag rules."""

from __future__ import annotations

_AXIS_SIGNALS = (
    "ActualPosition",
    "ActualVelocity",
    "ActualAcceleration",
    "CommandPosition",
    "CommandVelocity",
    "CommandAcceleration",
    "CurrentFeedback",
    "DCBusVoltage",
    "OutputCurrent",
    "OutputVoltage",
)


def _axis(prefix: str, extra: tuple[str, ...]) -> list[str]:
    return [f"{prefix}_{name}" for name in _AXIS_SIGNALS + extra]


#: The 47 numeric signal columns, in file order. With ``Machining_Process`` a file has 48
#: columns (often described as "48 signals"). There is no ``Z1_OutputPower``.
SIGNAL_COLUMNS: tuple[str, ...] = tuple(
    _axis("X1", ("OutputPower",))
    + _axis("Y1", ("OutputPower",))
    + _axis("Z1", ())
    + _axis("S1", ("OutputPower", "SystemInertia"))
    + ["M1_CURRENT_PROGRAM_NUMBER", "M1_sequence_number", "M1_CURRENT_FEEDRATE"]
)
assert len(SIGNAL_COLUMNS) == 47

PROCESS_COLUMN = "Machining_Process"
SAMPLE_PERIOD_S = 0.1  # the machine logs a sample every 100 ms
EXPERIMENT_COLUMNS: tuple[str, ...] = SIGNAL_COLUMNS + (PROCESS_COLUMN,)

#: Machining phases in the order a run goes through them. ``end`` occurs as a variant of ``End``.
PHASES: tuple[str, ...] = (
    "Starting",
    "Prep",
    "Layer 1 Up",
    "Layer 1 Down",
    "Layer 2 Up",
    "Layer 2 Down",
    "Layer 3 Up",
    "Layer 3 Down",
    "Repositioning",
    "End",
)
CUTTING_PHASES: tuple[str, ...] = PHASES[2:8]
PHASE_CODES: dict[str, int] = {name: code for code, name in enumerate(PHASES)}
CUTTING_CODES: tuple[int, ...] = tuple(PHASE_CODES[name] for name in CUTTING_PHASES)  # for ``in`` and np.isin
UNKNOWN_PHASE_CODE = -1

#: Columns of train.csv. ``tool_condition`` is the label; the last two are outcomes of the run
#: and must never become features (``passed_visual_inspection == "no"`` only occurs when worn).
METADATA_COLUMNS: tuple[str, ...] = (
    "No",
    "material",
    "feedrate",
    "clamp_pressure",
    "tool_condition",
    "machining_finalized",
    "passed_visual_inspection",
)
OUTCOME_COLUMNS: tuple[str, ...] = ("machining_finalized", "passed_visual_inspection")
LABEL_COLUMN = "tool_condition"
TOOL_CONDITIONS: tuple[str, ...] = ("unworn", "worn")

#: Extra columns some copies of the dataset carry; recognised and ignored with a warning.
KNOWN_EXTRA_COLUMNS: frozenset[str] = frozenset(
    {"tool_condition", "label", "target", "worn", "experiment", "experiment_no", "no"}
)


#: The dataset's documented unreliable-sample conditions, kept as excludable per-row flags
#: (bit, name, description). ``m1_program_nonzero`` is true for 97 % of the bundled rows.
QUALITY_FLAGS: tuple[tuple[int, str, str], ...] = (
    (1 << 0, "m1_feedrate_50", "M1_CURRENT_FEEDRATE == 50"),
    (1 << 1, "x1_position_198", "X1_ActualPosition == 198"),
    (1 << 2, "m1_program_nonzero", "M1_CURRENT_PROGRAM_NUMBER != 0"),
    (1 << 3, "out_of_range", "a value outside the plausible range of its column"),
    (1 << 4, "non_finite", "an empty, NaN or infinite signal value"),
    (1 << 5, "unknown_phase", "a Machining_Process value that is not a known phase"),
)
FLAG_BITS: dict[str, int] = {name: bit for bit, name, _ in QUALITY_FLAGS}
#: The two conditions the dataset's README calls unreliable without dropping 97 % of the data.
DOCUMENTED_UNRELIABLE = FLAG_BITS["m1_feedrate_50"] | FLAG_BITS["x1_position_198"]
