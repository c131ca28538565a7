"""Which source class serves each kind of machine spec (replay, tail, OPC UA).

Apart from sources.py, which the source classes build on, so that module imports none of them.
"""

from __future__ import annotations

from .sources import LiveSource, MachineSpec, SourceSpecError


def open_source(spec: MachineSpec) -> LiveSource:
    """The source for ``spec``, not yet started (OPC UA imports asyncua only when used)."""
    if spec.kind == "replay":
        from .replay import replay_of_file

        return replay_of_file(spec.path, spec.speed, spec.job)
    if spec.kind == "tail":
        from .tail import TailSource

        return TailSource(spec.path, job=spec.job)
    if spec.kind == "opcua":
        from .opcua_source import OpcUaSource

        return OpcUaSource(spec.target, job=spec.job, **spec.options)
    raise SourceSpecError(f"unknown source kind {spec.kind}")
