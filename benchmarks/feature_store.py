"""Import the bundled dataset into a fresh SQLite feature store, re-import it, read it back.

    .venv/bin/python benchmarks/feature_store.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.paths import bundled_dataset_dir
from cncwear_gui.store.feature_store import FeatureStore


def main() -> None:
    dataset = load_dataset([bundled_dataset_dir()])
    with tempfile.TemporaryDirectory() as folder:
        store = FeatureStore(f"sqlite:///{Path(folder) / 'features.db'}")
        for label, action in (
            ("import 25,286 rows", lambda: store.import_dataset(dataset)),
            ("re-import (no-op)", lambda: store.import_dataset(dataset)),
            ("load back", lambda: store.load_dataset()),
        ):
            started = time.perf_counter()
            action()
            print(f"{label:<20} {time.perf_counter() - started:.3f} s")
        size = (Path(folder) / "features.db").stat().st_size
        print(f"store size           {size / 1e6:.1f} MB")
        store.close()


if __name__ == "__main__":
    main()
