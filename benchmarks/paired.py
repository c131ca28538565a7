"""The paired protocol on the bundled dataset: the taught monitor on matched unworn/worn runs.

    .venv/bin/python benchmarks/paired.py [--champion] [--json] [--warn-pct 15] [--alarm-pct 30] [--delay-windows 3]

Per pair (models/paired.py): taught on the first half of each phase of the unworn run, false
alarms on its second halves, detection on the whole worn run. Prints the table and the totals:
worn runs detected of 8, false alarms per hour over all unworn halves, median seconds of cutting to
detection. ``--champion`` adds the classifier column (the registry's champion, trained on first
start in CNCWEAR_HOME; a first-start champion has seen these runs, so that column is optimistic).
The same report: ``cncwear benchmark --protocol paired``.
"""

from __future__ import annotations

import argparse
import json
import math
import time

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.models.paired import PAIRS, model_training_files, paired_protocol, training_note
from cncwear_gui.monitoring.teach_in import Limits
from cncwear_gui.paths import bundled_dataset_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--champion", action="store_true", help="the champion's verdict beside the monitor")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    parser.add_argument("--warn-pct", type=float, default=Limits.warn_pct)
    parser.add_argument("--alarm-pct", type=float, default=Limits.alarm_pct)
    parser.add_argument("--delay-windows", type=int, default=Limits.delay_windows)
    args = parser.parse_args()

    dataset = load_dataset([bundled_dataset_dir()])
    model = None
    if args.champion:
        from cncwear_gui.models.champion import ensure_champion

        model = ensure_champion(dataset)
    started = time.perf_counter()
    report = paired_protocol(dataset, Limits(args.warn_pct, args.alarm_pct, args.delay_windows), model)
    seconds = time.perf_counter() - started
    if model is not None:
        report.classifier_note = training_note(model_training_files(model.run_id), dataset)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return
    print(report.format_table())
    rate = report.false_alarms_per_hour
    median = report.median_detection_s
    halves = [p for p in report.taught if p.false_alarms]
    print()
    print(f"worn runs detected:        {report.detected} of {len(PAIRS)}"
          f" ({len(PAIRS) - len(report.taught)} pair(s) not taught)")
    print(f"false alarms per hour:     {'—' if math.isnan(rate) else f'{rate:.1f}'}"
          f" ({report.false_alarms} alarms in {report.unworn_cutting_s:g} s of unworn cutting;"
          f" {len(halves)} of {len(report.taught)} unworn halves raised at least one)")
    print(f"median s to detection:     {'—' if math.isnan(median) else f'{median:g}'}")
    print(f"protocol time:             {seconds:.2f} s")


if __name__ == "__main__":
    main()
