"""Periodic jobs: registered here, enqueued once per due time by whichever worker sees it first.

    from jobs.queue import job
    from jobs.schedule import periodic

    @periodic(every=timedelta(days=1), at=time(6, 0))    # every day at 06:00 (TIME_ZONE)
    @job()
    def send_reminders() -> int: ...

Every worker looks at the schedule every few seconds (`enqueue_due`); the
first to insert the (name, due time) row enqueues the job, in the same
transaction, so however many workers run on however many machines, each due
time is enqueued once. A due time missed while no worker ran is enqueued
once when one comes back (not once per missed time).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Periodic:
    name: str
    task: object  # a django-tasks Task
    every: dt.timedelta
    at: dt.time
    kwargs: dict = field(default_factory=dict)

    def due_at(self, now: dt.datetime) -> dt.datetime:
        """The latest due time at or before `now`: `at` (in TIME_ZONE) plus whole multiples of `every`."""
        tz = ZoneInfo(settings.TIME_ZONE)
        local = now.astimezone(tz)
        anchor = dt.datetime.combine(local.date(), self.at, tzinfo=tz)
        if anchor > local:
            anchor = dt.datetime.combine(local.date() - DAY, self.at, tzinfo=tz)
        steps = (local - anchor) // self.every
        return (anchor + steps * self.every).astimezone(dt.UTC)


_SCHEDULE: dict[str, Periodic] = {}


def periodic(*, every: dt.timedelta = DAY, at: dt.time = dt.time(0, 0), name: str | None = None, **kwargs) -> Callable:
    """Register a job (made with `jobs.queue.job`) to be enqueued every `every`, counted from `at` each day."""
    if every <= dt.timedelta(0) or every > DAY or DAY % every:
        raise ValueError(f"`every` must divide a day (a day, 6 hours, 15 minutes, ...), not {every}")

    def register(task):
        key = name or task.name
        existing = _SCHEDULE.get(key)
        if existing is not None and existing.task.module_path != task.module_path:
            raise ValueError(f"two periodic jobs are named {key!r}: {existing.task.module_path} and {task.module_path}")
        _SCHEDULE[key] = Periodic(name=key, task=task, every=every, at=at, kwargs=kwargs)
        return task

    return register


def registered() -> list[Periodic]:
    return sorted(_SCHEDULE.values(), key=lambda p: p.name)


def enqueue_due(now: dt.datetime | None = None) -> list[str]:
    """Enqueue each periodic job whose latest due time has no run yet; the names enqueued by this call."""
    from .models import ScheduledRun

    now = now or timezone.now()
    enqueued = []
    for p in registered():
        due = p.due_at(now)
        if ScheduledRun.objects.filter(name=p.name, due_at=due).exists():
            continue  # the common case, without a write (on SQLite a write takes the database's lock)
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(name=p.name, due_at=due)
                result = p.task.enqueue(**p.kwargs)
                run.job_id = result.id
                run.save(update_fields=["job"])
        except IntegrityError:
            continue  # another worker enqueued it first
        log.info("enqueued %s, due %s (job %s)", p.name, due.isoformat(), result.id)
        enqueued.append(p.name)
    return enqueued
