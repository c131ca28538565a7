"""Serve the MLflow web UI for the local tracking store, on 127.0.0.1 only.

Qt-free core of the GUI's "Open MLflow UI" button: ``start()`` runs ``mlflow ui`` as a child
process in its own session (so ``stop()`` can kill the whole tree: the mlflow CLI process and the
uvicorn server it spawns), waits until ``/health`` answers and returns the URL to open. A central
tracking server (``http(s)://`` tracking URI) already has its own UI, so nothing is started then.

The server is kept light: one uvicorn worker instead of four, and no MLflow job runner (with a
SQL store ``mlflow ui`` 3.x otherwise starts seven ``huey_consumer`` processes for GenAI jobs).
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from ..paths import user_data_dir
from ..process_groups import stop_group
from . import tracking

LOOPBACK = "127.0.0.1"
STOP_GRACE_S = 5.0
REAP_S = 1.0
LOG_TAIL_LINES = 15

_CHILD_ENV = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no huey job runner for a read-mostly UI
    "PYTHONUNBUFFERED": "1",  # the log tail in error messages is complete
}
_CHILD_ENV_DEFAULTS = {"MLFLOW_DISABLE_TELEMETRY": "true"}  # the user may opt back in

# Without an empty ProxyHandler, urllib sends even 127.0.0.1 through $http_proxy.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MlflowUiError(RuntimeError):
    """The MLflow UI could not be started."""


class MlflowUi:
    """One ``mlflow ui`` server for a tracking store; ``start()`` is idempotent, ``stop()`` too.

    ``tracking_uri`` defaults to ``tracking.tracking_uri()`` at each start (the settings may
    change it); ``port`` defaults to a free port on 127.0.0.1.
    """

    def __init__(self, tracking_uri: str | None = None, port: int | None = None):
        self._tracking_uri = tracking_uri
        self._port = port
        self._process: subprocess.Popen | None = None
        self._serving: str | None = None  # the tracking URI the running server serves
        self._url: str | None = None
        self.log_path: str | None = None
        # One start at a time; stop() (also at exit) waits for a start in progress.
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri or tracking.tracking_uri()

    @property
    def url(self) -> str | None:
        """The UI's address after a successful ``start()``, else None."""
        return self._url

    @property
    def running(self) -> bool:
        """Whether our local server process is alive (False for a central server)."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's process id, which is also its process group id."""
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 60.0) -> str:
        """Start the server (if not already running for this store) and return its URL."""
        with self._lock:
            uri = self.tracking_uri
            if urllib.parse.urlsplit(uri).scheme in ("http", "https"):
                self._stop_locked()
                self._url = uri
                return uri
            if self.running and self._serving == uri:
                return self._url
            self._stop_locked()
            port = self._port or _free_port()
            if self._port:
                _check_port_free(port)
            self._spawn(uri, port)
            url = f"http://{LOOPBACK}:{port}/"
            try:
                self._wait_until_healthy(url, port, timeout)
            except BaseException:
                self._stop_locked()
                raise
            self._serving, self._url = uri, url
            return url

    def stop(self) -> None:
        """Kill the server's whole process group; safe to call when nothing runs."""
        with self._lock:
            self._stop_locked()

    # -- internals ----------------------------------------------------------------------------
    def _spawn(self, uri: str, port: int) -> None:
        command = [
            sys.executable, "-m", "mlflow", "ui",
            "--backend-store-uri", uri,
            # Experiments created in the UI get their artifacts under our root, like
            # ensure_experiment(); without this they would go to ./mlartifacts of the cwd.
            "--default-artifact-root", tracking.artifact_root().as_uri(),
            # Our artifacts are file:// locations the server reads directly; the upload
            # proxy would only add endpoints writing to a cwd-relative ./mlartifacts.
            "--no-serve-artifacts",
            "--host", LOOPBACK,
            "--port", str(port),
            "--workers", "1",
        ]  # fmt: skip
        env = {**_CHILD_ENV_DEFAULTS, **os.environ, **_CHILD_ENV}
        fd, self.log_path = tempfile.mkstemp(prefix="cncwear-mlflow-ui-", suffix=".log")
        with os.fdopen(fd, "wb") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=user_data_dir(),  # anything mlflow resolves relative to the cwd lands here
                start_new_session=True,  # its own process group: stop() kills uvicorn as well
            )

    def _wait_until_healthy(self, url: str, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise MlflowUiError(
                    f"MLflow UI on port {port} exited (code {code}) before it answered.\n{self._log_tail()}"
                )
            if _answers(url + "health"):
                return
            if time.monotonic() > deadline:
                raise MlflowUiError(
                    f"MLflow UI on port {port} did not answer within {timeout:g} s.\n{self._log_tail()}"
                )
            time.sleep(0.2)

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                lines = log.read().splitlines()[-LOG_TAIL_LINES:]
        except OSError:
            lines = []
        return f"Last lines of {self.log_path}:\n" + "\n".join(lines or ["(empty)"])

    def _stop_locked(self) -> None:
        process, self._process = self._process, None
        self._serving = self._url = None
        if process is not None:
            _kill_tree(process)


def _answers(url: str) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _free_port() -> int:
    """A port the OS reports free on 127.0.0.1 (another program could still take it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _check_port_free(port: int) -> None:
    """Fail fast on a busy requested port; otherwise another server there could answer /health."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name != "nt":  # like uvicorn: a port in TIME_WAIT counts as free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as error:
            raise MlflowUiError(f"port {port} on {LOOPBACK} is already in use ({error.strerror})") from None


def _kill_tree(process: subprocess.Popen) -> None:
    stop_group(process, STOP_GRACE_S, REAP_S)


_shared: MlflowUi | None = None
_shared_lock = threading.Lock()


def shared_ui() -> MlflowUi:
    """The process-wide instance the GUI uses, so repeated clicks reuse one server."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MlflowUi()
        return _shared
