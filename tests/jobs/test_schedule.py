"""Periodic jobs: due times in the configured time zone, each enqueued once however many workers look."""

from __future__ import annotations

import datetime as dt

import pytest

from jobs import schedule
from jobs.models import Job, ScheduledRun
from jobs.tasks import purge_finished_jobs
from tests.jobs import sample_jobs

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "every, start, now, due",
    [
        (dt.timedelta(days=1), dt.time(3, 30), "2026-12-01 10:00", "2026-12-01 03:30"),
        (dt.timedelta(days=1), dt.time(3, 30), "2026-12-01 03:29", "2026-11-30 03:30"),
        (dt.timedelta(days=1), dt.time(3, 30), "2026-12-01 03:30", "2026-12-01 03:30"),
        (dt.timedelta(minutes=15), dt.time(0, 0), "2026-12-01 10:07", "2026-12-01 10:00"),
        (dt.timedelta(hours=6), dt.time(1, 0), "2026-12-01 00:30", "2026-11-30 19:00"),
    ],
)
def test_the_due_time_is_the_latest_at_or_before_now(every, start, now, due, settings):
    settings.TIME_ZONE = "UTC"
    p = schedule.Periodic(name="x", task=sample_jobs.add, every=every, at=start)
    assert p.due_at(at(now)) == at(due)


def test_due_times_are_in_the_configured_time_zone(settings):
    settings.TIME_ZONE = "Africa/Nairobi"  # UTC+3
    p = schedule.Periodic(name="x", task=sample_jobs.add, every=dt.timedelta(days=1), at=dt.time(6, 0))
    assert p.due_at(at("2026-12-01 04:00")) == at("2026-12-01 03:00")


@pytest.mark.parametrize("every", [dt.timedelta(days=7), dt.timedelta(minutes=7), dt.timedelta(0)])
def test_an_interval_that_does_not_divide_a_day_is_refused(every):
    with pytest.raises(ValueError, match="must divide a day"):
        schedule.periodic(every=every)


def test_the_purge_is_registered_daily():
    purge = {p.name: p for p in schedule.registered()}["purge_finished_jobs"]
    assert (purge.task, purge.every, purge.at) == (purge_finished_jobs, dt.timedelta(days=1), dt.time(3, 30))


@pytest.mark.django_db
def test_each_due_time_is_enqueued_once(monkeypatch, settings):
    settings.TIME_ZONE = "UTC"
    monkeypatch.setattr(schedule, "_SCHEDULE", {})
    schedule.periodic(every=dt.timedelta(days=1), at=dt.time(6, 0), name="sum", a=1, b=2)(sample_jobs.add)
    now = at("2026-12-01 12:00")
    assert schedule.enqueue_due(now) == ["sum"]
    assert schedule.enqueue_due(now) == []  # another worker, the same due time
    assert schedule.enqueue_due(now + dt.timedelta(hours=11)) == []  # 23:00: still today's
    run = ScheduledRun.objects.get()
    assert (run.name, run.due_at) == ("sum", at("2026-12-01 06:00"))
    job = Job.objects.get(pk=run.job_id)
    assert job.task_path == sample_jobs.add.module_path and job.args_kwargs == {"args": [], "kwargs": {"a": 1, "b": 2}}
    # Three days without a worker: the latest due time once, not three.
    assert schedule.enqueue_due(now + dt.timedelta(days=3)) == ["sum"]
    assert ScheduledRun.objects.count() == 2 and Job.objects.count() == 2


@pytest.mark.django_db
def test_two_periodic_jobs_cannot_share_a_name(monkeypatch):
    monkeypatch.setattr(schedule, "_SCHEDULE", {})
    schedule.periodic(name="same")(sample_jobs.add)
    with pytest.raises(ValueError, match="two periodic jobs are named 'same'"):
        schedule.periodic(name="same")(sample_jobs.always_fails)
    schedule.periodic(name="same")(sample_jobs.add)  # the same job again (a module imported twice) is fine
    assert [p.task for p in schedule.registered()] == [sample_jobs.add]
