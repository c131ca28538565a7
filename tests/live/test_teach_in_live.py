"""The taught monitor in the live engine, on real replays and a real SQLite store: teach on one
run, judge the next of the same setup, SETUP NOT TAUGHT, setup changes, tool changes."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers import replay_node

from cncwear_gui.data.setup import SetupKey
from cncwear_gui.monitoring.teach_in import Limits, TaughtJudge, teach, windows_of_samples


def experiments(dataset, *numbers) -> pd.DataFrame:
    samples = dataset.samples()
    return pd.concat([samples[samples["experiment"] == n] for n in numbers], ignore_index=True)


@pytest.fixture
def node_for(tmp_path, champion):
    """A node over replays of the given frames (10× speed on a stepped clock) with a fresh store."""
    url = f"sqlite:///{tmp_path / 'floor.db'}"
    opened = []

    def make(frames: dict[str, pd.DataFrame], relearn=True):
        node, run_samples, stores, metrics = replay_node(frames, champion, url, alarm_delay=5,
                                                          relearn_after_tool_change=relearn)
        opened.extend(stores.values())
        return node, run_samples, stores, metrics

    yield make
    for store in opened:
        store.close()


def view(node, machine):
    return {v.machine: v for v in node.views()}[machine]


def test_replaying_experiment_1_then_6_teaches_on_1_and_judges_6(node_for, bundled_dataset):
    one, six = experiments(bundled_dataset, 1), experiments(bundled_dataset, 6)
    # what the taught monitor says offline on the same runs: the live node must agree
    offline = TaughtJudge(teach(windows_of_samples(one), "mill", SetupKey(6, 4)), Limits())
    offline.update(windows_of_samples(six))

    node, run_samples, stores, metrics = node_for({"mill": pd.concat([one, six], ignore_index=True)})
    node.start_teach_in("mill", "operator")
    run_samples(len(one) - 100)
    assert view(node, "mill").taught.state == "teaching"
    run_samples(200)  # experiment 6 has begun: experiment 1 was the teach-in run
    taught = view(node, "mill")
    assert taught.setup == "feed 6 · clamp 4" and taught.taught.reference_version == 1
    stored = stores["library"].store.active("mill", "feed 6 · clamp 4")
    assert stored.version == 1 and set(stored.data["taught"]) == {
        "Layer 1 Up", "Layer 1 Down", "Layer 2 Up", "Layer 2 Down", "Layer 3 Up", "Layer 3 Down"}
    run_samples(len(six) - 300)  # to near the end of experiment 6 (the replay then starts over)
    judged = view(node, "mill").taught
    assert judged.state == ("alarm" if offline.alarm else "ok")
    if offline.alarm:  # the live alarm is the offline one: same window, same signal, same phase
        assert judged.judgement.phase == offline.alarm_window.phase
        assert judged.judgement.signal == offline.alarm_window.signal
        assert judged.judgement.load_pct == pytest.approx(offline.alarm_window.load_pct)
        assert judged.judgement.phase in judged.sentence and "% of the taught value" in judged.sentence
        assert node.alarm_of("mill")["state"] != "normal"  # the taught alarm feeds the ISA-18.2 lifecycle
    learned = stores["audit"].entries(action_prefix="teach.")
    assert sorted(e.action for e in learned) == ["teach.learned", "teach.started"]
    assert metrics.registry.get_sample_value("cncwear_taught_state", {"machine": "mill", "state": judged.state}) == 1


def test_a_machine_on_an_untaught_setup_shows_setup_not_taught(node_for, bundled_dataset):
    node, run_samples, _, metrics = node_for({"mill": experiments(bundled_dataset, 2)})
    run_samples(600)
    shown = view(node, "mill")
    assert shown.setup == "feed 20 · clamp 4"
    assert shown.taught.state == "not_taught" and shown.taught.sentence.startswith("SETUP NOT TAUGHT")
    get = metrics.registry.get_sample_value
    assert get("cncwear_taught_state", {"machine": "mill", "state": "not_taught"}) == 1
    assert get("cncwear_taught_state", {"machine": "mill", "state": "ok"}) == 0
    assert get("cncwear_setup", {"machine": "mill", "setup": "feed 20 · clamp 4"}) == 1
    assert math.isnan(get("cncwear_taught_load_percent", {"machine": "mill"}))


def test_a_reference_taught_or_forgotten_by_another_process_is_taken_up(node_for, bundled_dataset):
    """`cncwear teach` writes from its own process while the window runs: the running node judges with
    it from its next poll on, and NOT TAUGHT again once it is forgotten there."""
    from cncwear_gui.store.taught_references import TaughtReferenceStore

    six = experiments(bundled_dataset, 6)
    node, run_samples, stores, _ = node_for({"mill": six})
    run_samples(300)
    assert view(node, "mill").taught.state == "not_taught"
    other = TaughtReferenceStore(str(stores["library"].store.engine.url))
    try:
        reference = teach(windows_of_samples(experiments(bundled_dataset, 1)), "mill", SetupKey(6, 4))
        other.save("mill", "feed 6 · clamp 4", reference.to_json(), "anna", "taught from the CLI")
        run_samples(100)
        shown = view(node, "mill").taught
        assert shown.state != "not_taught" and shown.reference_version == 1
        other.set_limits("mill", "feed 6 · clamp 4", Limits(warn_pct=40, alarm_pct=80).to_json(), "anna")
        run_samples(100)
        assert node.machine("mill").monitor.teach_in.limits.alarm_pct == 80
        other.forget("mill", "feed 6 · clamp 4", "anna", "relearn from the CLI")
        run_samples(100)
        assert view(node, "mill").taught.state == "not_taught"
    finally:
        other.close()


def test_a_setup_that_changes_mid_stream_starts_a_new_run(node_for, bundled_dataset):
    one = experiments(bundled_dataset, 1)
    changed = one.copy()
    half = len(one) // 2
    changed.loc[half:, "feedrate"] = 12.0  # another job from the middle of the file on
    node, run_samples, _, metrics = node_for({"mill": changed})
    run_samples(half - 100)
    assert view(node, "mill").setup == "feed 6 · clamp 4"
    run_samples(300)
    teach_in = node.machine("mill").monitor.teach_in
    assert view(node, "mill").setup == "feed 12 · clamp 4" and teach_in.runs == 1
    get = metrics.registry.get_sample_value
    assert get("cncwear_setup", {"machine": "mill", "setup": "feed 12 · clamp 4"}) == 1
    assert get("cncwear_setup", {"machine": "mill", "setup": "feed 6 · clamp 4"}) is None


def test_a_tool_change_labels_the_run_resets_the_tool_life_and_starts_a_teach_in(node_for, bundled_dataset):
    six = experiments(bundled_dataset, 6)
    node, run_samples, stores, metrics = node_for({"mill": six})
    run_samples(800)
    before = node.machine("mill").monitor.teach_in
    assert before.tool_cutting_s > 0
    record = node.tool_change("mill", "worn", "operator", "flank wear seen")
    run_samples(100)
    teach_in = node.machine("mill").monitor.teach_in
    assert teach_in.tool_cutting_s < 20 and teach_in.tool_runs == 0
    assert view(node, "mill").taught.state == "teaching"
    assert stores["tool_changes"].latest("mill").id == record.id and record.run_label == "worn"
    assert [e.action for e in stores["audit"].entries(action_prefix="tool.")] == ["tool.changed"]
    assert metrics.registry.get_sample_value("cncwear_tool_changes_total", {"machine": "mill", "reason": "worn"}) == 1
    # the label reached the degradation trigger's feedback
    accuracy, labels = stores["feedback"].feedback_accuracy(str(node.model.version), 10)
    assert labels == 1


def test_a_tool_change_recorded_by_another_process_is_applied(node_for, bundled_dataset):
    from cncwear_gui.store.tool_changes import ToolChangeLog

    node, run_samples, stores, _ = node_for({"mill": experiments(bundled_dataset, 1)})
    run_samples(500)
    url = str(stores["tool_changes"].engine.url)
    other = ToolChangeLog(url)  # what `cncwear tool-change` writes from another process
    other.record("mill", "scheduled", "night shift")
    other.close()
    run_samples(200)
    teach_in = node.machine("mill").monitor.teach_in
    assert teach_in.learning and teach_in.tool_runs == 0


def test_unknown_machine_and_reason_are_refused_and_nothing_is_written(node_for, bundled_dataset):
    from cncwear_gui.live.alarms import AlarmError

    node, _, stores, _ = node_for({"mill": experiments(bundled_dataset, 1)})
    with pytest.raises(AlarmError, match="unknown machine"):
        node.tool_change("lathe", "worn", "operator")
    with pytest.raises(AlarmError, match="reason"):
        node.tool_change("mill", "tired", "operator")
    assert stores["tool_changes"].latest("mill") is None
