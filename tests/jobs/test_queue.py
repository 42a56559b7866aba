"""The queue in one process: retries with backoff, failures kept, lost workers' jobs taken back, outcomes guarded.

The worker here is the real worker code (claim, run, outcome) on the test
database; tests/jobs/test_processes.py runs it as real processes and kills one.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models.functions import Now
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs import queue
from jobs.models import Job, Worker
from jobs.worker import WORKER_LOST
from tests.jobs import sample_jobs
from tests.jobs.conftest import in_process_worker, run_queued

pytestmark = pytest.mark.django_db


def row(result) -> Job:
    return Job.objects.get(pk=result.id)


def test_a_job_runs_and_its_result_is_kept(worker):
    result = sample_jobs.add.enqueue(2, 3)
    assert row(result).state == "Waiting"
    assert run_queued(worker) == 1
    done = row(result)
    assert (done.status, done.return_value, done.worker_ids) == ("SUCCESSFUL", 5, ["test-worker"])
    assert done.state == "Done" and done.finished_at is not None


def test_a_failed_job_waits_with_backoff_then_succeeds(worker, tmp_path, settings):
    result = sample_jobs.fails_until.enqueue(str(tmp_path), failures=1)
    before = timezone.now()
    run_queued(worker)
    waiting = row(result)
    # Back in the queue, its error kept, its next try after the backoff (60 s, give or take 10%).
    assert waiting.status == "READY" and waiting.state == "Waiting to be tried again"
    assert waiting.exception_class_path == "builtins.RuntimeError"
    assert "failure number 1" in waiting.traceback and waiting.error == "RuntimeError: failure number 1"
    assert before + dt.timedelta(seconds=54) <= waiting.run_after <= timezone.now() + dt.timedelta(seconds=66)
    assert run_queued(worker) == 0  # not before its time
    DBTaskResult.objects.filter(pk=result.id).update(run_after=timezone.now())  # ...which comes
    assert run_queued(worker) == 1
    done = row(result)
    assert (done.status, done.return_value, done.attempts) == ("SUCCESSFUL", "succeeded on run 2", 2)
    assert done.exception_class_path == "" and done.traceback == ""


def test_a_job_failing_every_attempt_is_failed_with_its_traceback(worker):
    result = sample_jobs.always_fails.enqueue()
    assert run_queued(worker) == 2  # attempt 1 of 2, then (no backoff: 0 s) attempt 2
    failed = row(result)
    assert (failed.status, failed.state, failed.attempts) == ("FAILED", "Failed", 2)
    assert failed.exception_class_path == "builtins.ValueError"
    assert 'raise ValueError("this job always fails")' in failed.traceback
    assert run_queued(worker) == 0  # and it stays failed


def test_the_backoff_doubles_up_to_an_hour():
    policy = queue.Policy(attempts=10, backoff=30)
    for attempt, seconds in [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (9, 3600)]:
        delay = policy.delay(attempt).total_seconds()
        assert seconds * 0.9 <= delay <= seconds * 1.1, (attempt, delay)
    assert queue.Policy(attempts=None).max_attempts == 5  # JOBS_MAX_ATTEMPTS
    with pytest.raises(ValueError, match="at least once"):
        queue.job(attempts=0)


def test_a_job_whose_code_is_gone_fails_at_once(worker):
    result = sample_jobs.add.enqueue(1, 1)
    DBTaskResult.objects.filter(pk=result.id).update(task_path="tests.jobs.sample_jobs.no_such_job")
    run_queued(worker)
    failed = row(result)
    assert failed.status == "FAILED" and failed.attempts == 1
    assert "no_such_job" in failed.traceback


def _claimed_by(worker_id: str, seen_ago: dt.timedelta | None, result) -> DBTaskResult:
    if seen_ago is not None:
        Worker.objects.create(worker_id=worker_id, host="elsewhere", pid=4242, queues="*")
        Worker.objects.filter(pk=worker_id).update(seen_at=Now() - seen_ago)
    job = DBTaskResult.objects.get(pk=result.id)
    job.claim(worker_id)
    return job


def test_the_job_of_a_worker_silent_for_a_lease_is_queued_again(worker, settings):
    settings.JOBS_LEASE_SECONDS = 60
    lost = _claimed_by("lost-worker", dt.timedelta(seconds=61), sample_jobs.add.enqueue(1, 2))
    alive = _claimed_by("busy-worker", dt.timedelta(seconds=30), sample_jobs.add.enqueue(3, 4))
    taker = in_process_worker("taker")
    assert taker.recover_lost() == 1
    back = Job.objects.get(pk=lost.pk)
    assert back.status == "READY" and back.exception_class_path == WORKER_LOST
    assert "worker elsewhere pid 4242 (lost-worker) stopped answering" in back.traceback
    assert "attempt 1 of 5" in back.traceback
    assert Job.objects.get(pk=alive.pk).status == "RUNNING"  # its worker is alive: left alone
    run_queued(taker)
    done = Job.objects.get(pk=lost.pk)
    assert (done.status, done.return_value, done.worker_ids) == ("SUCCESSFUL", 3, ["lost-worker", "taker"])


def test_a_worker_that_stopped_cleanly_is_not_waited_for(worker):
    lost = _claimed_by("stopped-worker", dt.timedelta(seconds=1), sample_jobs.add.enqueue(1, 2))
    Worker.objects.filter(pk="stopped-worker").update(stopped_at=Now())
    assert in_process_worker("taker").recover_lost() == 1
    assert Job.objects.get(pk=lost.pk).status == "READY"


def test_a_lost_job_with_no_attempt_left_fails(worker):
    result = sample_jobs.always_fails.enqueue()  # 2 attempts
    job = DBTaskResult.objects.get(pk=result.id)
    job.claim("first")  # attempt 1, lost
    lost = _claimed_by("second", dt.timedelta(minutes=5), result)  # attempt 2, lost too
    assert in_process_worker("taker").recover_lost() == 1
    failed = Job.objects.get(pk=lost.pk)
    assert failed.status == "FAILED" and failed.attempts == 2
    assert failed.traceback.endswith("no attempt left")


def test_a_claim_by_an_unknown_worker_gets_a_lease_of_grace(worker):
    young = _claimed_by("not-yet-registered", None, sample_jobs.add.enqueue(1, 2))
    assert in_process_worker("taker").recover_lost() == 0
    DBTaskResult.objects.filter(pk=young.pk).update(started_at=timezone.now() - dt.timedelta(minutes=2))
    assert in_process_worker("taker").recover_lost() == 1


def test_the_outcome_of_a_worker_that_lost_its_claim_is_dropped(worker):
    result = sample_jobs.add.enqueue(20, 22)
    slow, _ = worker.claim()  # this worker is presumed lost...
    taken = DBTaskResult.objects.get(pk=result.id)
    taken.status = "READY"
    taken.save()
    other = in_process_worker("other")
    run_queued(other)  # ...another one did the job...
    worker.run_task(slow)  # ...and the first comes back with its outcome
    done = row(result)
    assert done.status == "SUCCESSFUL" and done.worker_ids == ["test-worker", "other"]
    assert done.finished_at is not None
    finished = done.finished_at
    worker._fail(slow, RuntimeError("late"), final=True)
    assert row(result).status == "SUCCESSFUL" and row(result).finished_at == finished


def test_workers_alive_follows_the_lease(settings):
    settings.JOBS_LEASE_SECONDS = 60
    assert not queue.workers_alive()
    Worker.objects.create(worker_id="w", host="h", pid=1, queues="*")
    assert queue.workers_alive()
    Worker.objects.filter(pk="w").update(seen_at=Now() - dt.timedelta(seconds=90))
    assert not queue.workers_alive()
    Worker.objects.filter(pk="w").update(seen_at=Now(), stopped_at=Now())
    assert not queue.workers_alive()


def test_finished_jobs_are_purged_after_their_time(worker, settings):
    from jobs.models import ScheduledRun
    from jobs.tasks import purge_finished_jobs

    settings.JOBS_KEEP_DAYS = 7
    ids = {name: sample_jobs.add.enqueue(1, 1).id for name in ("old done", "new done", "old failed", "older failed")}
    run_queued(worker)
    now = timezone.now()
    for name, age, status in [
        ("old done", 8, "SUCCESSFUL"), ("new done", 6, "SUCCESSFUL"), ("old failed", 20, "FAILED"), ("older failed", 29, "FAILED"),
    ]:
        DBTaskResult.objects.filter(pk=ids[name]).update(status=status, finished_at=now - dt.timedelta(days=age))
    ScheduledRun.objects.create(name="x", due_at=now - dt.timedelta(days=40))
    ScheduledRun.objects.create(name="x", due_at=now - dt.timedelta(days=1))
    Worker.objects.filter(pk="test-worker").update(seen_at=now - dt.timedelta(days=8))
    purged = purge_finished_jobs.call()
    assert purged == {"jobs done": 1, "jobs failed": 1, "scheduled runs": 1, "workers": 1}
    assert set(Job.objects.values_list("pk", flat=True)) >= {
        DBTaskResult.objects.get(pk=ids["new done"]).pk, DBTaskResult.objects.get(pk=ids["old failed"]).pk
    }
    assert not Job.objects.filter(pk__in=[ids["old done"], ids["older failed"]]).exists()


def test_django_tasks_db_s_worker_command_is_ours():
    """Started by the library's name (`db_worker`), a worker still has leases, retries and the scheduler."""
    from django.core.management import get_commands, load_command_class

    assert get_commands()["db_worker"] == "jobs"
    parser = load_command_class("jobs", "db_worker").create_parser("followthrough", "db_worker")
    assert "--no-schedule" in parser.format_help()
