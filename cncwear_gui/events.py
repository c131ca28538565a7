"""JSON-line events: one JSON object per line on a child's stdout, flushed as it happens.

The ``cncwear`` command's ``--progress-json`` output, the auto-sklearn job's stdout, ``cncwear
serve``'s and ``cncwear pipeline watch``'s stdout all speak this one format; the app and the
core read them with :func:`parse_line` (a line that is not a JSON object, e.g. a library's own
print, is ``None`` and skipped) and write them with :func:`emit`. This module imports nothing
from cncwear_gui, so every layer and the AutoML runtime's job script (Python 3.9, which cannot
import cncwear_gui and keeps its own ``emit`` of the same shape) can follow it.

Schema (every key listed is present; ``…`` marks further keys of the payload):

Progress (any long command with ``--progress-json``)
    {"progress": 0.0…1.0, "message": str}

Training job events (``train``/``benchmark``/``pipeline run`` with ``--progress-json``; the
auto-sklearn job and FLAML, see ``automl.jobs.JobEvent``): ``{"event": KIND, …}`` with KIND
    "started"   budget_s, rows, features, resampling (+ pid, python, autosklearn, sklearn | flaml)
    "trial"     n, model, score, duration_s, status, elapsed_s
    "best"      n, model, score, elapsed_s          (after a trial that improved the best score)
    "ensemble"  members: [{"model", "weight", "score"}]
    "evaluated" protocol: "seed", rows             (auto-sklearn: test rows predicted)
    "fold"      protocol: "loeo", n, of, experiment, elapsed_s
    "done"      elapsed_s (+ model_path, leaderboard_path)
    "error"     message                            (auto-sklearn: then exit code 1)

``cncwear serve`` (and ``cncwear simulate opcua``)
    {"event": "serving", "url", "model", "machines": [id, …]}      (simulate: url, namespace, …)
    {"event": "model", "model", "run_id"}                            (a new champion is scored)
    {"event": "model-error", "version", "error", "model"}           (it could not be loaded; still scoring "model")
    {"event": "disk-low", "free_bytes", "floor_bytes", "store"}    (raw prediction rows stopped; roll-ups, alarms, audit go on)
    {"event": "disk-ok", "free_bytes", "floor_bytes", "store"}     (raw prediction rows written again)
    {"event": "store-down", "store", "pending", "error"}           (the prediction log cannot write: rows wait in memory)
    {"event": "store-up", "store", "pending"}                      (writing again; the waiting rows follow)
    {"event": "stopped", "scored": {machine: n}, "alarms": {machine: state},
     "log": {"written", "pending", "dropped", "failed_batches", "batches", "batch_p50_ms", "batch_p99_ms",
             "batch_max_ms"}}                                            (simulate: published; "log" unless --no-log)

Pipeline firings
    {"firing": {"id", "trigger", "status": "running" | "skipped"}}   ``pipeline run --progress-json``: first,
                                                                    as soon as the firing is recorded
    {"fired": true, "firing_id", "trigger", "reason", "status", "steps", "lineage", "pipeline_run_id",
     "training_run_id", "model_version", "gate", "error"}           ``pipeline run``: the result (last line)
    {"fired": false, "trigger", "reason", "context"}                ``pipeline run``: the trigger did not fire
    {"fired": true, "trigger", "firing_id", "status", "reason", "error"}   ``pipeline watch``: each pipeline it ran

Interim results
    {"first_start": {…}}  ``champion``: a first start's model, fitted and verified, before it is registered

Results (the last line with ``--progress-json``)
    {"champion": {…}}  {"training": {…}}  {"registry": {…}}  {"promotion": {"decision", "promoted", "registry"}}
    {"snapshot": {…}}  (``cncwear monitor``)
"""

from __future__ import annotations

import json
import sys
from typing import IO, Iterable

FIRING = "firing"


def line(data: dict) -> str:
    """One event as its line (without the newline); values JSON does not know become strings."""
    return json.dumps(data, default=str)


def emit(data: dict, stream: IO[str] | None = None) -> None:
    """Write one event line and flush it (the reader acts on it at once)."""
    stream = sys.stdout if stream is None else stream
    stream.write(line(data) + "\n")
    stream.flush()


def emit_event(kind: str, **fields) -> None:
    """``{"event": kind, **fields}`` on stdout."""
    emit({"event": kind, **fields})


def emit_progress(fraction: float, message: str, stream: IO[str] | None = None) -> None:
    emit({"progress": round(fraction, 4), "message": message}, stream)


def emit_firing(firing_id: int, trigger: str, status: str, stream: IO[str] | None = None) -> None:
    """The pipeline firing this process recorded, before it runs: the reader matches it by id."""
    emit({FIRING: {"id": firing_id, "trigger": trigger, "status": status}}, stream)


def parse_line(text: str | bytes) -> dict | None:
    """The JSON object on this line, or None (blank, not JSON, or JSON that is not an object)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def parse_lines(lines: str | bytes | Iterable[str]) -> list[dict]:
    """Every event in a text (or an iterable of lines), in order; other lines are skipped."""
    if isinstance(lines, bytes):
        lines = lines.decode("utf-8", errors="replace")
    if isinstance(lines, str):
        lines = lines.splitlines()
    return [data for data in map(parse_line, lines) if data is not None]


def parse_last(text: str | bytes) -> dict | None:
    """The last event in a text (a helper child's one answer), or None."""
    found = parse_lines(text)
    return found[-1] if found else None


def is_progress(data: dict) -> bool:
    return "progress" in data


def split_event(data: dict) -> tuple[str, dict] | None:
    """(kind, the other fields) of an ``{"event": kind, …}`` line; None for any other line."""
    kind = data.get("event")
    if not kind:
        return None
    return str(kind), {k: v for k, v in data.items() if k != "event"}


def firing_of(data: dict) -> dict | None:
    """The ``{"id", "trigger", "status"}`` of a firing line; None for any other line."""
    firing = data.get(FIRING)
    return firing if isinstance(firing, dict) and "id" in firing else None
