"""Real processes beside the test: workers and app servers on the test's own database.

`shared_database` gives the environment in which a `followthrough` process
works on the database the test sees: PostgreSQL's test database as it is;
SQLite's in-memory test database copied (its schema) to a file, which the
test's own connection then uses too (another process cannot open memory).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("followthrough")
GUNICORN = Path(sys.executable).with_name("gunicorn")
# The shared Redis of the machine; tests use their own key prefix in it.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
SECRET = "test-only-" + "k3Y" * 16  # one key for every process of a test: sessions made by one are read by all


@contextlib.contextmanager
def shared_database(tmp_path: Path) -> Iterator[str]:
    """The DATABASE_URL of the test's database, for other processes (use inside a transactional test)."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(s["USER"] or "postgres") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
        yield f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        return
    if connection.vendor != "sqlite":
        raise NotImplementedError(connection.vendor)
    if not connection.is_in_memory_db():
        yield f"sqlite:///{s['NAME']}"
        return
    memory_name = s["NAME"]
    keep_alive = sqlite3.connect(memory_name, uri=True)  # the in-memory database lives while a connection does
    connection.ensure_connection()
    path = tmp_path / "shared.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)  # the schema (the data was flushed)
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    BaseDatabaseWrapper.close(connection)  # sqlite's own close() ignores in-memory databases
    s["NAME"] = str(path)
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        s["NAME"] = memory_name
        connection.ensure_connection()
        keep_alive.close()


def environment(database_url: str, var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG") and not k.startswith("CACHE_")}
    env.update(
        DATABASE_URL=database_url,
        FOLLOWTHROUGH_VAR_DIR=str(var),
        SECRET_KEY=SECRET,
        PYTHONPATH=str(ROOT),  # the test jobs (tests/jobs/sample_jobs.py) import from here
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Processes:
    """Started processes, each logging to its own file; whatever is left is stopped at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        p = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        p.log = log  # type: ignore[attr-defined]
        self.started.append((name, p))
        return p

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def logs(self) -> str:
        return "\n".join(f"--- {name} (exit {p.poll()}) ---\n{self.log(name)}" for name, p in self.started)

    def stop_all(self) -> None:
        for _, p in self.started:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for _, p in self.started:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            p.log.close()  # type: ignore[attr-defined]


def wait_until(what: str, check: Callable[[], object], timeout: float = 30, procs: Processes | None = None):
    """Poll `check` until it returns something true (a bounded wait on another process, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" + (f"\n{procs.logs()}" if procs else ""))
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
