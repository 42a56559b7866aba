"""Declaring jobs: a django-tasks task with a retry policy.

    from jobs.queue import job

    @job(attempts=5, backoff=30)
    def send_reminders(day: str) -> int: ...

    send_reminders.enqueue(day="2026-12-01")   # returns at once; a worker runs it

Arguments and return values are JSON (ids, not model instances). A job may
run more than once (a worker lost mid-run is replaced by another, which
starts the job again), so a job must be safe to repeat: it checks what is
already done, in the same transaction as what it does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils.module_loading import import_string
from django_tasks import DEFAULT_TASK_QUEUE_NAME, task

# No wait between attempts is ever longer than this.
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Policy:
    """How often a job is tried, and how long it waits between tries."""

    attempts: int | None = None  # None: settings.JOBS_MAX_ATTEMPTS
    backoff: float | None = None  # seconds before the second attempt (doubling after); None: the setting

    @property
    def max_attempts(self) -> int:
        return max(1, self.attempts if self.attempts is not None else settings.JOBS_MAX_ATTEMPTS)

    def delay(self, failed_attempt: int) -> timedelta:
        """The wait after attempt number `failed_attempt` (1, 2, ...) failed: doubling, with 10% jitter."""
        base = self.backoff if self.backoff is not None else settings.JOBS_RETRY_BACKOFF_SECONDS
        seconds = min(base * 2 ** (failed_attempt - 1), MAX_BACKOFF.total_seconds())
        # Jitter spreads the retries of jobs that failed together (a database restart).
        return timedelta(seconds=seconds * random.uniform(0.9, 1.1))  # noqa: S311


# task path -> policy, filled as job modules are imported (jobs.apps imports jobs.tasks).
_POLICIES: dict[str, Policy] = {}
DEFAULT_POLICY = Policy()


def job(
    *,
    attempts: int | None = None,
    backoff: float | None = None,
    queue_name: str = DEFAULT_TASK_QUEUE_NAME,
    priority: int = 0,
    takes_context: bool = False,
) -> Callable:
    """A job: django-tasks' `@task` with its retry policy (`attempts` in all, the first wait `backoff` s)."""
    if attempts is not None and attempts < 1:
        raise ValueError("a job is attempted at least once")

    def wrap(func):
        t = task(queue_name=queue_name, priority=priority, takes_context=takes_context)(func)
        _POLICIES[t.module_path] = Policy(attempts=attempts, backoff=backoff)
        return t

    return wrap


def policy(task_path: str) -> Policy:
    if task_path not in _POLICIES:
        try:  # a worker taking over a job it never ran: importing the job registers its policy
            import_string(task_path)
        except ImportError:
            pass
    return _POLICIES.get(task_path, DEFAULT_POLICY)


def lease() -> timedelta:
    """How long a silent worker keeps its job before another worker takes it over."""
    return timedelta(seconds=max(1, settings.JOBS_LEASE_SECONDS))


def workers_alive() -> bool:
    """Has any worker said it is alive within a lease? (If not, nothing queued now would run.)"""
    from django.db.models.functions import Now

    from .models import Worker

    return Worker.objects.filter(stopped_at=None, seen_at__gte=Now() - lease()).exists()
