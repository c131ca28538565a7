"""One interface for every live source: replay, file tail, OPC UA.

A source is started once, then polled without blocking: :meth:`LiveSource.read` returns the
samples that arrived since the last call as a scoring frame (:mod:`.samples`). Sources that
receive data on their own thread (OPC UA) set ``wake`` when samples arrive, so the scoring loop
reacts at once instead of on its next tick. Losing the connection is never an exception out of
``read``: the source reconnects with backoff and says so in :meth:`LiveSource.health`.

``MachineSpec.parse`` reads the command line's ``ID=SOURCE``, with SOURCE one of
``replay:PATH[@SPEED]``, ``tail:PATH`` and ``opc.tcp://HOST:PORT[/PATH]``. Options follow a
``?`` as ``key=value`` pairs joined by ``&``: the job constants some models need (``feedrate``,
``clamp_pressure``) for any kind, and for OPC UA ``mapping=FILE``, ``security=POLICY,MODE``,
``cert=FILE``, ``key=FILE``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import parse_qsl

import pandas as pd

KINDS = ("replay", "tail", "opcua")
JOB_KEYS = ("feedrate", "clamp_pressure", "program")
OPCUA_KEYS = ("mapping", "security", "cert", "key")


class SourceSpecError(ValueError):
    """A ``--machine ID=SOURCE`` the user must fix."""


class SourceState(str, Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # lost; retrying with backoff
    STOPPED = "stopped"


@dataclass
class SourceHealth:
    state: SourceState = SourceState.CONNECTING
    detail: str = ""  # the last error, or what the source is connected to
    received: int = 0  # accepted samples so far
    rejected: dict[str, int] = field(default_factory=dict)  # samples.REJECT_REASONS → count
    last_rejection: str = ""  # the detail of the latest rejected sample
    reconnects: int = 0  # successful connections after the first
    lag_s: float = 0.0  # how far the newest delivered sample trails the source's clock

    @property
    def up(self) -> bool:
        return self.state is SourceState.CONNECTED


class LiveSource(ABC):
    kind: str = ""

    def __init__(self) -> None:
        self.wake: threading.Event | None = None  # set by push sources when samples arrive

    @abstractmethod
    def start(self) -> None:
        """Begin connecting; returns at once (connection problems show in ``health``)."""

    @abstractmethod
    def read(self, limit: int | None = None) -> pd.DataFrame:
        """The samples arrived since the last call (at most ``limit``), never blocking."""

    @abstractmethod
    def health(self) -> SourceHealth:
        ...

    def next_due(self) -> float | None:
        """time.monotonic() of the next sample when the source knows it in advance (replays)."""
        return None

    def close(self) -> None:
        """Disconnect and release threads, sockets and files; safe to call twice."""

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class MachineSpec:
    machine: str
    kind: str  # one of KINDS
    target: str  # a file path (replay, tail) or an opc.tcp:// URL without options
    speed: float = 1.0  # replays only
    job: dict = field(default_factory=dict)  # feedrate, clamp_pressure
    options: dict = field(default_factory=dict)  # OPC UA: mapping, security, cert, key

    @property
    def path(self) -> Path:
        return Path(self.target)

    @property
    def text(self) -> str:
        return f"{self.machine}={self.source_text}"

    @property
    def source_text(self) -> str:
        if self.kind == "replay":
            return f"replay:{self.target}" + ("" if self.speed == 1.0 else f"@{self.speed:g}")
        if self.kind == "tail":
            return f"tail:{self.target}"
        return self.target

    @classmethod
    def parse(cls, text: str) -> MachineSpec:
        machine, sep, source = text.partition("=")
        machine = machine.strip()
        if not sep or not machine:
            raise SourceSpecError(f"--machine '{text}': expected ID=SOURCE, e.g. mill-1=replay:experiment_06.csv")
        source, _, query = source.partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        job = {}
        for key in JOB_KEYS:
            if key in options:
                try:
                    job[key] = float(options.pop(key))
                except ValueError:
                    raise SourceSpecError(f"--machine '{text}': {key} must be a number") from None
        if source.startswith("opc.tcp://"):
            unknown = sorted(set(options) - set(OPCUA_KEYS))
            if unknown:
                raise SourceSpecError(f"--machine '{text}': unknown option(s) {', '.join(unknown)}; "
                                      f"OPC UA takes {', '.join(OPCUA_KEYS + JOB_KEYS)}")
            if len(source) <= len("opc.tcp://"):
                raise SourceSpecError(f"--machine '{text}': opc.tcp:// needs HOST:PORT")
            for key in ("mapping", "cert", "key"):
                if key in options and not Path(options[key]).is_file():
                    raise SourceSpecError(f"--machine '{text}': {key} file {options[key]} does not exist")
            return cls(machine, "opcua", source, job=job, options=options)
        if options:
            raise SourceSpecError(f"--machine '{text}': unknown option(s) {', '.join(sorted(options))}; "
                                  f"file sources take {', '.join(JOB_KEYS)}")
        kind, sep, rest = source.partition(":")
        if kind not in ("replay", "tail") or not sep or not rest:
            raise SourceSpecError(f"--machine '{text}': SOURCE must be replay:PATH[@SPEED], tail:PATH "
                                  "or opc.tcp://HOST:PORT[/PATH]")
        if kind == "tail":
            if not Path(rest).parent.is_dir():
                raise SourceSpecError(f"--machine '{text}': folder {Path(rest).parent} does not exist")
            return cls(machine, "tail", rest, job=job)
        path, _, speed = rest.rpartition("@") if "@" in rest else (rest, "", "")
        try:
            speed_value = float(speed) if speed else 1.0
        except ValueError:
            raise SourceSpecError(f"--machine '{text}': speed '{speed}' is not a number") from None
        if not 0 < speed_value <= 1000:
            raise SourceSpecError(f"--machine '{text}': speed must be above 0 and at most 1000")
        if not Path(path).is_file():
            raise SourceSpecError(f"--machine '{text}': no such file {path}")
        return cls(machine, "replay", path, speed_value, job=job)


def machine_list_problems(machines: list[str]) -> list[str]:
    """Problems of a machine list (the Settings dialog's ``ID=SOURCE`` lines): specs that do not parse, and ids
    given more than once. Never a reason to reset the settings: the Operator view shows such a machine's problem."""
    problems, seen = [], set()
    for text in machines:
        try:
            spec = MachineSpec.parse(text)
        except SourceSpecError as error:
            problems.append(str(error).replace("--machine ", "machine "))
            continue
        if spec.machine in seen:
            problems.append(f"machine id {spec.machine} is given more than once")
        seen.add(spec.machine)
    return problems


class UnavailableSource(LiveSource):
    """Stands in for a configured machine whose source cannot be opened, so it is shown with why."""

    kind = "unavailable"

    def __init__(self, reason: str):
        super().__init__()
        self.reason = reason

    def start(self) -> None:
        pass

    def read(self, limit: int | None = None) -> pd.DataFrame:
        return pd.DataFrame()

    def health(self) -> SourceHealth:
        return SourceHealth(state=SourceState.STOPPED, detail=self.reason)

    def describe(self) -> str:
        return "not available"
