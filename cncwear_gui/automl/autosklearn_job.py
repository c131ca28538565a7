"""The auto-sklearn training job. Runs in the AutoML runtime (Python 3.9), never in the app.

    <automl python> autosklearn_job.py CONFIG.json

Protocol (stdout, one JSON object per line, flushed):
    {"event": "started", "budget_s", "rows", "features", "resampling", "pid"}
    {"event": "trial", "n", "model", "score", "duration_s", "status", "elapsed_s"}
    {"event": "best", "n", "model", "score", "elapsed_s"}          (after a trial that improved it)
    {"event": "ensemble", "members": [{"model", "weight", "score"}]}
    {"event": "evaluated", "protocol": "seed", "rows"}              (test rows predicted)
    {"event": "fold", "protocol": "loeo", "n", "of", "experiment", "elapsed_s"}   (per refit, as they finish)
    {"event": "done", "model_path", "leaderboard_path", "elapsed_s"}
    {"event": "error", "message"}                                   (then exit code 1)
Anything else on stdout/stderr is auto-sklearn's own logging.

CONFIG: {"table": CSV with feature columns + "worn" + "experiment" + "role", "output_dir", "budget_s",
"per_run_s", "memory_mb", "seed", "metric", "resampling" (grouped-holdout|grouped-cv|holdout|cv), "folds",
"dask_address" (optional), "workers", "search_space" (all|tree-ensembles), "loeo" (bool)}.
Evaluation: the search sees only rows with role "train", and the ensemble it found is then
refitted on all of them. Rows with role "test" (the seed protocol's held-out rows) are then
predicted into predictions_seed.csv. With "loeo", the found
ensemble is refitted once per experiment without that experiment's rows (the search is not
repeated) into predictions_loeo.csv, on every core at once. When either happened, the model saved is the ensemble
refitted on all rows. The model is written to ``output_dir/.partial`` and renamed to
``output_dir/model.pkl`` only when complete, so a killed job leaves no model behind.
This file must stay importable by Python 3.9 and must not import cncwear_gui.
"""

import json
import os
import pickle
import sys
import time

#: the "tree-ensembles" search space: auto-sklearn's forests and gradient boosting, no feature preprocessing
TREE_ENSEMBLES = {"classifier": ["random_forest", "extra_trees", "gradient_boosting"],
                  "feature_preprocessor": ["no_preprocessing"]}
_STARTED = time.monotonic()


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def _elapsed():
    return round(time.monotonic() - _STARTED, 2)


class TrialReporter:
    """auto-sklearn's get_trials_callback: one 'trial' event per finished SMAC run."""

    def __init__(self, higher_is_better=True):
        self.count = 0
        self.best = None

    def __call__(self, smbo, run_info, result, time_left):
        self.count += 1
        model = str(run_info.config.get("classifier:__choice__", "unknown")) if run_info.config else "unknown"
        status = str(result.status).split(".")[-1]
        score = round(1.0 - float(result.cost), 6) if status == "SUCCESS" and result.cost is not None else None
        emit(
            "trial",
            n=self.count,
            model=model,
            score=score,
            duration_s=round(float(result.time), 3),
            status=status,
            elapsed_s=_elapsed(),
        )
        if score is not None and (self.best is None or score > self.best):
            self.best = score
            emit("best", n=self.count, model=model, score=score, elapsed_s=_elapsed())
        return None


def main(config_path):
    with open(config_path) as handle:
        config = json.load(handle)
    import numpy as np
    import pandas as pd

    table = pd.read_csv(config["table"])
    y_all = table.pop("worn").to_numpy()
    groups_all = table.pop("experiment").to_numpy()
    roles = table.pop("role").to_numpy() if "role" in table else np.full(len(y_all), "train")
    X_all = table.to_numpy(dtype=np.float64)
    train = roles == "train"
    X, y, groups = X_all[train], y_all[train], groups_all[train]

    import autosklearn.classification
    import autosklearn.metrics
    from sklearn.model_selection import GroupKFold, GroupShuffleSplit

    metric = getattr(autosklearn.metrics, config.get("metric", "accuracy"))
    resampling = config.get("resampling", "holdout")
    folds = int(config.get("folds", 5))
    if resampling == "grouped-holdout":
        strategy = GroupShuffleSplit(n_splits=1, test_size=0.33, random_state=int(config.get("seed", 1)))
        arguments = {"groups": groups}
    elif resampling == "grouped-cv":
        strategy, arguments = GroupKFold(n_splits=folds), {"groups": groups}
    elif resampling == "cv":
        strategy, arguments = "cv", {"folds": folds}
    else:
        strategy, arguments = "holdout", {"train_size": 0.67}
    dask_client = None
    if config.get("dask_address"):
        from dask.distributed import Client

        try:
            dask_client = Client(config["dask_address"], timeout=20)
        except OSError as error:
            raise RuntimeError("the Dask scheduler at %s did not answer: %s" % (config["dask_address"], error)) from None

    import sklearn

    emit(
        "started", budget_s=config["budget_s"], rows=int(len(y)), features=int(X.shape[1]), resampling=resampling,
        pid=os.getpid(), python=sys.version.split()[0], autosklearn=autosklearn.__version__, sklearn=sklearn.__version__,
    )
    reporter = TrialReporter()
    automl = autosklearn.classification.AutoSklearnClassifier(
        time_left_for_this_task=int(config["budget_s"]),
        per_run_time_limit=int(config.get("per_run_s") or max(10, int(config["budget_s"]) // 6)),
        memory_limit=int(config.get("memory_mb", 3072)),
        seed=int(config.get("seed", 1)),
        metric=metric,
        resampling_strategy=strategy,
        resampling_strategy_arguments=arguments,
        n_jobs=int(config.get("workers", 1)) if dask_client is None else None,
        dask_client=dask_client,
        get_trials_callback=reporter,
        include=TREE_ENSEMBLES if config.get("search_space") == "tree-ensembles" else None,
        tmp_folder=os.path.join(config["output_dir"], "autosklearn-tmp"),
        delete_tmp_folder_after_terminate=True,
    )
    automl.fit(X, y)
    # cv strategies keep no fitted models until refit; the holdout strategies fitted each member on
    # part of the search rows only: either way the chosen ensemble is fitted on all of them.
    automl.refit(X, y)

    members = []
    leaderboard = automl.leaderboard(detailed=False, ensemble_only=False)
    for weight, pipeline in automl.get_models_with_weights():
        step = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
        choice = getattr(step, "choice", step)
        members.append({"model": type(choice).__name__, "weight": round(float(weight), 4)})
    emit("ensemble", members=members)

    output = config["output_dir"]
    leaderboard_path = os.path.join(output, "leaderboard.csv")
    leaderboard.to_csv(leaderboard_path)
    with open(os.path.join(output, "ensemble.json"), "w") as handle:
        json.dump({"members": members, "trials": reporter.count, "best_score": reporter.best}, handle)
    # The callback lives in this script's __main__; the saved model must not depend on it.
    automl.get_trials_callback = None
    automl.automl_._get_trials_callback = None
    evaluate(automl, config, X_all, y_all, groups_all, roles)
    partial = os.path.join(output, ".partial")
    with open(partial, "wb") as handle:
        pickle.dump(automl, handle)
    model_path = os.path.join(output, "model.pkl")
    os.replace(partial, model_path)  # atomic: a model file exists only when it is complete
    emit("done", model_path=model_path, leaderboard_path=leaderboard_path, elapsed_s=_elapsed())


def evaluate(automl, config, X_all, y_all, groups_all, roles):
    """Seed-protocol predictions, LOEO refits, and the final refit on every row (see above)."""
    import numpy as np
    import pandas as pd

    output = config["output_dir"]
    test = roles == "test"
    if test.any():
        predicted = automl.predict(X_all[test])
        pd.DataFrame({"row": np.flatnonzero(test), "predicted": predicted}).to_csv(
            os.path.join(output, "predictions_seed.csv"), index=False
        )
        emit("evaluated", protocol="seed", rows=int(test.sum()))
    if config.get("loeo"):
        predicted = loeo_predictions(automl, output, X_all, y_all, groups_all)
        pd.DataFrame({"row": np.arange(len(y_all)), "predicted": predicted}).to_csv(
            os.path.join(output, "predictions_loeo.csv"), index=False
        )
    if test.any() or config.get("loeo"):
        automl.refit(X_all, y_all)


def loeo_predictions(automl, output, X_all, y_all, groups_all):
    """Refit the found ensemble once per left-out experiment, one worker process per core.

    A refit fits every member on one core and takes as long as the final one (about five minutes
    for a 300 s search here), so eighteen of them in sequence would dwarf the search. Each worker
    loads the ensemble once from a snapshot and refits it fold after fold; folds are reported as
    they finish, so their order varies. The workers share this job's process group: cancel kills them.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import numpy as np

    experiments = np.unique(groups_all)
    snapshot = os.path.join(output, "loeo-snapshot.pkl")
    with open(snapshot, "wb") as handle:
        pickle.dump(automl, handle)
    workers = min(len(experiments), len(os.sched_getaffinity(0)))
    predicted = np.empty_like(y_all)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_load_fold_state, initargs=(snapshot, X_all, y_all, groups_all)) as pool:
            folds = [pool.submit(_predict_left_out, experiment) for experiment in experiments]
            for n, fold in enumerate(as_completed(folds), start=1):
                experiment, held_out_predictions = fold.result()
                predicted[groups_all == experiment] = held_out_predictions
                emit("fold", protocol="loeo", n=n, of=len(experiments), experiment=int(experiment),
                     elapsed_s=_elapsed())
    finally:
        os.remove(snapshot)
    return predicted


_fold_state = {}


def _load_fold_state(snapshot, X_all, y_all, groups_all):
    from threadpoolctl import threadpool_limits

    with open(snapshot, "rb") as handle:
        _fold_state.update(automl=pickle.load(handle), X=X_all, y=y_all, groups=groups_all)
    # One thread each: with gradient boosting's OpenMP threads, several workers oversubscribe the
    # cores and spin-wait for each other. On 3,000 rows beside another job, a refit with two threads
    # took about 100 s; two one-thread workers refitted a fold each in 17 s.
    threadpool_limits(limits=1)


def _predict_left_out(experiment):
    automl, X_all, y_all = _fold_state["automl"], _fold_state["X"], _fold_state["y"]
    held_out = _fold_state["groups"] == experiment
    automl.refit(X_all[~held_out], y_all[~held_out])
    return experiment, automl.predict(X_all[held_out])


if __name__ == "__main__":  # required: auto-sklearn spawns its workers with forkserver
    try:
        main(sys.argv[1])
    except Exception as error:  # reported on the protocol, then a non-zero exit
        emit("error", message="%s: %s" % (type(error).__name__, error))
        sys.exit(1)
