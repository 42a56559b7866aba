"""`make run`, as a person runs it: the server answers, a job worker runs beside it, Ctrl-C stops both.

It works on its own SQLite file in a temporary folder (local use), whatever
database the test run uses; Ctrl-C is SIGINT to the terminal's whole process
group, sent here to the group `make` leads.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.processes import ROOT, free_port, wait_until

pytestmark = pytest.mark.slow


def answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def rows(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=20) as c:
        try:
            return c.execute(sql).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # Only zombies left (reaped by nobody until make's parent waits) count as gone.
    ps = subprocess.run(["ps", "-o", "stat=", "-g", str(pgid)], capture_output=True, text=True).stdout.split()
    return any(not s.startswith("Z") for s in ps)


def test_make_run_serves_with_a_worker_and_ctrl_c_stops_both(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE") and not k.startswith("CACHE_")}
    env["FOLLOWTHROUGH_VAR_DIR"] = str(tmp_path)
    db = tmp_path / "followthrough.sqlite3"
    with open(tmp_path / "make.log", "w") as log:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives a foreground job
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal leaves it
        )
    try:
        logs = lambda: (tmp_path / "make.log").read_text()  # noqa: E731
        wait_until("`make run` to serve", lambda: make.poll() is None and answers(f"http://127.0.0.1:{port}") or make.poll() is not None, timeout=300)
        assert make.poll() is None, logs()
        workers = wait_until("a worker beside it", lambda: rows(db, "SELECT pid FROM jobs_worker WHERE stopped_at IS NULL"), timeout=60)
        # It runs jobs: the daily purge, due since this morning, is enqueued and done by it.
        wait_until(
            "the worker to run the due purge",
            lambda: rows(db, "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL' "
                             "AND task_path = 'jobs.tasks.purge_finished_jobs'"),
            timeout=60,
        )

        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        make.wait(timeout=60)
        wait_until("every process of `make run` to stop", lambda: not group_alive(make.pid), timeout=30)
        assert rows(db, f"SELECT stopped_at IS NOT NULL FROM jobs_worker WHERE pid = {workers[0][0]}") == [(1,)], logs()
    finally:
        if make.poll() is None or group_alive(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
