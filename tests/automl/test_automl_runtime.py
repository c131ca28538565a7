"""The AutoML runtime (Python 3.9 venv) imports auto-sklearn; the AutoML issue builds on it."""

import os

import pytest

from cncwear_gui.automl.runtime import automl_python, check_runtime


@pytest.mark.automl
def test_autosklearn_imports_in_the_automl_runtime():
    if automl_python() is None and not os.environ.get("CNCWEAR_REQUIRE_AUTOML"):
        pytest.skip("no AutoML runtime here (no Python 3.9); setup said so and continued")
    status = check_runtime()
    assert status.available, status.message
    assert status.versions["autosklearn"] == "0.15.0"
    assert status.versions["sklearn"] == "0.24.2"
    assert status.versions["python"].startswith("3.9.")
    assert tuple(int(x) for x in status.versions["numpy"].split(".")[:2]) < (1, 24)


def test_a_broken_runtime_is_reported_not_crashed(tmp_path, monkeypatch):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named autosklearn' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CNCWEAR_AUTOML_PYTHON", str(fake))
    status = check_runtime()
    assert not status.available and "No module named autosklearn" in status.message
