"""Real `followthrough worker` processes on the test's database (SQLite or PostgreSQL, whichever the run uses).

A job is killed mid-run with its worker (SIGKILL: no goodbye, no clean-up):
another worker takes it over once the lease runs out, and it is done once.
A worker told to stop (SIGTERM, as systemd and Ctrl-C do) finishes the job
in hand first; told twice, it stops at once and the job goes back to the queue.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from jobs.models import Job, Worker
from tests.jobs import sample_jobs
from tests.processes import EXE, Processes, environment, shared_database, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LEASE = 2  # seconds: a lost worker's job is taken over within about one lease


@pytest.fixture
def workers(tmp_path):
    with shared_database(tmp_path) as url:
        env = environment(url, tmp_path, JOBS_LEASE_SECONDS=str(LEASE))
        procs = Processes(tmp_path)

        def start(name: str):
            return procs.start(name, [str(EXE), "worker", "--interval", "0.1", "--no-startup-delay"], env)

        procs.start_worker = start  # type: ignore[attr-defined]
        try:
            yield procs
        finally:
            procs.stop_all()


def trace(folder: Path) -> list[str]:
    path = folder / "trace"
    return path.read_text().splitlines() if path.exists() else []


def registered(pids: set[int]) -> bool:
    return set(Worker.objects.filter(stopped_at=None).values_list("pid", flat=True)) >= pids


def test_a_job_killed_with_its_worker_is_done_once_by_another(workers, tmp_path):
    a, b = workers.start_worker("worker-a"), workers.start_worker("worker-b")
    names = {a.pid: "worker-a", b.pid: "worker-b"}
    wait_until("both workers to start", lambda: registered({a.pid, b.pid}), procs=workers)

    result = sample_jobs.wait_for_go.enqueue(str(tmp_path))
    started = wait_until("a worker to start the job", lambda: trace(tmp_path), procs=workers)
    first_pid = int(started[0].split()[1])
    first, other = (a, b) if first_pid == a.pid else (b, a)
    assert first_pid == first.pid

    os.kill(first.pid, signal.SIGKILL)  # mid-run: the job is waiting for "go"
    first.wait(timeout=10)
    (tmp_path / "go").touch()

    def finished():
        job = Job.objects.get(pk=result.id)
        return job if job.status in ("SUCCESSFUL", "FAILED") else None

    job = wait_until("the job to be finished by the other worker", finished, timeout=60, procs=workers)
    ids = dict(Worker.objects.values_list("pid", "worker_id"))
    assert job.status == "SUCCESSFUL", workers.logs()
    assert job.worker_ids == [ids[first.pid], ids[other.pid]]  # two attempts: the killed one, the other's
    assert job.return_value == other.pid
    assert trace(tmp_path) == [f"start {first.pid}", f"start {other.pid}", f"done {other.pid}"]
    assert "stopped answering" in workers.log(names[other.pid])  # taken over by the lease, as the log says

    # Done once: two leases later, nobody has run it again (the killed worker's lease is long gone).
    time.sleep(2 * LEASE)
    assert trace(tmp_path) == [f"start {first.pid}", f"start {other.pid}", f"done {other.pid}"]
    assert Job.objects.get(pk=result.id).worker_ids == job.worker_ids


def test_a_worker_told_to_stop_finishes_its_job_first(workers, tmp_path):
    w = workers.start_worker("worker")
    wait_until("the worker to start", lambda: registered({w.pid}), procs=workers)
    result = sample_jobs.wait_for_go.enqueue(str(tmp_path))
    wait_until("the job to start", lambda: trace(tmp_path), procs=workers)

    os.kill(w.pid, signal.SIGTERM)
    (tmp_path / "go").touch()
    assert w.wait(timeout=30) == 0, workers.logs()
    job = Job.objects.get(pk=result.id)
    assert (job.status, job.return_value) == ("SUCCESSFUL", w.pid)
    assert Worker.objects.get(pid=w.pid).stopped_at is not None  # said goodbye: not waited for as a lost one


def test_a_worker_told_twice_stops_at_once_and_gives_its_job_back(workers, tmp_path):
    w = workers.start_worker("worker")
    wait_until("the worker to start", lambda: registered({w.pid}), procs=workers)
    result = sample_jobs.wait_for_go.enqueue(str(tmp_path))
    wait_until("the job to start", lambda: trace(tmp_path), procs=workers)

    os.kill(w.pid, signal.SIGINT)  # Ctrl-C: after the job in hand ...
    wait_until("the worker to take the first signal", lambda: "shutting down gracefully" in workers.log("worker"), procs=workers)
    os.kill(w.pid, signal.SIGTERM)  # ... then a second signal: now
    assert w.wait(timeout=30) == 1, workers.logs()
    job = Job.objects.get(pk=result.id)
    assert job.status == "READY"  # back in the queue for any worker, not left running on a stopped one
    assert job.exception_class_path == "jobs.worker.Interrupted"
    assert trace(tmp_path) == [f"start {w.pid}"]  # never finished here
    assert Worker.objects.get(pid=w.pid).stopped_at is not None  # said goodbye all the same
