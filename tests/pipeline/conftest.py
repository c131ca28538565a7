"""The pipeline tests' shared data: a folder with six bundled experiments and their train.csv."""

from __future__ import annotations

import shutil

import pytest
from helpers import PIPELINE_SUBSET


@pytest.fixture(scope="module")
def subset_dir(tmp_path_factory, bundled_dir):
    folder = tmp_path_factory.mktemp("subset")
    shutil.copy(bundled_dir / "train.csv", folder)
    for number in PIPELINE_SUBSET:
        shutil.copy(bundled_dir / f"experiment_{number:02d}.csv", folder)
    return folder
