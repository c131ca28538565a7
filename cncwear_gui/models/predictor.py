"""One ``Predictor`` interface for every model, in-process or served by the AutoML sidecar.

The shape is scikit-learn's contract for a fitted classifier: ``predict``, ``predict_proba``,
``classes_``, ``n_features_in_``, ``feature_names_in_`` where the column names are known, the
classifier estimator type and tags (``sklearn.base.is_classifier``) and "fitted" for
``sklearn.utils.validation.check_is_fitted``; so sklearn.inspection, LIME, SHAP and alibi work on
every kind unchanged (tests/models/test_predictor_contract.py runs partial_dependence on each).
The kinds: scikit-learn's own estimators, fitted on arrays (they have no ``feature_names_in_``, as
scikit-learn defines it; the model's feature set names the columns), ``SmallBatchForest``
(models/small_batches.py) and ``SidecarPredictor``, which borrow the estimator type and tags
from :class:`ClassifierContract`.

``SidecarPredictor`` drives the AutoML runtime's sidecar_server.py over a pipe: it starts on
first use, restarts transparently after a crash, kills and restarts a hung sidecar after
``call_timeout`` seconds (raising SidecarTimeout for that call), and shuts down on ``close()``
or at interpreter exit, with every process the sidecar started (its process group).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import select
import subprocess
import threading
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..automl.runtime import automl_env, automl_python, sidecar_script
from ..process_groups import stop_group

# The MLflow models-from-code file serving a logged auto-sklearn model through SidecarPredictor
# (store/tracking.py logs a copy of it with each model).
SIDECAR_PYFUNC = Path(__file__).resolve().with_name("sidecar_pyfunc.py")
SHUTDOWN_GRACE_S = 2.0  # for the sidecar to exit after the shutdown request; then its group is killed
REAP_S = 2.0


@runtime_checkable
class Predictor(Protocol):
    classes_: np.ndarray
    n_features_in_: int

    def predict(self, X) -> np.ndarray: ...

    def predict_proba(self, X) -> np.ndarray: ...


class ClassifierContract:
    """What scikit-learn reads from a fitted classifier, for a Predictor that is not one of its estimators.

    scikit-learn 1.6+ asks ``__sklearn_tags__`` (``is_classifier``, ``partial_dependence``), older
    versions and some libraries ``_estimator_type``; ``check_is_fitted`` wants a ``fit`` method
    and asks ``__sklearn_is_fitted__``.
    """

    _estimator_type = "classifier"

    def __sklearn_tags__(self):
        return _plain_classifier()().__sklearn_tags__()

    def __sklearn_is_fitted__(self) -> bool:
        return True  # a Predictor serves a fitted model

    def fit(self, *args, **kwargs):  # scikit-learn recognises an estimator by its fit
        raise NotImplementedError(f"a {type(self).__name__} serves a fitted model; it is not refitted")


@functools.cache
def _plain_classifier():
    """A scikit-learn classifier class with nothing else: its tags are a classifier's defaults."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class PlainClassifier(ClassifierMixin, BaseEstimator):
        pass

    return PlainClassifier


def as_matrix(predictor, X) -> np.ndarray:
    """``X`` as an array; a data frame's columns must be the predictor's features, as scikit-learn checks."""
    columns = getattr(X, "columns", None)
    names = getattr(predictor, "feature_names_in_", None)
    if columns is not None and names is not None and list(map(str, columns)) != list(names):
        raise ValueError(f"the columns {list(columns)} are not the model's features {list(names)}")
    return np.asarray(X)


class SidecarError(RuntimeError):
    pass


class SidecarTimeout(SidecarError):
    pass


class SidecarPredictor(ClassifierContract):
    def __init__(self, model_path: str | Path, feature_names: list[str], python: str | Path | None = None,
                 call_timeout: float = 30.0, start_timeout: float = 180.0):
        if python is None:
            python = automl_python()
            if python is None:
                raise SidecarError("the AutoML runtime is not installed: auto-sklearn models cannot be served here")
        self.model_path = str(model_path)
        self.python = str(python)
        self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self.n_features_in_ = len(feature_names)
        self.call_timeout = call_timeout
        self.start_timeout = start_timeout
        self._classes: np.ndarray | None = None  # the model's, told by the sidecar when it starts
        self.fast_steps: dict[str, int] = {}  # steps the sidecar scores small batches through fast (sidecar_speedups.py)
        self.restarts = 0
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._stderr_tail: list[str] = []
        atexit.register(self.close)

    # -- the estimator contract -------------------------------------------------------------
    @property
    def classes_(self) -> np.ndarray:
        """The model's classes; the sidecar tells them when it starts, so reading this starts it."""
        if self._classes is None:
            with self._lock:
                self._ensure_started()
        return self._classes

    def predict_proba(self, X) -> np.ndarray:
        return self._call("predict_proba", X)

    def predict(self, X) -> np.ndarray:
        return self._call("predict", X)[:, 0].astype(self.classes_.dtype)

    def fit(self, *args, **kwargs):  # the sidecar serves a trained model; training is the job's
        raise NotImplementedError("a SidecarPredictor serves a trained model; train with the AutoML job")

    def ping(self) -> float:
        """One empty round trip over the pipe (starting the sidecar if needed); its seconds."""
        with self._lock:
            self._ensure_started()
            started = time.perf_counter()
            self._process.stdin.write(b'{"op": "ping"}\n')
            self._process.stdin.flush()
            json.loads(self._read_line(time.monotonic() + self.call_timeout))
            return time.perf_counter() - started

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def close(self) -> None:
        with self._lock:
            self._stop()

    # -- the pipe -----------------------------------------------------------------------------
    def _call(self, op: str, X) -> np.ndarray:
        X = np.ascontiguousarray(as_matrix(self, X), dtype="<f8")
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected a matrix with {self.n_features_in_} columns, got shape {X.shape}")
        with self._lock:
            for attempt in (1, 2):
                self._ensure_started()
                try:
                    return self._exchange(op, X)
                except SidecarTimeout:
                    self._stop()
                    raise
                except (BrokenPipeError, EOFError, OSError) as error:  # it crashed: restart once
                    self._stop()
                    self.restarts += 1
                    if attempt == 2:
                        raise SidecarError(f"the sidecar failed twice: {error}; {self._last_stderr()}") from error
        raise AssertionError("unreachable")

    def _exchange(self, op: str, X: np.ndarray) -> np.ndarray:
        deadline = time.monotonic() + self.call_timeout
        header = json.dumps({"op": op, "rows": X.shape[0], "cols": X.shape[1]}).encode() + b"\n"
        self._process.stdin.write(header + X.tobytes())
        self._process.stdin.flush()
        reply = json.loads(self._read_line(deadline))
        if not reply.get("ok"):
            raise SidecarError(f"the model failed: {reply.get('error')}")
        rows, cols = reply["rows"], reply["cols"]
        data = self._read_exact(rows * cols * 8, deadline)
        return np.frombuffer(data, dtype="<f8").reshape(rows, cols).copy()

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        if self._process is not None:
            self._stop()
            self.restarts += 1
        self._stderr_tail = []
        self._process = subprocess.Popen(
            [self.python, str(sidecar_script()), self.model_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            env=automl_env(),
        )
        threading.Thread(target=self._drain_stderr, args=(self._process,), daemon=True).start()
        try:
            ready = json.loads(self._read_line(time.monotonic() + self.start_timeout))
        except (SidecarTimeout, EOFError, OSError) as error:
            self._stop()
            raise SidecarError(f"the sidecar did not start: {error}; {self._last_stderr()}") from error
        self._classes = np.asarray(ready["classes"])
        self.fast_steps = {kind: int(count) for kind, count in ready.get("fast_steps", {}).items()}

    def _read_line(self, deadline: float) -> bytes:
        line = b""
        while not line.endswith(b"\n"):
            line += self._read_some(1, deadline)
        return line

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        while remaining:
            chunk = self._read_some(min(remaining, 1 << 20), deadline)
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _read_some(self, size: int, deadline: float) -> bytes:
        fd = self._process.stdout.fileno()
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise SidecarTimeout(f"the sidecar did not answer within {self.call_timeout:.0f} s; it was restarted")
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError("the sidecar closed its output (it crashed or was killed)")
        return chunk

    def _stop(self) -> None:
        """Ask the sidecar to shut down, then kill its process group: whatever it started goes too."""
        process, self._process = self._process, None
        if process is None:
            return
        stop_group(process, SHUTDOWN_GRACE_S, REAP_S, ask=_ask_to_shut_down)
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def _drain_stderr(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self._stderr_tail.append(line.decode(errors="replace").rstrip())
            del self._stderr_tail[:-20]

    def _last_stderr(self) -> str:
        return next((line for line in reversed(self._stderr_tail) if line.strip()), "no output on stderr")


def _ask_to_shut_down(process: subprocess.Popen) -> None:
    process.stdin.write(b'{"op": "shutdown"}\n')
    process.stdin.flush()
