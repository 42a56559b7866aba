"""The worker: django-tasks-db's worker loop, with leases, retries and the scheduler.

One `followthrough worker` process runs one job at a time. Around the
library's claim (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, an
exclusive transaction on SQLite, so two workers never claim one job) it adds:

* a lease: a thread writes the worker's `seen_at` (the database's clock)
  every quarter of JOBS_LEASE_SECONDS, whatever the job in hand is doing;
* recovery: every quarter lease each worker looks for running jobs whose
  worker has been silent for a whole lease (killed, its machine lost) and
  puts them back in the queue, counted as an attempt, for any worker to take;
* guarded outcomes: a job's outcome is written only while the claim that ran
  it is still the job's claim, so a worker presumed lost that comes back
  cannot overwrite the outcome of the worker that took the job over;
* retries: a job that raised waits (`jobs.queue.Policy.delay`) in the queue,
  its error kept for the admin, until its attempts are used up; then it is
  Failed, with its traceback, in the admin;
* the scheduler (`jobs.schedule.enqueue_due`), at the same pace as recovery.

SIGTERM or Ctrl-C stop it after the job in hand; a second one stops it at
once, and the interrupted job goes back to the queue.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from contextlib import contextmanager
from traceback import format_exception

from django.core.exceptions import SuspiciousOperation
from django.db import close_old_connections, connection
from django.db.models.functions import Now
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskContext, TaskResultStatus
from django_tasks.signals import task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker as LibraryWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception, retry

from . import queue, schedule
from .models import Worker

log = logging.getLogger("jobs.worker")

WORKER_LOST = "jobs.worker.WorkerLost"
INTERRUPTED = "jobs.worker.Interrupted"


def new_worker_id() -> str:
    """Readable in the admin: the machine, the process, and a few random letters (ids must be unique)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(6)}"[:64]


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGQUIT") if hasattr(signal, name))


@contextmanager
def stop_signals_held():
    """Stop signals are logged, not acted on, inside; their handlers are put back after."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread has handlers
        yield
        return
    held = lambda signum, frame: log.warning("%s while the worker writes that it stopped: it stops once written", signal.strsignal(signum))  # noqa: E731
    before = {s: signal.signal(s, held) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


class QueueWorker(LibraryWorker):
    def __init__(self, *, schedule: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.schedule = schedule
        self.lease = queue.lease()
        self.beat_every = self.lease.total_seconds() / 4
        self._stop_beating = threading.Event()
        self._current: DBTaskResult | None = None  # the claimed job, until its outcome is written
        self._next_housekeeping = 0.0

    # --- the loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        self._register()
        beat = threading.Thread(target=self._beat, name="jobs-lease", daemon=True)
        beat.start()
        log.info("worker %s started (lease %s s, queues %s)", self.worker_id, self.lease.total_seconds(), self.queue_names)
        try:
            self._loop()
        finally:
            # A stop signal arriving now (a second Ctrl-C, a supervisor's TERM after an INT) would raise
            # SystemExit in the middle of these writes: the job left claimed, the worker waited for as a
            # lost one for a whole lease. Held until they are written; the process is ending anyway.
            with stop_signals_held():
                if self._current is not None:  # stopped between its claim and its outcome
                    self._release(self._current, "the worker stopped before it finished")
                self._stop_beating.set()
                beat.join(timeout=5)
                Worker.objects.filter(pk=self.worker_id).update(stopped_at=Now(), seen_at=Now(), job=None)
            log.info("worker %s stopped", self.worker_id)

    def _loop(self) -> None:
        while self.running:
            close_old_connections()
            if time.monotonic() >= self._next_housekeeping:
                self._next_housekeeping = time.monotonic() + self.beat_every
                self.housekeeping()
            claimed, asked = self.claim()
            if claimed is not None:
                self.run_task(claimed)
            if self.batch and asked and claimed is None:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self.running and claimed is None:
                time.sleep(self.interval)

    def housekeeping(self) -> None:
        """Take back the jobs of lost workers; enqueue the periodic jobs that are due."""
        try:
            self.recover_lost()
            if self.schedule:
                schedule.enqueue_due()
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise
            # SQLite busy beyond its timeout: the next round tries again.

    def claim(self) -> tuple[DBTaskResult | None, bool]:
        """(the job claimed or None, whether the queue could be asked) — the library's claim, plus who runs it."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        try:
            if not tasks.exists():
                # Most polls find nothing: no transaction then (on SQLite, the claim's takes the write lock).
                return None, True
            with exclusive_transaction(tasks.db):
                found = tasks.get_locked()
                if found is not None:
                    found.claim(self.worker_id)  # RUNNING, started_at (the claim's token), our id appended
                    Worker.objects.filter(pk=self.worker_id).update(job=found.pk, seen_at=Now())
            self._current = found
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None, False
            raise
        return found, True

    # --- one job ------------------------------------------------------------------------------------

    def run_task(self, row: DBTaskResult) -> None:
        self.running_task = True
        try:
            try:
                task = row.task
                result = row.task_result
            except (ImportError, SuspiciousOperation) as exc:  # no such job (any more): trying again won't help
                self._fail(row, exc, final=True)
                return
            task_started.send(sender=type(task.get_backend()), task_result=result)
            try:
                if task.takes_context:
                    value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
                else:
                    value = task.call(*result.args, **result.kwargs)
                self._succeed(row, value)
            except (KeyboardInterrupt, SystemExit):
                # A second signal stopped it (the library put the default handlers back): a third must not kill
                # it mid-write, the job left claimed.
                with stop_signals_held():
                    self._release(row, "the worker was stopped while running it")
                raise
            except Exception as exc:
                self._fail(row, exc, final=len(row.worker_ids) >= queue.policy(row.task_path).max_attempts)
            else:
                task_finished.send(sender=type(task.get_backend()), task_result=row.task_result)
        finally:
            self._current = None
            self.running_task = False
            self._run_tasks += 1

    def _mine(self, row: DBTaskResult):
        """The job's row while the claim that ran it is still its claim (none once taken over)."""
        return DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at)

    def _dropped(self, row: DBTaskResult, outcome: str) -> None:
        log.warning(
            "job %s (%s) was taken over by another worker while this one (%s) ran it: this %s is dropped",
            row.pk, row.task_path, self.worker_id, outcome,
        )

    @retry()
    def _succeed(self, row: DBTaskResult, value) -> None:
        now = timezone.now()
        if not self._mine(row).update(
            status=TaskResultStatus.SUCCESSFUL, finished_at=now, return_value=value, exception_class_path="", traceback=""
        ):
            return self._dropped(row, "success")
        row.status, row.finished_at, row.return_value = TaskResultStatus.SUCCESSFUL, now, value
        row.exception_class_path = row.traceback = ""

    @retry()
    def _fail(self, row: DBTaskResult, exc: BaseException, *, final: bool) -> None:
        error = f"{type(exc).__module__}.{type(exc).__qualname__}"
        trace = "".join(format_exception(exc))
        attempt, policy = len(row.worker_ids), queue.policy(row.task_path)
        if final:
            now = timezone.now()
            if not self._mine(row).update(
                status=TaskResultStatus.FAILED, finished_at=now, return_value=None, exception_class_path=error, traceback=trace
            ):
                return self._dropped(row, "failure")
            log.error("job %s (%s) failed on its last attempt (%d): %s", row.pk, row.task_path, attempt, exc, exc_info=exc)
            row.status, row.finished_at, row.exception_class_path, row.traceback = TaskResultStatus.FAILED, now, error, trace
            try:
                task_finished.send(sender=type(row.task.get_backend()), task_result=row.task_result)
            except (ImportError, SuspiciousOperation):
                pass
            return
        when = timezone.now() + policy.delay(attempt)
        if not self._mine(row).update(
            status=TaskResultStatus.READY, run_after=when, exception_class_path=error, traceback=trace
        ):
            return self._dropped(row, "failure")
        log.warning(
            "job %s (%s) failed on attempt %d of %d, tried again after %s: %s",
            row.pk, row.task_path, attempt, policy.max_attempts, when.isoformat(timespec="seconds"), exc,
        )

    @retry()
    def _release(self, row: DBTaskResult, why: str) -> None:
        """Back to the queue for any worker, now (an interruption is not the job's fault; it counts as an attempt)."""
        attempt, policy = len(row.worker_ids), queue.policy(row.task_path)
        note = f"{INTERRUPTED}: {why} (worker {self.worker_id}, attempt {attempt} of {policy.max_attempts})"
        if attempt >= policy.max_attempts:
            self._mine(row).update(
                status=TaskResultStatus.FAILED, finished_at=timezone.now(), exception_class_path=INTERRUPTED,
                traceback=note + "; no attempt left",
            )
        else:
            self._mine(row).update(
                status=TaskResultStatus.READY, run_after=timezone.now(), exception_class_path=INTERRUPTED, traceback=note
            )
        self._current = None

    # --- leases -------------------------------------------------------------------------------------

    def _register(self) -> None:
        Worker.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
                "queues": ",".join(self.queue_names)[:255],
                "seen_at": Now(),
                "stopped_at": None,
                "job": None,
            },
        )

    def _beat(self) -> None:
        """Say this worker is alive, every quarter lease, on the thread's own connection."""
        while not self._stop_beating.wait(self.beat_every):
            try:
                close_old_connections()
                current = self._current
                if not Worker.objects.filter(pk=self.worker_id).update(
                    seen_at=Now(), job=current.pk if current is not None else None
                ):
                    self._register()  # purged while we ran: say who we are again
            except Exception:
                log.exception("worker %s could not renew its lease", self.worker_id)
                connection.close()
        connection.close()

    def recover_lost(self) -> int:
        """Put the jobs of workers silent for a lease back in the queue (or fail them, attempts used up)."""
        running = list(DBTaskResult.objects.running().filter(backend_name=self.backend_name))
        if not running:
            return 0
        alive = set(
            Worker.objects.filter(stopped_at=None, seen_at__gte=Now() - self.lease).values_list("worker_id", flat=True)
        )
        known = {w.worker_id: w for w in Worker.objects.filter(worker_id__in=[r.worker_ids[-1] for r in running if r.worker_ids])}
        taken = 0
        for row in running:
            owner = row.worker_ids[-1] if row.worker_ids else None
            if owner in alive or owner == self.worker_id:
                continue
            if owner not in known and row.started_at and row.started_at > timezone.now() - self.lease:
                continue  # claimed by a worker that has not said who it is yet
            taken += self._take_back(row, known.get(owner), owner)
        return taken

    def _take_back(self, row: DBTaskResult, owner: Worker | None, owner_id: str | None) -> int:
        attempt, policy = len(row.worker_ids), queue.policy(row.task_path)
        who = f"{owner.host} pid {owner.pid} ({owner_id})" if owner else (owner_id or "unknown")
        seen = f", last seen {owner.seen_at:%Y-%m-%d %H:%M:%S %Z}" if owner else ""
        note = f"{WORKER_LOST}: worker {who} stopped answering{seen} during attempt {attempt} of {policy.max_attempts}"
        mine = self._mine(row)
        if attempt >= policy.max_attempts:
            n = mine.update(
                status=TaskResultStatus.FAILED, finished_at=timezone.now(), exception_class_path=WORKER_LOST,
                traceback=note + "; no attempt left",
            )
            if n:
                log.error("job %s (%s) failed: %s; no attempt left", row.pk, row.task_path, note)
        else:
            n = mine.update(
                status=TaskResultStatus.READY, run_after=timezone.now(), exception_class_path=WORKER_LOST, traceback=note
            )
            if n:
                log.warning("job %s (%s) queued again: %s", row.pk, row.task_path, note)
        return n
