"""The tool verdict: per-sample calls aggregated over a machining phase or a whole run.

One 100 ms sample says little; "replace the tool" is a statement about the run. The verdict is
the share of samples called worn (P(worn) >= the threshold), decided at 0.5, with a confidence:
the probability that the run's share is on the decided side, from the batch-means method
(consecutive blocks of ``BLOCK_SAMPLES`` samples; block means are close to independent while
neighbouring samples are not). Fewer than ``MIN_BLOCKS`` blocks give no verdict (confidence 0.5).

The evaluation's "experiments correct" and the live alarm use this same rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..data.schema import CUTTING_CODES, CUTTING_PHASES, PHASES, PHASE_CODES

BLOCK_SAMPLES = 50  # 5 s at 10 Hz
MIN_BLOCKS = 2
DECIDED_AT = 0.95  # the confidence at which the live verdict changes the wear state
_SE_FLOOR = 1e-3
_RUN_START_CODES = frozenset({PHASE_CODES["Starting"], PHASE_CODES["Prep"]})


@dataclass(frozen=True)
class ToolVerdict:
    scope: str  # "run" or a phase name
    samples: int
    worn_share: float  # share of samples called worn (NaN without samples)
    confidence: float  # 0.5 (no evidence) .. 1.0

    @property
    def worn(self) -> bool:
        return self.worn_share >= 0.5

    @property
    def decided(self) -> bool:
        return self.confidence >= DECIDED_AT

    @property
    def label(self) -> str:
        if self.samples == 0:
            return "no samples"
        return f"{'worn' if self.worn else 'unworn'} ({self.confidence:.0%} confident, {self.samples:,} samples)"

    def to_json(self) -> dict:
        return {"scope": self.scope, "samples": self.samples,
                "worn_share": None if math.isnan(self.worn_share) else round(self.worn_share, 4),
                "verdict": "worn" if self.worn else "unworn", "confidence": round(self.confidence, 4)}


def _confidence(share: float, blocks: int, means_sum: float, means_sq: float) -> float:
    """P(the run's share is on the decided side) from the block means' count, sum and sum of squares."""
    if blocks < MIN_BLOCKS:
        return 0.5
    variance = max(0.0, (means_sq - means_sum ** 2 / blocks) / (blocks - 1))
    z = abs(share - 0.5) / max(math.sqrt(variance / blocks), _SE_FLOOR)
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def tool_verdict(calls: np.ndarray, scope: str = "run", block: int = BLOCK_SAMPLES) -> ToolVerdict:
    """The verdict over ``calls`` (1 = called worn, 0 = not), in time order."""
    calls = np.asarray(calls, dtype=np.float64)
    if len(calls) == 0:
        return ToolVerdict(scope, 0, float("nan"), 0.5)
    full = len(calls) // block * block
    block_means = calls[:full].reshape(-1, block).mean(axis=1) if full else np.empty(0)
    share = float(calls.mean())
    confidence = _confidence(share, len(block_means), float(block_means.sum()), float(np.square(block_means).sum()))
    return ToolVerdict(scope, len(calls), share, confidence)


def phase_verdicts(calls: np.ndarray, phase_codes: np.ndarray) -> list[ToolVerdict]:
    """One verdict per cutting phase present, in machining order."""
    calls, phase_codes = np.asarray(calls), np.asarray(phase_codes)
    verdicts = []
    for name in CUTTING_PHASES:
        mask = phase_codes == PHASE_CODES[name]
        if mask.any():
            verdicts.append(tool_verdict(calls[mask], scope=name))
    return verdicts


@dataclass
class RunVerdictTracker:
    """The live verdict of the run in progress, updated sample by sample in O(1).

    A run starts again when a Starting/Prep sample follows a cutting phase (a new part, or a
    replay looping): the tool may have been changed, so the evidence starts over."""

    block: int = BLOCK_SAMPLES
    samples: int = 0
    worn: int = 0
    phase: str = ""
    _block_sum: float = 0.0
    _block_len: int = 0
    _blocks: int = 0
    _means_sum: float = 0.0
    _means_sq: float = 0.0
    _cut: bool = False
    runs: int = 0
    _phase_counts: dict = field(default_factory=dict)  # phase code -> [samples, worn]

    def update(self, called_worn: bool, phase_code: int) -> None:
        if phase_code in _RUN_START_CODES and self._cut:
            self.reset()
            self.runs += 1
        if phase_code in CUTTING_CODES:
            self._cut = True
        self.phase = PHASES[phase_code] if 0 <= phase_code < len(PHASES) else ""
        value = 1.0 if called_worn else 0.0
        self.samples += 1
        self.worn += int(called_worn)
        counts = self._phase_counts.setdefault(phase_code, [0, 0])
        counts[0] += 1
        counts[1] += int(called_worn)
        self._block_sum += value
        self._block_len += 1
        if self._block_len == self.block:
            mean = self._block_sum / self.block
            self._blocks += 1
            self._means_sum += mean
            self._means_sq += mean * mean
            self._block_sum, self._block_len = 0.0, 0

    def reset(self) -> None:
        self.samples = self.worn = self._block_len = self._blocks = 0
        self._block_sum = self._means_sum = self._means_sq = 0.0
        self._cut = False
        self._phase_counts = {}

    def verdict(self) -> ToolVerdict:
        if self.samples == 0:
            return ToolVerdict("run", 0, float("nan"), 0.5)
        share = self.worn / self.samples
        return ToolVerdict("run", self.samples, share, _confidence(share, self._blocks, self._means_sum, self._means_sq))

    def phase_shares(self) -> dict[str, float]:
        """Share of samples called worn per phase of this run (the phase breakdown a tile shows)."""
        return {PHASES[code]: worn / samples for code, (samples, worn) in sorted(self._phase_counts.items())
                if samples and 0 <= code < len(PHASES)}


_START_ARRAY = np.array(sorted(_RUN_START_CODES))
_CUTTING_ARRAY = np.array(sorted(CUTTING_CODES))


@dataclass
class RunSplitter:
    """Cuts a stream of samples into runs by the rule :class:`RunVerdictTracker` restarts on (a
    Starting/Prep sample after a cutting phase), chunk by chunk and vectorised, for scoring files.

    :meth:`feed` returns the runs a chunk completed, each as ``(calls, phase_codes, lines)``;
    :meth:`finish` the last one. Only the run in progress is held, so memory stays bounded by a run.
    """

    _cut: bool = False
    _pending: list = field(default_factory=list)  # (calls, phases, lines) pieces of the open run

    def feed(self, calls: np.ndarray, phases: np.ndarray, lines: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        finished = []
        calls, phases, lines = np.asarray(calls), np.asarray(phases), np.asarray(lines)
        while len(phases):
            cutting = np.isin(phases, _CUTTING_ARRAY)
            seen_before = np.concatenate(([self._cut], np.logical_or.accumulate(cutting)[:-1] | self._cut))
            starts = np.flatnonzero(np.isin(phases, _START_ARRAY) & seen_before)
            if not starts.size:
                self._pending.append((calls, phases, lines))
                self._cut = self._cut or bool(cutting.any())
                break
            cut = int(starts[0])
            self._pending.append((calls[:cut], phases[:cut], lines[:cut]))
            finished.append(self._close())
            calls, phases, lines = calls[cut:], phases[cut:], lines[cut:]
        return finished

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        return self._close() if any(len(piece[0]) for piece in self._pending) else None

    def _close(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pieces, self._pending, self._cut = self._pending, [], False
        return tuple(np.concatenate([piece[i] for piece in pieces]) for i in range(3))
