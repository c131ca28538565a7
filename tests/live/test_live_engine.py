"""The live engine on real replays, a real champion and a real SQLite store: scoring, the alarm,
acknowledgement (write-ahead), false-alarm labels, shelving, the prediction log, the metrics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from cncwear_gui.live.alarms import AlarmError
from cncwear_gui.live.engine import LiveConfig, LiveNode, open_machine
from cncwear_gui.live.replay import ReplaySource
from cncwear_gui.live.sources import MachineSpec, SourceSpecError
from cncwear_gui.monitoring.metrics import AppMetrics

WORN, UNWORN = 6, 1


class SteppedClock:
    def __init__(self):
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def live(tmp_path, champion, bundled_dataset):
    """Two replays (a worn and an unworn tool) on a stepped clock, logging to a fresh SQLite store."""
    from cncwear_gui.store.audit_trail import AuditTrail
    from cncwear_gui.store.pipeline_history import PipelineHistory
    from cncwear_gui.store.prediction_log import PredictionLog

    url = f"sqlite:///{tmp_path / 'live.db'}"
    stores = {"audit": AuditTrail(url), "predictions": PredictionLog(url), "feedback": PipelineHistory(url)}
    clock = SteppedClock()
    samples = bundled_dataset.samples()
    metrics = AppMetrics(process_metrics=False)
    config = LiveConfig(threshold=0.5, window=30, alarm_delay=20)
    machines = []
    for name, experiment in (("worn-mill", WORN), ("unworn-mill", UNWORN)):
        source = ReplaySource(samples[samples["experiment"] == experiment], clock=clock)
        machines.append(open_machine(MachineSpec(name, "replay", "memory"), champion, metrics, config, source=source))
    node = LiveNode(machines, champion, metrics, config, clock=clock, **stores)
    node.start_sources()

    def run_for(seconds: float, step: float = 1.0) -> None:
        for _ in range(round(seconds / step)):
            clock.now += step
            node.step()

    yield node, run_for, stores, metrics
    for store in stores.values():
        store.close()


def metric(metrics: AppMetrics, name: str, **labels) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_worn_tool_raises_an_alarm_an_unworn_one_does_not(live):
    node, run_for, stores, metrics = live
    run_for(30)
    worn, unworn = node.alarm_of("worn-mill"), node.alarm_of("unworn-mill")
    assert worn["state"] == "unacknowledged" and worn["needs_action"]
    assert unworn["state"] == "normal"
    views = {v.machine: v for v in node.views()}
    assert views["worn-mill"].state.value == "worn" and views["unworn-mill"].state.value == "ok"
    # every released sample was scored and logged with the model version: nothing dropped
    assert [m.monitor.scored for m in node.machines] == [300, 300]
    assert stores["predictions"].flush()
    assert stores["predictions"].count("worn-mill") == 300 and stores["predictions"].count("unworn-mill") == 300
    logged = stores["predictions"].recent("worn-mill", limit=1)[0]
    assert logged["model_version"] == str(node.model.version) and logged["wear_state"] == "worn"
    # the raise is in the audit trail and the metrics
    raised = stores["audit"].entries(machine="worn-mill", action_prefix="alarm.")
    assert [e.action for e in raised] == ["alarm.raised"] and raised[0].new_value == "unacknowledged"
    assert stores["audit"].entries(machine="unworn-mill") == []
    assert metric(metrics, "cncwear_alarm_state", machine="worn-mill", state="unacknowledged") == 1
    assert metric(metrics, "cncwear_alarms_active", machine="worn-mill") == 1
    assert metric(metrics, "cncwear_predictions_total", machine="worn-mill", predicted_class="worn") > 250


def test_the_alarm_waits_for_a_confident_run_verdict_and_then_the_delay(live):
    node, run_for, _, _ = live
    worn, unworn = node.machines[0].monitor, node.machines[1].monitor
    # the run verdict needs two 5 s blocks of samples before it may decide
    run_for(9.5, step=0.1)
    assert worn.tracker.state.value == "worn"  # the smoothed P(worn) alone would already say worn
    assert worn.state.value == "unknown" and worn.verdict.verdict().confidence == 0.5
    assert node.alarm_of("worn-mill")["state"] == "normal"
    run_for(1.0, step=0.1)
    verdict = worn.verdict.verdict()
    assert worn.state.value == "worn" and verdict.worn and verdict.decided
    assert node.alarm_of("worn-mill")["state"] == "normal"  # the verdict must persist 20 samples
    run_for(2.0, step=0.1)
    assert node.alarm_of("worn-mill")["state"] == "unacknowledged"
    assert unworn.state.value == "ok" and not unworn.verdict.verdict().worn
    assert node.alarm_of("unworn-mill")["state"] == "normal"


def test_acknowledge_is_written_before_it_takes_effect(live):
    node, run_for, stores, metrics = live
    run_for(30)
    with pytest.raises(AlarmError, match="nothing to acknowledge"):
        node.acknowledge("unworn-mill", "olga")
    assert stores["audit"].entries(machine="unworn-mill") == []

    transitions = node.acknowledge("worn-mill", "olga", "checked, replacing at the end of the part")
    assert [(t.old_state.value, t.new_state.value) for t in transitions] == [("unacknowledged", "acknowledged")]
    ack = stores["audit"].entries(machine="worn-mill", action_prefix="alarm.acknowledged")[0]
    assert (ack.os_user, ack.comment, ack.old_value, ack.new_value) == (
        "olga", "checked, replacing at the end of the part", "unacknowledged", "acknowledged")
    assert node.alarm_of("worn-mill")["state"] == "acknowledged"
    assert metric(metrics, "cncwear_alarm_state", machine="worn-mill", state="acknowledged") == 1

    # a store that refuses the write: the alarm stays unacknowledged (nothing shown that is not stored)
    node.shelve("worn-mill", 1, "olga")
    node.unshelve("worn-mill", "olga")  # the condition is still active: a new, unacknowledged occurrence
    assert node.alarm_of("worn-mill")["state"] == "unacknowledged"
    from sqlalchemy.exc import OperationalError

    engine = stores["audit"].engine
    with engine.begin() as conn:  # the audit table is gone: every write fails
        conn.exec_driver_sql("ALTER TABLE audit_trail RENAME TO audit_trail_away")
    try:
        with pytest.raises(OperationalError, match="audit_trail"):
            node.acknowledge("worn-mill", "olga")
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_trail_away RENAME TO audit_trail")
    assert node.alarm_of("worn-mill")["state"] == "unacknowledged"
    assert len(stores["audit"].entries(machine="worn-mill", action_prefix="alarm.acknowledged")) == 1


def test_a_false_alarm_becomes_a_label_for_the_degradation_trigger(live):
    node, run_for, stores, _ = live
    run_for(30)
    node.acknowledge("worn-mill", "olga", "tool looked fine", false_alarm=True)
    entry = stores["audit"].entries(machine="worn-mill", action_prefix="alarm.false_alarm")[0]
    assert entry.comment == "tool looked fine"
    accuracy, labels = stores["feedback"].feedback_accuracy(str(node.model.version), last=20)
    assert (accuracy, labels) == (0.0, 1)  # predicted worn, actually not: one wrong prediction
    rows = node.alarm_list("all", "worn-mill")
    assert rows and rows[0]["false_alarm"] and rows[0]["acknowledged_by"] == "olga"


def test_a_shelved_alarm_stays_quiet_and_comes_back_when_the_shelve_expires(live):
    node, run_for, stores, _ = live
    run_for(30)
    node.shelve("worn-mill", 30, "olga", "tool change planned at 14:00")
    assert node.alarm_of("worn-mill")["state"] == "shelved"
    run_for(30)
    assert node.alarm_of("worn-mill")["state"] == "shelved" and node.alarm_list("shelved")[0]["machine"] == "worn-mill"
    alarm = node.board.get("worn-mill")
    expired = alarm.tick(datetime.now(timezone.utc) + timedelta(minutes=31))
    assert [t.action for t in expired] == ["shelve_expired"] and alarm.state.value == "unacknowledged"
    actions = [e.action for e in stores["audit"].entries(machine="worn-mill")]
    assert "alarm.shelved" in actions


def test_the_drift_window_holds_what_was_scored(live, champion, bundled_dataset):
    node, run_for, _, _ = live
    run_for(20)
    features, probability = node.windows()["worn-mill"]
    rows = bundled_dataset.samples()
    rows = rows[rows["experiment"] == WORN].iloc[:200]
    np.testing.assert_array_equal(champion.feature_set.build(features).to_numpy(),
                                  champion.feature_set.build(rows).to_numpy())
    np.testing.assert_allclose(probability, champion.worn_probability(rows))
    np.testing.assert_array_equal(features["quality_flags"].to_numpy(), rows["quality_flags"].to_numpy())


@pytest.fixture(scope="module")
def setup_reference(champion, bundled_dataset):
    """The champion's per-setup drift reference, built from its training runs (the bundled data)."""
    from cncwear_gui.monitoring.reference import build_setup_reference

    return build_setup_reference(champion, bundled_dataset)


def test_a_reference_handed_over_later_is_checked_at_once_and_the_views_carry_the_checks(
        live, champion, bundled_dataset, setup_reference):
    """The desktop app's path: the engine starts without a reference, learns it later (any thread),
    checks at once in its next pass and every time it is asked; each view carries its machine's check,
    the same per-setup comparison ``cncwear drift`` makes."""
    from cncwear_gui.data.setup import setups_of_rows
    from cncwear_gui.monitoring.reference import build_model_reference
    from cncwear_gui.monitoring.setup_drift import compare

    node, run_for, _, metrics = live
    run_for(20)
    assert all(m.monitor.reference is None for m in node.machines)
    node.check_drift()  # no reference: nothing is checked, no gauge moves
    assert metric(metrics, "cncwear_drift_checks_total", machine="worn-mill") == 0
    assert all(v.drift is None for v in node.views())
    with pytest.raises(TypeError, match="per-setup reference"):  # one kind of reference, one check
        node.set_reference(build_model_reference(champion, bundled_dataset), str(champion.version))

    node.set_reference(setup_reference, "not-this-version")  # a reference of another model is ignored
    node.step()
    assert all(m.monitor.reference is None for m in node.machines)
    assert metric(metrics, "cncwear_drift_checks_total", machine="worn-mill") == 0

    node.set_reference(setup_reference, str(champion.version))
    views = {v.machine: v for v in node.step()}  # no new samples: the check of this pass is on the same window
    check = views["worn-mill"].drift
    monitor = node.machines[0].monitor
    assert check is monitor.last_check and check.report is monitor.last_drift and check.error == ""
    assert check.rows == 200 and check.model_version == str(champion.version) and check.left_out == 0
    rows = bundled_dataset.samples()
    rows = rows[rows["experiment"] == WORN].iloc[:200]
    assert check.setup == setups_of_rows(rows)[0] == "feed 6 · clamp 4"
    features, probability = node.windows()["worn-mill"]
    expected = compare(setup_reference, champion.feature_set.build(features), rows["phase"].to_numpy(), check.setup,
                       probability, features["quality_flags"].to_numpy())
    assert check.report.reasons == expected.reasons and check.report.group_psi == pytest.approx(expected.group_psi)
    assert check.state == ("ok" if expected.group_psi else "not_judged") and not check.report.drifted
    for group in ("X1", "Y1", "Z1", "S1", "M1", "process"):
        value = metric(metrics, "cncwear_drift_psi", machine="worn-mill", group=group)
        assert value == pytest.approx(expected.group_psi[group]) if group in expected.group_psi else np.isnan(value)
    assert metric(metrics, "cncwear_drift_checks_total", machine="worn-mill") == 1
    assert metric(metrics, "cncwear_drift_unfamiliar_setup", machine="worn-mill") == 0
    assert np.isnan(metric(metrics, "cncwear_prediction_drift_psi", machine="worn-mill"))  # none per setup
    fractions = np.histogram(np.clip(probability, 0, 1), bins=np.linspace(0, 1, 11))[0] / len(probability)
    np.testing.assert_allclose(check.prediction_fractions, fractions)

    run_for(1)  # passes without a request check nothing: the views carry the same check
    assert node.views()[0].drift is check
    node.request_drift_check()
    node.step()
    assert node.views()[0].drift is not check and node.views()[0].drift.rows == 210
    assert metric(metrics, "cncwear_drift_checks_total", machine="worn-mill") == 2


def test_the_periodic_check_takes_one_machine_per_pass_a_request_all_at_once(live, champion, setup_reference):
    node, run_for, _, metrics = live
    run_for(20)
    node.set_reference(setup_reference, str(champion.version))
    node.step()  # the hand-over is a request: every machine at once
    checks = [metric(metrics, "cncwear_drift_checks_total", machine=m.name) for m in node.machines]
    assert checks == [1, 1]
    node.schedule_drift_checks()
    node.step()
    assert [metric(metrics, "cncwear_drift_checks_total", machine=m.name) for m in node.machines] == [2, 1]
    node.schedule_drift_checks()  # the next interval: worn-mill again after unworn-mill, which is still due once
    for expected in ([2, 2], [3, 2], [3, 2]):
        node.step()
        assert [metric(metrics, "cncwear_drift_checks_total", machine=m.name) for m in node.machines] == expected


def _setup_drift_node(champion, bundled_dataset, setup_reference, replays: dict, seconds: float = 600):
    """A live engine (its own metrics, a stepped clock) whose replays ran ``seconds`` (10 s steps),
    with the per-setup reference handed over and one drift check made."""
    clock = SteppedClock()
    metrics = AppMetrics(process_metrics=False)
    config = LiveConfig()
    machines = [open_machine(MachineSpec(name, "replay", "memory"), champion, metrics, config,
                             source=ReplaySource(rows, clock=clock)) for name, rows in replays.items()]
    node = LiveNode(machines, champion, metrics, config, clock=clock)
    node.start_sources()
    node.set_reference(setup_reference, str(champion.version))
    for _ in range(int(seconds / 10)):
        clock.now += 10
        node.step()
    node.check_drift()
    return node, {m.name: m.monitor.last_check for m in node.machines}, metrics


SIGNAL = "S1_CurrentFeedback"


@pytest.mark.parametrize("fault", ["gain", "frozen"])
def test_a_replay_of_a_training_run_has_no_drift_a_faulty_signal_is_named(champion, bundled_dataset, setup_reference,
                                                                          fault):
    """Ten minutes of experiment 3 (its replay loops) against the training runs of its setup: no
    drift; the same run with a 15 % gain on (or a frozen) spindle current: drifted, naming it."""
    samples = bundled_dataset.samples()
    clean = samples[samples["experiment"] == 3]
    faulty = clean.copy()
    faulty[SIGNAL] = clean[SIGNAL] * 1.15 if fault == "gain" else float(clean[SIGNAL].iloc[0])
    node, checks, metrics = _setup_drift_node(champion, bundled_dataset, setup_reference,
                                              {"clean": clean, "faulty": faulty})
    ok, bad = checks["clean"], checks["faulty"]
    assert ok.rows == bad.rows == 6000 and ok.setup == bad.setup == "feed 6 · clamp 3"
    assert ok.state == "ok" and not ok.report.drifted and not ok.report.alarms, ok.report.reasons
    assert bad.state == "drifted" and [f.name for f in bad.report.alarms] == [SIGNAL], bad.report.reasons
    assert any(SIGNAL in reason for reason in bad.report.reasons)
    assert metric(metrics, "cncwear_drift_features_drifted", machine="faulty") == 1
    assert metric(metrics, "cncwear_drift_features_drifted", machine="clean") == 0
    assert metric(metrics, "cncwear_drift_psi", machine="faulty", group="S1") >= 0.25
    assert metric(metrics, "cncwear_drift_psi", machine="clean", group="S1") < 0.25


def test_a_setup_the_model_never_trained_on_is_unfamiliar_not_drift(champion, bundled_dataset, setup_reference):
    samples = bundled_dataset.samples()
    run = samples[samples["experiment"] == 3]
    new_job = run.assign(feedrate=20.0, clamp_pressure=2.5)  # the same signals, a job the reference lacks
    node, checks, metrics = _setup_drift_node(champion, bundled_dataset, setup_reference,
                                              {"known": run, "new-job": new_job}, seconds=120)
    unfamiliar = checks["new-job"]
    assert unfamiliar.state == "unfamiliar" and unfamiliar.setup == "feed 20 · clamp 2.5"
    assert unfamiliar.report.unfamiliar and not unfamiliar.report.drifted and not unfamiliar.report.alarms
    assert unfamiliar.report.reasons == ["unfamiliar setup feed 20 · clamp 2.5: no reference run; not judged as drift"]
    assert checks["known"].state == "ok"
    assert metric(metrics, "cncwear_drift_unfamiliar_setup", machine="new-job") == 1
    assert metric(metrics, "cncwear_drift_unfamiliar_setup", machine="known") == 0
    assert np.isnan(metric(metrics, "cncwear_drift_psi", machine="new-job", group="S1"))  # not judged: no value
    assert metric(metrics, "cncwear_drift_features_drifted", machine="new-job") == 0
    assert metric(metrics, "cncwear_drift_checks_total", machine="new-job") == 2  # at the hand-over, and now
    assert node.views()[1].drift is unfamiliar


def test_after_a_setup_change_only_the_new_setups_rows_are_compared(champion, bundled_dataset, setup_reference):
    """A machine that ran experiment 3 (feed 6 · clamp 3) and then experiment 14 (feed 3 · clamp 3):
    the window's older rows of the first job are left out; the new job is judged on its own rows."""
    import pandas as pd

    samples = bundled_dataset.samples()
    first, then = samples[samples["experiment"] == 3], samples[samples["experiment"] == 14]
    node, checks, _ = _setup_drift_node(champion, bundled_dataset, setup_reference,
                                        {"mill": pd.concat([first, then], ignore_index=True)},
                                        seconds=(len(first) + len(then)) / 10)
    check, monitor = checks["mill"], node.machines[0].monitor
    assert check.setup == "feed 3 · clamp 3" and check.left_out == len(first)
    assert check.rows == monitor.window_size - len(first) > 600
    assert check.state == "ok" and "14" in check.report.reasons[0].partition("run(s)")[2], check.report.reasons
    phases, setups = monitor.window_phases_and_setups()
    assert list(setups[[0, -1]]) == ["feed 6 · clamp 3", "feed 3 · clamp 3"]
    np.testing.assert_array_equal(phases, np.concatenate([first["phase"], then["phase"]])[:monitor.window_size])


@pytest.mark.parametrize("text, message", [
    ("mill-1", "expected ID=SOURCE"),
    ("mill-1=ftp://x", "SOURCE must be replay:PATH"),
    ("mill-1=replay:/no/such.csv", "no such file"),
    ("mill-1=replay:{bundled}/experiment_01.csv@fast", "speed 'fast' is not a number"),
    ("mill-1=tail:/no/such/folder/log.csv", "folder /no/such/folder does not exist"),
    ("mill-1=opc.tcp://127.0.0.1:4840?mapping=/no/map.csv", "mapping file /no/map.csv does not exist"),
    ("mill-1=opc.tcp://127.0.0.1:4840?colour=red", "unknown option(s) colour"),
    ("mill-1=tail:/tmp/log.csv?feedrate=six", "feedrate must be a number"),
])
def test_bad_machine_specs_say_what_is_wrong(text, message, bundled_dir):
    with pytest.raises(SourceSpecError) as error:
        MachineSpec.parse(text.format(bundled=bundled_dir))
    assert message in str(error.value)


def test_machine_specs_round_trip(bundled_dir):
    replay = MachineSpec.parse(f"mill-1=replay:{bundled_dir}/experiment_06.csv@2.5")
    assert (replay.kind, replay.speed) == ("replay", 2.5) and MachineSpec.parse(replay.text) == replay
    opcua = MachineSpec.parse("m=opc.tcp://10.0.0.5:4840/cnc?feedrate=6&clamp_pressure=4&security=Basic256Sha256,SignAndEncrypt")
    assert (opcua.kind, opcua.target, opcua.job) == ("opcua", "opc.tcp://10.0.0.5:4840/cnc", {"feedrate": 6.0, "clamp_pressure": 4.0})
    assert opcua.options == {"security": "Basic256Sha256,SignAndEncrypt"}


def test_the_small_batch_forest_scores_bit_identically(champion, bundled_dataset):
    import copy

    from cncwear_gui.models.small_batches import MAX_ROWS, SmallBatchForest, for_small_batches

    forest = champion.estimator
    fast = for_small_batches(forest)
    assert isinstance(fast, SmallBatchForest)  # the first-start champion is a forest fitted on arrays
    one_thread = copy.copy(forest).set_params(n_jobs=1)  # sums the trees in order, as the fast path does
    X = champion.feature_set.matrix(bundled_dataset.samples().iloc[::97])
    for rows in (X[:1], X[:8], X[:MAX_ROWS]):
        np.testing.assert_array_equal(fast.predict_proba(rows), one_thread.predict_proba(rows))
        np.testing.assert_allclose(fast.predict_proba(rows), forest.predict_proba(rows), rtol=0, atol=1e-15)
        np.testing.assert_array_equal(fast.predict(rows), forest.predict(rows))
    assert for_small_batches(object()) is not None and not isinstance(for_small_batches("x"), SmallBatchForest)


def test_a_new_part_starts_a_new_verdict_and_the_light_holds_meanwhile(live, bundled_dataset):
    node, run_for, _, metrics = live
    samples = bundled_dataset.samples()
    rows = int((samples["experiment"] == WORN).sum())
    worn = node.machines[0].monitor
    run_for(rows / 10 + 3.0)  # the replay loops: its Prep samples start a new part 3 s ago
    assert worn.verdict.runs == 1 and 0 < worn.verdict.verdict().samples < 2 * worn.verdict.block
    assert not worn.verdict.verdict().decided
    assert worn.state.value == "worn"  # held: no flicker at every part start
    assert metric(metrics, "cncwear_wear_state", machine="worn-mill", state="worn") == 1
    run_for(10.0)
    assert worn.verdict.verdict().decided and worn.state.value == "worn"
