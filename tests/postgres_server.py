"""A throwaway PostgreSQL cluster for the store tests: initdb into a temp dir, a free loopback port,
run as a non-root user (PostgreSQL refuses to run as root; CI runs as root, so there it runs as
``nobody`` through ``runuser``). Each test gets its own fresh database on it."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import free_port

USER = "cncwear"  # the cluster's superuser (trust authentication on loopback only)
REQUIRE_ENV = "CNCWEAR_REQUIRE_POSTGRES"


def _binaries() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def unavailable(reason: str):
    """Skip, or fail when CI says PostgreSQL must be there."""
    reason = f"{reason}: install PostgreSQL (Debian package 'postgresql'; packaging/dev.sh test does so as root)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)


class PostgresServer:
    """One cluster: ``start()``, ``create_database()`` per test, ``stop()``."""

    def __init__(self, binaries: Path):
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="cncwear-pg-"))  # in /tmp: reachable by nobody
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                unavailable("running as root and no runuser to start PostgreSQL as another user")
            self.as_user = ["runuser", "-u", "nobody", "--"]
            shutil.chown(self.folder, "nobody")
        self._names = itertools.count(1)

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.as_user, str(self.binaries / command[0]), *command[1:]], capture_output=True,
                              text=True, timeout=120, cwd=self.folder)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-locale")
        self.resume()

    def resume(self) -> None:
        """Start the initialised cluster (again, after :meth:`pause`)."""
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                   "-c timezone=Asia/Kathmandu")  # not UTC, not a whole hour: stored times must come back as UTC
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def pause(self) -> None:
        """Shut the server down as an administrator's restart does (fast: sessions are ended, open
        transactions rolled back, everything committed kept); :meth:`resume` starts it again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def add_login(self, user: str, password: str) -> None:
        """A role that must give its password (SCRAM) on loopback; every other user stays trusted."""
        self._admin(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
        hba = self.data / "pg_hba.conf"
        text_ = hba.read_text()
        hba.write_text(f"host all {user} 127.0.0.1/32 scram-sha-256\n" + text_)  # the first matching line wins
        self._admin("SELECT pg_reload_conf()")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres", user: str = USER, password: str | None = None) -> str:
        login = user if password is None else f"{user}:{password}"
        return f"postgresql+psycopg://{login}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        name = f"store_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # a test's engines may still be connected


def start_server() -> PostgresServer:
    """A running cluster, or a skip (a failure under CNCWEAR_REQUIRE_POSTGRES=1) saying what is missing."""
    binaries = _binaries()
    if binaries is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the PostgreSQL driver psycopg is not installed (packaging/requirements/main.lock.txt pins it)")
    server = PostgresServer(binaries)
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    return server
