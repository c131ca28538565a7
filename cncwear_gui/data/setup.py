"""A run's setup identity: the job constants (feed rate, clamp pressure) and the NC program.

Industrial tool monitors judge a tool against a reference taught per machine, program and tool,
never across jobs (Caron TMAC, Heidenhain AFC; the shared research notes). The setup key is that
"program": two runs with the same key are the same job and can be compared.

Files get the constants from train.csv or hand-entered metadata; live machines from the source
spec's ``?feedrate=…&clamp_pressure=…[&program=…]`` (or OPC UA nodes mapped to those columns).
The program is part of the key only when it is given as such (a ``program`` column or option):
the dataset's ``M1_CURRENT_PROGRAM_NUMBER`` is 1 for every experiment, with transient 0 and 4
during start-up (PROVENANCE.md), so reading it would split one run into several setups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PROGRAM_COLUMN = "program"  # a job constant like feedrate, never the M1 signal


@dataclass(frozen=True, order=True)
class SetupKey:
    feedrate: float = math.nan
    clamp_pressure: float = math.nan
    program: int | None = None

    @property
    def known(self) -> bool:
        """Both job constants are known (a setup without them cannot be taught or compared)."""
        return math.isfinite(self.feedrate) and math.isfinite(self.clamp_pressure)

    @property
    def text(self) -> str:
        """The key as stored and shown: ``feed 6 · clamp 4`` (``· program 4711`` when known)."""
        if not self.known:
            return "setup unknown"
        text = f"feed {self.feedrate:g} · clamp {self.clamp_pressure:g}"
        return text if self.program is None else f"{text} · program {self.program}"

    def __str__(self) -> str:
        return self.text

    def to_json(self) -> dict:
        return {"feedrate": None if math.isnan(self.feedrate) else self.feedrate,
                "clamp_pressure": None if math.isnan(self.clamp_pressure) else self.clamp_pressure,
                "program": self.program, "text": self.text}

    @classmethod
    def from_json(cls, data: dict) -> SetupKey:
        def number(value):
            return math.nan if value is None else float(value)

        program = data.get("program")
        return cls(number(data.get("feedrate")), number(data.get("clamp_pressure")),
                   None if program is None else int(program))

    @classmethod
    def parse(cls, text: str) -> SetupKey:
        """The inverse of :attr:`text`; raises ValueError naming what is not understood."""
        parts = [p.strip() for p in text.split("·")]
        values: dict[str, str] = {}
        for part in parts:
            name, _, value = part.partition(" ")
            if name not in ("feed", "clamp", "program") or not value:
                raise ValueError(f"setup '{text}': expected 'feed F · clamp C[ · program P]'")
            values[name] = value
        try:
            return cls(float(values["feed"]), float(values["clamp"]),
                       int(values["program"]) if "program" in values else None)
        except (KeyError, ValueError):
            raise ValueError(f"setup '{text}': expected 'feed F · clamp C[ · program P]'") from None


def setup_of_meta(meta) -> SetupKey:
    """The setup of an experiment from its metadata (``data.metadata.ExperimentMeta``, or None)."""
    if meta is None:
        return SetupKey()
    return SetupKey(float(meta.feedrate), float(meta.clamp_pressure))


def setup_of_row(feedrate, clamp_pressure, program=None) -> SetupKey:
    """The setup of one live sample (NaN where a constant is not given)."""
    program = None if program is None or not math.isfinite(program) else int(program)
    return SetupKey(float(feedrate), float(clamp_pressure), program)


def setups_of_rows(rows) -> np.ndarray:
    """The setup key text of every row of a samples frame (``setup unknown`` without constants)."""
    n = len(rows)
    feed = rows["feedrate"].to_numpy(np.float64) if "feedrate" in rows else np.full(n, np.nan)
    clamp = rows["clamp_pressure"].to_numpy(np.float64) if "clamp_pressure" in rows else np.full(n, np.nan)
    program = rows[PROGRAM_COLUMN].to_numpy(np.float64) if PROGRAM_COLUMN in rows else np.full(n, np.nan)
    keys = np.empty(n, dtype=object)
    cache: dict[tuple, str] = {}
    for i in range(n):
        triple = (feed[i], clamp[i], program[i])
        text = cache.get(triple)
        if text is None:
            text = cache[triple] = setup_of_row(*triple).text
        keys[i] = text
    return keys
