"""The job queue measured: how fast a waiting job starts, how many jobs a second workers get through.

    python bench/jobs_queue.py [--db sqlite|postgres] [--jobs 300] [--workers 1,2]

On a fresh database (a SQLite file in a temporary folder, or the PostgreSQL
database `ft_jobs_bench` on 127.0.0.1) it measures, with real `followthrough
worker` processes:

* pickup: from `enqueue()` to the job's start, one job at a time, with idle
  workers polling at their default interval (1 s);
* throughput: N trivial jobs enqueued at once, drained by W workers;
* an idle worker's cost: database queries a minute, its memory (RSS).

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("followthrough")
PG = "postgres://postgres@127.0.0.1:5432/ft_jobs_bench"


def setup(db: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",) and not k.startswith("CACHE_")}
    env.update(FOLLOWTHROUGH_VAR_DIR=str(folder), PYTHONPATH=str(ROOT), CACHE_URL="locmem")
    if db == "postgres":
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", "DROP DATABASE IF EXISTS ft_jobs_bench",
                        "-c", "CREATE DATABASE ft_jobs_bench"], check=True, capture_output=True)
        env["DATABASE_URL"] = PG
    else:
        env["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    subprocess.run([str(EXE), "migrate", "-v0"], env=env, check=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "followthrough.settings"
    import django

    django.setup()
    return env


def start_workers(n: int, env: dict[str, str], folder: Path) -> list[subprocess.Popen]:
    return [
        subprocess.Popen([str(EXE), "worker", "--no-schedule"], env=env, stdout=open(folder / f"w{i}.log", "w"),  # noqa: SIM115
                         stderr=subprocess.STDOUT)
        for i in range(n)
    ]


def stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait(timeout=30)


def wait_registered(n: int) -> None:
    from jobs.models import Worker

    deadline = time.monotonic() + 60
    while Worker.objects.filter(stopped_at=None).count() < n:
        if time.monotonic() > deadline:
            raise SystemExit("workers did not start")
        time.sleep(0.1)


def pickup(env, folder, samples: int = 20) -> list[float]:
    from django.db import connection

    from jobs.models import Job, Worker
    from tests.jobs.sample_jobs import add

    Worker.objects.all().delete()
    workers = start_workers(1, env, folder)
    try:
        wait_registered(1)
        waits = []
        for i in range(samples):
            result = add.enqueue(i, i)
            while (job := Job.objects.get(pk=result.id)).started_at is None:
                time.sleep(0.01)
            waits.append((job.started_at - job.enqueued_at).total_seconds())
            time.sleep(0.37)  # land at different points of the poll interval
        connection.close()
        return waits
    finally:
        stop(workers)


def throughput(env, folder, jobs: int, n_workers: int) -> float:
    from django_tasks_db.models import DBTaskResult

    from jobs.models import Job, Worker
    from tests.jobs.sample_jobs import add

    DBTaskResult.objects.all().delete()
    Worker.objects.all().delete()
    for i in range(jobs):
        add.enqueue(i, 1)
    workers = start_workers(n_workers, env, folder)
    try:
        wait_registered(n_workers)
        t0 = time.monotonic()
        while Job.objects.filter(status="SUCCESSFUL").count() < jobs:
            time.sleep(0.05)
        return jobs / (time.monotonic() - t0)
    finally:
        stop(workers)


def idle_cost(env, folder, seconds: float = 30) -> tuple[float, int]:
    """Statements an idle worker sends a minute (PostgreSQL's statistics), and its RSS in KiB."""
    from django.db import connection

    workers = start_workers(1, env, folder)
    try:
        wait_registered(1)
        time.sleep(2)
        rss = int(Path(f"/proc/{workers[0].pid}/status").read_text().split("VmRSS:")[1].split()[0])
        if connection.vendor != "postgresql":
            return float("nan"), rss
        with connection.cursor() as c:
            c.execute("SELECT pg_stat_clear_snapshot()")
            c.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            before = c.fetchone()[0]
        time.sleep(seconds)
        with connection.cursor() as c:
            c.execute("SELECT pg_stat_clear_snapshot()")
            c.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            after = c.fetchone()[0]
        return (after - before) * 60 / seconds, rss
    finally:
        stop(workers)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    env = setup(args.db, folder)
    waits = pickup(env, folder)
    print(f"| {args.db} | pickup (enqueue to start), 20 jobs | p50 {statistics.median(waits):.2f} s, max {max(waits):.2f} s |")
    for n in [int(x) for x in args.workers.split(",")]:
        print(f"| {args.db} | throughput, {args.jobs} trivial jobs, {n} worker(s) | {throughput(env, folder, args.jobs, n):.0f} jobs/s |")
    per_minute, rss = idle_cost(env, folder)
    print(f"| {args.db} | an idle worker | {per_minute:.0f} transactions/min, RSS {rss / 1024:.0f} MiB |")


if __name__ == "__main__":
    main()
