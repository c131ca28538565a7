"""Running the auto-sklearn job (autosklearn_job.py) in the AutoML runtime from the main app.

The client writes the training table to a temp dir, starts the job in its own process group,
turns its JSON lines into ``JobEvent``s, and on success moves the result directory (model,
leaderboard, ensemble) to its final place in one rename. Cancel (``Task.cancel``) and any
failure kill the whole process group (SIGTERM, then SIGKILL after 0.5 s) and leave nothing
in the destination.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import events
from ..paths import user_data_dir
from ..process_groups import stop_group
from ..tasks import Cancelled, Task, ensure_task
from .config import SearchConfig
from .runtime import automl_env, automl_python

JOB_SCRIPT = Path(__file__).with_name("autosklearn_job.py")
KILL_GRACE_S = 0.5  # nothing worth saving on cancel: the result is published only when complete
REAP_WAIT_S = 3.0


class AutoMLUnavailable(RuntimeError):
    """No AutoML runtime here: say so, and offer FLAML."""


class JobFailed(RuntimeError):
    pass


@dataclass
class JobEvent:
    kind: str
    data: dict


@dataclass
class JobResult:
    model_dir: Path
    events: list[JobEvent] = field(default_factory=list)

    @property
    def model_path(self) -> Path:
        return self.model_dir / "model.pkl"

    @property
    def ensemble(self) -> dict:
        return json.loads((self.model_dir / "ensemble.json").read_text())

    def predictions(self, protocol: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(row indices, predicted labels) of an evaluation protocol the job ran, else None."""
        path = self.model_dir / f"predictions_{protocol}.csv"
        if not path.is_file():
            return None
        table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
        return table[:, 0], table[:, 1]


def models_dir() -> Path:
    path = user_data_dir() / "automl-models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_autosklearn_job(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    feature_names: list[str],
    config: SearchConfig,
    task: Task | None = None,
    on_event: Callable[[JobEvent], None] | None = None,
    test_rows: np.ndarray | None = None,
    loeo: bool = False,
) -> JobResult:
    """Search on all rows but ``test_rows``; predict those (seed protocol) and, with ``loeo``,
    refit the found ensemble per left-out experiment. See autosklearn_job.py for the protocol."""
    task = ensure_task(task)
    config.check(y, groups, "auto-sklearn")
    python = automl_python()
    if python is None:
        raise AutoMLUnavailable("auto-sklearn is not installed here (it needs Python 3.9 on Linux); train with FLAML instead")
    events: list[JobEvent] = []
    with tempfile.TemporaryDirectory(prefix="cncwear-automl-") as work:
        work_dir = Path(work)
        output = work_dir / "result"
        output.mkdir()
        table = work_dir / "table.csv"
        frame = {name: X[:, i] for i, name in enumerate(feature_names)}
        import pandas as pd

        roles = np.full(len(y), "train", dtype=object)
        if test_rows is not None:
            roles[test_rows] = "test"
        pd.DataFrame({**frame, "worn": y, "experiment": groups, "role": roles}).to_csv(table, index=False)
        config_path = work_dir / "config.json"
        settings = {**config.__dict__, "table": str(table), "output_dir": str(output), "loeo": loeo}
        config_path.write_text(json.dumps(settings))
        process = subprocess.Popen(
            [str(python), str(JOB_SCRIPT), str(config_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: cancel kills every worker it forked
            cwd=work,
            env=automl_env(),
        )
        stderr_tail: list[str] = []
        drain = threading.Thread(target=_drain, args=(process.stderr, stderr_tail), daemon=True)
        drain.start()
        watchdog = threading.Thread(target=_watch, args=(process, task), daemon=True)
        watchdog.start()
        done = None
        error = None
        try:
            for line in process.stdout:
                event = _parse(line)
                if event is None:
                    continue
                events.append(event)
                if on_event is not None:
                    on_event(event)
                if event.kind == "trial":
                    elapsed = float(event.data.get("elapsed_s", 0))
                    task.progress(min(0.8, 0.8 * elapsed / max(1, config.budget_s)), f"trial {event.data['n']}: {event.data['model']}")
                elif event.kind == "fold":
                    fold, of = event.data["n"], event.data["of"]
                    task.progress(0.8 + 0.19 * fold / of, f"LOEO refit {fold}/{of} (experiment {event.data['experiment']} held out)")
                elif event.kind == "done":
                    done = event
                elif event.kind == "error":
                    error = event.data.get("message", "unknown error")
            process.wait()
        finally:
            kill_group(process)  # also reaps workers left behind when the leader died
        if task.cancelled:
            raise Cancelled()
        if process.returncode != 0 or done is None:
            raise JobFailed(_failure(process.returncode, error, stderr_tail))
        destination = models_dir() / f"autosklearn-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        shutil.rmtree(output / "autosklearn-tmp", ignore_errors=True)
        shutil.move(str(output), str(destination))
    task.progress(1.0, "auto-sklearn finished")
    return JobResult(destination, events)


def kill_group(process: subprocess.Popen) -> None:
    """SIGTERM the job's process group, SIGKILL what is left after the grace period."""
    stop_group(process, KILL_GRACE_S, REAP_WAIT_S)


def _watch(process: subprocess.Popen, task: Task) -> None:
    """Kill the group on cancel, and when the leader died: its orphaned workers would otherwise
    keep the job's stdout open and the client would wait for output forever."""
    while process.poll() is None and not task.cancelled:
        time.sleep(0.05)
    kill_group(process)


def _drain(stream, tail: list[str]) -> None:
    for line in stream:
        tail.append(line.rstrip())
        del tail[:-40]


def _parse(line: str) -> JobEvent | None:
    data = events.parse_line(line)
    event = None if data is None else events.split_event(data)
    return None if event is None else JobEvent(*event)


def _failure(returncode: int, error: str | None, stderr_tail: list[str]) -> str:
    if error:
        return f"auto-sklearn job failed: {error}"
    if returncode is not None and returncode < 0:
        return f"auto-sklearn job was killed by {signal.Signals(-returncode).name}"
    last = next((line for line in reversed(stderr_tail) if line.strip()), "no output")
    return f"auto-sklearn job exited with code {returncode}: {last}"
