"""What an AutoML search is asked to do, shared by both engines, and the checks made before it starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..settings import dask_address_problem

ENGINES = ("auto-sklearn", "flaml")
#: grouped-*: whole experiments held out, so the search prefers what carries over to an unseen tool.
RESAMPLING = ("grouped-holdout", "grouped-cv", "holdout", "cv")
METRICS = ("accuracy", "balanced_accuracy", "f1", "roc_auc")
#: tree-ensembles: only forests and gradient boosting, on the features as they are; more candidates fit in the budget.
SEARCH_SPACES = ("all", "tree-ensembles")
MIN_BUDGET_S = {"auto-sklearn": 30, "flaml": 5}


@dataclass
class SearchConfig:
    budget_s: int = 60
    seed: int = 1
    metric: str = "accuracy"
    resampling: str = "grouped-holdout"  # how the search scores candidates on its training rows
    folds: int = 5
    per_run_s: int | None = None  # auto-sklearn: limit for one candidate fit
    memory_mb: int = 3072  # auto-sklearn: limit per worker
    dask_address: str | None = None  # auto-sklearn: train on a site's Dask cluster
    workers: int = 1  # auto-sklearn: candidates fitted in parallel on this machine
    search_space: str = "all"

    def check(self, y: np.ndarray, groups: np.ndarray, engine: str = "auto-sklearn") -> None:
        """Refuse bad input before anything starts."""
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        if self.resampling not in RESAMPLING:
            raise ValueError(f"resampling must be one of {', '.join(RESAMPLING)}")
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}")
        if self.budget_s < MIN_BUDGET_S[engine]:
            raise ValueError(f"{engine} needs a time budget of at least {MIN_BUDGET_S[engine]} s")
        if self.search_space not in SEARCH_SPACES:
            raise ValueError(f"search space must be one of {', '.join(SEARCH_SPACES)}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.dask_address:
            if engine != "auto-sklearn":
                raise ValueError("a Dask scheduler is used by auto-sklearn only; FLAML trains on this machine")
            if problem := dask_address_problem(self.dask_address):
                raise ValueError(problem)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"the training table has only one class ({classes.tolist()}); both worn and unworn are needed")
        if self.resampling in ("cv", "grouped-cv") and len(y) < self.folds:
            raise ValueError(f"{len(y)} rows are fewer than the {self.folds} folds")
        if self.resampling == "grouped-holdout" and len(np.unique(groups)) < 3:
            raise ValueError(f"grouped-holdout needs at least 3 experiments, the table has {len(np.unique(groups))}")
        if self.resampling == "grouped-cv" and len(np.unique(groups)) < self.folds:
            raise ValueError(f"{len(np.unique(groups))} experiments are fewer than the {self.folds} folds")
