"""Writes tests/store/data/store-0.9.0.sql: a store as cncwear 0.9.0 itself wrote it.

Run with 0.9.0's own code (the release commit 4122148), from this checkout's root:

    git worktree add --detach /tmp/v090 4122148
    CNCWEAR_HOME=$(mktemp -d) PYTHONPATH=/tmp/v090 .venv/bin/python tests/store/data/make_store_090.py /tmp/v090

It imports two short experiments (the first 25 rows of experiments 1 and 6 with their train.csv
lines, so the dump stays small) and the bundled feature sets through 0.9.0's FeatureStore,
re-imports one changed file (a second version), logs predictions and audit entries through its
live log, records pipeline firings, seen files and feedback through its pipeline history, and
dumps the SQLite file as SQL text (sqlite3's iterdump: schema, triggers and rows).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

RELEASE = Path(sys.argv[1]).resolve()
OUT = Path(__file__).with_name("store-0.9.0.sql")
sys.path.insert(0, str(RELEASE))

import cncwear_gui  # noqa: E402

assert cncwear_gui.__file__.startswith(str(RELEASE)), cncwear_gui.__file__
assert cncwear_gui.__version__ == "0.9.0"

from cncwear_gui.data.dataset import load_dataset  # noqa: E402
from cncwear_gui.monitoring.history import PipelineHistory  # noqa: E402
from cncwear_gui.store.feature_store import FeatureStore  # noqa: E402
from cncwear_gui.store.live_log import AuditTrail, PredictionLog  # noqa: E402

BUNDLED = RELEASE / "resources" / "data" / "cnc_mill_tool_wear"
ROWS = 25


def short_copy(folder: Path, numbers: list[int], rows: int, tweak: bool = False) -> Path:
    """The first ``rows`` rows of each experiment and their lines of train.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        lines = (BUNDLED / f"experiment_{number:02d}.csv").read_text().splitlines()[: rows + 1]
        if tweak:  # a changed file for the same experiment: a new version
            lines = lines[:-1]
        (folder / f"experiment_{number:02d}.csv").write_text("\n".join(lines) + "\n")
    train = (BUNDLED / "train.csv").read_text().splitlines()
    keep = [train[0]] + [line for line in train[1:] if int(line.split(",")[0]) in numbers]
    (folder / "train.csv").write_text("\n".join(keep) + "\n")
    return folder


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="cncwear-0.9.0-"))
    db = work / "features.db"
    url = f"sqlite:///{db}"
    store = FeatureStore(url)
    first = store.import_dataset(load_dataset([short_copy(work / "a", [1, 6], ROWS)]))
    again = store.import_dataset(load_dataset([short_copy(work / "b", [6], ROWS, tweak=True)]))
    assert len(first.imported) == 2 and len(again.imported) == 1, (first, again)
    store.close()

    audit = AuditTrail(url)
    audit.record("alarm.acknowledged", subject="m1-alarm-1", machine="m1", comment="checked the tool",
                 user="operator1")
    audit.record("settings.changed", subject="alarm_threshold", old_value=0.5, new_value=0.6, user="engineer")
    audit.record("model.promoted", subject="cncwear-wear", old_value="1", new_value="2", user="engineer")
    audit.close()

    log = PredictionLog(url, flush_interval_s=0.05)
    stamp = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc).timestamp()
    log.append([{"machine": f"m{m}", "probability": round(0.05 * i, 2), "wear_state": "worn" if i > 7 else "ok",
                 "sample_time": stamp + i * 0.1, "model_version": "2", "quality_flags": i % 3}
                for m in (1, 2) for i in range(10)])
    log.append({"machine": "m3", "probability": None, "wear_state": "unknown", "quality_flags": 4})
    assert log.close()

    history = PipelineHistory(url)
    firing = history.record("manual", "started from the window")
    history.finish(firing, "kept", {"gate": {"passed": False, "reason": "challenger not better"}})
    history.record("schedule", "weekly", status="skipped")
    history.mark_seen({"0" * 64: "/data/incoming/experiment_19.csv"})
    history.add_feedback(machine="m1", model_version="2", predicted_worn=True, actual_worn=False,
                         source="false alarm")
    history.close()

    connection = sqlite3.connect(db)
    dump = "\n".join(connection.iterdump()) + "\n"
    connection.close()
    OUT.write_text(f"-- A cncwear 0.9.0 store (commit 4122148), written by {Path(__file__).name}.\n" + dump)
    print(f"{OUT}: {len(dump)} characters")


if __name__ == "__main__":
    os.environ.setdefault("CNCWEAR_HOME", tempfile.mkdtemp(prefix="cncwear-home-"))
    main()
