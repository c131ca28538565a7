"""The app's retraining watcher: a real ``cncwear pipeline watch`` child, killed and failing."""

import os
import signal
import time

import pytest

from cncwear_gui.pipeline.watcher import OFF, PipelineWatcher
from cncwear_gui.settings import Settings, save_settings


@pytest.fixture
def watched_settings(home, tmp_path, monkeypatch):
    """A watched folder and no champion, saved where the child reads its settings."""
    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(tmp_path / "config"))
    (tmp_path / "incoming").mkdir()
    return Settings(pipeline_watch_dir=str(tmp_path / "incoming"))


def _wait_until(condition, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_killed_watcher_is_reported_and_started_again(watched_settings, tmp_path):
    save_settings(watched_settings)
    watcher = PipelineWatcher(tmp_path, interval_s=0.5)
    watcher.apply(watched_settings)
    first = watcher.process.pid
    assert watcher.status == f"watching (pid {first})" and not watcher.failed
    time.sleep(4)  # several rounds with nothing to fire and no champion to judge
    watcher.apply(watched_settings)
    assert watcher.process.pid == first and not watcher.failed
    assert watcher.new_firings() == []  # nothing new in the folder: no pipeline ran
    os.kill(first, signal.SIGKILL)
    _wait_until(lambda: not watcher.running)
    watcher.apply(watched_settings)
    assert watcher.failed and watcher.running and watcher.process.pid != first
    assert watcher.status.startswith(f"restarted (pid {watcher.process.pid}) after the watcher stopped with signal SIGKILL")
    watcher.apply(watched_settings)  # a restarted child that keeps running keeps the notice
    assert watcher.failed
    process = watcher.process
    watcher.apply(Settings())  # nothing to watch any more
    assert watcher.status == OFF and not watcher.failed
    assert process.wait(timeout=30) is not None


def test_a_watcher_that_keeps_failing_shows_its_error_and_backs_off(watched_settings, tmp_path, monkeypatch):
    from cncwear_gui.pipeline import watcher as pipeline_watcher

    monkeypatch.setattr(pipeline_watcher, "FIRST_RETRY_DELAY_S", 2)
    failing = Settings(pipeline_watch_dir=watched_settings.pipeline_watch_dir, feature_store_url=f"sqlite:///{tmp_path}/no/such/folder/store.db")
    save_settings(failing)
    watcher = PipelineWatcher(tmp_path, interval_s=0.5)
    watcher.apply(failing)
    _wait_until(lambda: not watcher.running)
    watcher.apply(failing)  # the first death: started again at once
    assert watcher.failed and watcher.running
    assert "after the watcher stopped with exit code 1: cncwear pipeline: failed:" in watcher.status
    assert watcher.status.endswith("(sqlite3.OperationalError) unable to open database file")  # not SQLAlchemy's link
    _wait_until(lambda: not watcher.running)
    watcher.apply(failing)  # the second in a row: it waits before the next start
    assert not watcher.running and watcher.status.startswith("next start in 2 s; the watcher stopped with exit code 1")
    time.sleep(2.1)
    watcher.apply(failing)
    assert watcher.running
    _wait_until(lambda: not watcher.running)
    watcher.apply(failing)  # the third: twice as long
    assert not watcher.running and watcher.status.startswith("next start in 4 s")
    watcher.apply(Settings())
    assert watcher.status == OFF and not watcher.failed
