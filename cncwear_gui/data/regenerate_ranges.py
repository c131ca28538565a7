"""Regenerate ``plausible_ranges.csv`` from the bundled dataset: ``python -m cncwear_gui.data.regenerate_ranges``.

Kept apart from ranges.py: loading the dataset validates it, and validation reads the ranges.
"""

from __future__ import annotations

from ..paths import bundled_dataset_dir
from .dataset import load_dataset
from .ranges import RANGES_FILE, derive_ranges


def _regenerate() -> None:
    dataset = load_dataset([bundled_dataset_dir()], check_ranges=False)
    derive_ranges(dataset.samples()).to_csv(RANGES_FILE, index=False, float_format="%.6g")
    print(f"wrote {RANGES_FILE}")


if __name__ == "__main__":
    _regenerate()
