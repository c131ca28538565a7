"""Finding a setup's taught reference in the store, and the taught judgement of a recorded sample.

The live engine (``live.teach_state.TaughtLibrary``) and the explanations (``explain.taught``) read
a reference the same way, through :func:`read_reference`: a stored reference that cannot be used
is NOT TAUGHT with the reason, never a crash. :func:`judge_recorded` is the taught monitor's
explanation of one sample of a recorded run: which reference (the named machine's, else a machine
that taught the setup, and it says which), the sample's window and the run (``teach_in.judge_sample``),
and the operator's sentence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..data.setup import SetupKey
from ..store.taught_references import TaughtReferenceStore
from .teach_in import Limits, SampleJudgement, TaughtReference, TaughtVerdict, judge_sample

log = logging.getLogger(__name__)


def read_reference(store: TaughtReferenceStore, machine: str, setup: str,
                   default_limits: Limits) -> tuple[TaughtReference | None, Limits, str]:
    """(the active reference or None, the setup's limits, the problem when a stored reference or
    the store could not be used)."""
    try:
        stored = store.active(machine, setup)
        limits_data = store.limits(machine, setup)
    except Exception as error:  # a store that cannot be read: not taught, said why
        log.warning("machine %s, %s: cannot read the taught reference: %s", machine, setup, error)
        return None, default_limits, f"the taught reference could not be read: {error}"
    try:
        limits = Limits.from_json(limits_data) if limits_data else default_limits
    except (TypeError, ValueError) as error:
        log.warning("machine %s, %s: stored limits ignored: %s", machine, setup, error)
        limits = default_limits
    if stored is None:
        return None, limits, ""
    if stored.data is None:
        log.warning("machine %s, %s: stored reference v%s unusable: %s", machine, setup, stored.version, stored.problem)
        return None, limits, f"stored reference v{stored.version} is unusable ({stored.problem}); relearn it"
    try:
        return TaughtReference.from_json(stored.data, stored.version), limits, ""
    except (KeyError, TypeError, ValueError) as error:
        log.warning("machine %s, %s: stored reference v%s unusable: %s", machine, setup, stored.version, error)
        return None, limits, f"stored reference v{stored.version} is unusable ({error}); relearn it"


def machines_that_taught(store: TaughtReferenceStore, setup: str) -> list[str]:
    """The machines with an active reference for ``setup``, by name."""
    machines = sorted({stored.machine for stored in store.history(setup=setup)})
    return [machine for machine in machines if store.active(machine, setup) is not None]


def how_to_teach(source: str, machine: str | None) -> str:
    return (f"Teach it on a good run of this setup: `cncwear teach {source or 'FILE'} --machine "
            f"{machine or 'M'}`, or the machine tile's Teach menu.")


@dataclass
class TaughtExplanation:
    """The taught monitor's judgement of one recorded sample, with the reference it used."""

    state: str  # the sample's window: ok, warning, alarm, not_taught, not_cutting, no_setup
    sentence: str  # the operator's sentence: the window's, then which reference, or how to teach
    setup: str
    machine: str = ""  # whose reference judged it ("" when none)
    machine_note: str = ""  # how that machine was chosen
    reference_version: int = 0
    taught_on: list = field(default_factory=list)  # the runs the reference was taught on
    limits: Limits = field(default_factory=Limits)
    judgement: SampleJudgement | None = None  # None without a setup
    problem: str = ""  # a stored reference that could not be used
    reference_text: str = ""  # "(Reference: mill-1 · feed 6 · clamp 4 v1, taught on …)"

    @property
    def headline(self) -> str:
        """The sentence without which reference judged it (a card shows that beside it)."""
        return self.judgement.window.sentence if self.reference_version and self.judgement else self.sentence

    @property
    def window(self) -> TaughtVerdict | None:
        return self.judgement.window if self.judgement else None

    @property
    def run(self) -> TaughtVerdict | None:
        return self.judgement.run if self.judgement else None

    def to_json(self) -> dict:
        return {"state": self.state, "sentence": self.sentence, "setup": self.setup, "machine": self.machine,
                "machine_note": self.machine_note, "reference_version": self.reference_version,
                "taught_on": list(self.taught_on), "limits": self.limits.to_json(), "problem": self.problem,
                "reference_text": self.reference_text,
                **(self.judgement.to_json() if self.judgement else {})}


def judge_recorded(samples, row: int, setup: SetupKey, source: str, store: TaughtReferenceStore,
                   machine: str | None = None, default_limits: Limits | None = None) -> TaughtExplanation:
    """The taught judgement of sample ``row`` of a recorded run (one experiment's samples), of
    setup ``setup`` (``data.setup.setup_of_meta``), from file ``source``. The reference is
    ``machine``'s; without one, that of a machine that taught the setup (the note says which)."""
    default_limits = default_limits or Limits()
    if not setup.known:
        return TaughtExplanation("no_setup", f"The setup of {source or 'this run'} is unknown (no feed rate and clamp "
                                 "pressure in its metadata): it cannot be judged against a taught reference.",
                                 setup.text, limits=default_limits)
    taught_by = machines_that_taught(store, setup.text)
    note = ""
    if machine is None and taught_by:
        machine = taught_by[0]
        note = (f"No machine named: judged against {machine}'s reference, the only machine that taught {setup.text}."
                if len(taught_by) == 1 else
                f"No machine named: judged against {machine}'s reference; {', '.join(taught_by)} taught {setup.text} "
                "(name one to choose).")
    if machine is None:
        judgement = judge_sample(samples, row, None, default_limits, setup.text)
        return TaughtExplanation("not_taught", f"SETUP NOT TAUGHT: no machine has a reference for {setup.text}. "
                                 + how_to_teach(source, None), setup.text, limits=default_limits, judgement=judgement)
    reference, limits, problem = read_reference(store, machine, setup.text, default_limits)
    judgement = judge_sample(samples, row, reference, limits, setup.text)
    if reference is None:
        elsewhere = [m for m in taught_by if m != machine]
        sentence = (f"SETUP NOT TAUGHT: {setup.text} has no reference on {machine}"
                    + (f" ({problem})" if problem else "")
                    + (f"; it is taught on {', '.join(elsewhere)}" if elsewhere else "") + ". "
                    + how_to_teach(source, machine))
        return TaughtExplanation("not_taught", sentence, setup.text, machine, note, limits=limits,
                                 judgement=judgement, problem=problem)
    which = f"(Reference: {machine} · {setup.text} v{reference.version}" + (
        f", taught on {', '.join(reference.runs)}" if reference.runs else "") + ".)"
    window = judgement.window
    sentence = " ".join(part for part in (window.sentence, note, which) if part)
    return TaughtExplanation(window.state, sentence, setup.text, machine, note, reference.version,
                             list(reference.runs), limits, judgement, reference_text=which)
