"""The bundled dataset loads completely, with the flag counts PROVENANCE.md documents."""

import numpy as np
import pandas as pd
import pytest

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.ranges import RANGES_FILE, derive_ranges
from cncwear_gui.data.schema import EXPERIMENT_COLUMNS, PHASES, SIGNAL_COLUMNS


def test_all_18_files_load_with_every_row(bundled_dataset):
    assert bundled_dataset.ok
    assert sorted(bundled_dataset.experiments) == list(range(1, 19))
    assert bundled_dataset.rows == 25_286
    samples = bundled_dataset.samples()
    assert len(samples) == 25_286
    assert samples[list(SIGNAL_COLUMNS)].dtypes.eq(np.float64).all()
    assert np.isfinite(samples[list(SIGNAL_COLUMNS)].to_numpy()).all()


def test_experiment_12_with_cr_only_line_endings(bundled_dir, bundled_dataset):
    raw = (bundled_dir / "experiment_12.csv").read_bytes()
    assert b"\n" not in raw and raw.count(b"\r") > 2000  # the quirk is really there
    experiment = bundled_dataset.experiments[12]
    # 2,277 CR-separated lines: the header and 2,276 rows; the last row has no line ending,
    # which is why counting line endings suggests 2,275 data rows. 25,286 in total needs 2,276.
    assert experiment.rows == 2_276
    first = experiment.samples.iloc[0]
    assert first["X1_ActualPosition"] == pytest.approx(144.0)
    assert experiment.samples["line"].iloc[-1] == 2_277


def test_phases_are_normalised_end_and_starting(bundled_dataset):
    process = bundled_dataset.samples()["Machining_Process"]
    counts = process.value_counts()
    assert counts["End"] == 2_585 + 8  # 'End' and 'end' are one phase
    assert counts["Starting"] == 1
    assert set(counts.index) <= set(PHASES)
    assert (bundled_dataset.samples()["phase"] >= 0).all()


def test_flag_counts_match_provenance(bundled_dataset):
    totals = {}
    for report in bundled_dataset.reports:
        for name, count in report.flags.items():
            totals[name] = totals.get(name, 0) + count
    assert totals["m1_feedrate_50"] == 6_253
    assert totals["x1_position_198"] == 4_360
    assert totals["m1_program_nonzero"] == 24_581
    assert totals["documented_unreliable"] == 7_431
    assert totals["out_of_range"] == 0 and totals["non_finite"] == 0 and totals["unknown_phase"] == 0
    flags = bundled_dataset.samples()["quality_flags"].to_numpy()
    either = (flags & 0b11) != 0
    assert either.sum() == 7_431
    program = bundled_dataset.samples()["M1_CURRENT_PROGRAM_NUMBER"].value_counts()
    assert program.to_dict() == {1.0: 24_317, 0.0: 705, 4.0: 264}


def test_flagged_rows_are_excludable_not_rejected(bundled_dataset):
    from cncwear_gui.data.schema import DOCUMENTED_UNRELIABLE

    kept = bundled_dataset.samples(exclude_flags=DOCUMENTED_UNRELIABLE)
    assert len(kept) == 25_286 - 7_431
    assert all(report.status == "ok" for report in bundled_dataset.reports)


def test_metadata_labels_and_outcomes(bundled_dataset):
    metas = {n: e.meta for n, e in bundled_dataset.experiments.items()}
    assert sum(m.tool_condition == "worn" for m in metas.values()) == 10
    assert sum(m.tool_condition == "unworn" for m in metas.values()) == 8
    # the leakage trap PROVENANCE.md names: feedrates 12 and 15 only occur with worn tools
    assert {m.tool_condition for m in metas.values() if m.feedrate in (12, 15)} == {"worn"}
    samples = bundled_dataset.samples()
    assert "passed_visual_inspection" not in samples and "machining_finalized" not in samples


def test_plausible_range_table_is_derived_from_the_bundled_data(bundled_dataset):
    shipped = pd.read_csv(RANGES_FILE)
    derived = derive_ranges(bundled_dataset.samples())
    assert list(shipped["column"]) == list(SIGNAL_COLUMNS)
    np.testing.assert_allclose(shipped["low"], derived["low"], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(shipped["high"], derived["high"], rtol=1e-5, atol=1e-9)
    assert (shipped["low"] < shipped["observed_min"]).all() and (shipped["high"] > shipped["observed_max"]).all()


def test_files_given_one_by_one_find_their_train_csv(bundled_dir):
    dataset = load_dataset([bundled_dir / "experiment_06.csv", bundled_dir / "experiment_09.csv"])
    assert dataset.ok
    assert sorted(dataset.experiments) == [6, 9]
    assert dataset.experiments[6].meta.tool_condition in ("worn", "unworn")


def test_progress_and_cancel(bundled_dir):
    from cncwear_gui.tasks import Cancelled, Task

    seen = []
    task = Task(lambda fraction, message: seen.append(fraction))
    load_dataset([bundled_dir], task=task)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)

    cancelling = Task(lambda fraction, message: fraction > 0.3 and cancelling.cancel())
    with pytest.raises(Cancelled):
        load_dataset([bundled_dir], task=cancelling)


def test_columns_in_file_order(bundled_dir):
    header = (bundled_dir / "experiment_01.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == EXPERIMENT_COLUMNS
