"""Administrators see jobs (failed ones with their traceback), run failed ones again, and see the workers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db.models.functions import Now
from django.urls import reverse

from jobs.models import Job, Worker
from tests.jobs import sample_jobs
from tests.jobs.conftest import run_queued
from tracking.models import Role, RoleAssignment

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(client, role: str):
    user = User.objects.create_user(role.lower(), password="pw-person-123456")
    RoleAssignment.objects.create(user=user, role=role)
    client.force_login(user)
    return user


@pytest.fixture
def failed(worker) -> Job:
    result = sample_jobs.always_fails.enqueue()
    run_queued(worker)
    return Job.objects.get(pk=result.id)


def test_failed_jobs_are_listed_with_their_error(client, failed):
    sample_jobs.add.enqueue(1, 2)
    person(client, Role.ADMINISTRATOR)
    assert "Jobs" in client.get(reverse("admin:index")).content.decode()
    listing = client.get(reverse("admin:jobs_job_changelist"), {"status__exact": "FAILED"}).content.decode()
    assert "always_fails" in listing and "ValueError: this job always fails" in listing and "2 of 2" in listing
    assert ">add<" not in listing  # waiting jobs are not among the failed
    page = client.get(reverse("admin:jobs_job_change", args=[failed.pk])).content.decode()
    assert 'raise ValueError(&quot;this job always fails&quot;)' in page  # the whole traceback
    assert "test-worker, test-worker" in page  # who ran each attempt


def test_a_failed_job_is_run_again_as_a_new_job(client, failed):
    person(client, Role.ADMINISTRATOR)
    done = sample_jobs.add.enqueue(1, 2)
    response = client.post(
        reverse("admin:jobs_job_changelist"),
        {"action": "run_again", "_selected_action": [failed.pk, done.id]},
        follow=True,
    )
    assert "1 job queued again; 1 not failed, left as they are." in response.content.decode()
    again = Job.objects.exclude(pk=failed.pk).filter(task_path=failed.task_path).get()
    assert again.status == "READY" and again.attempts == 0
    assert Job.objects.get(pk=failed.pk).status == "FAILED"  # the failure stays on record


def test_jobs_are_not_for_other_roles(client, failed):
    person(client, Role.VIEWER)
    assert client.get(reverse("admin:jobs_job_changelist")).status_code in (302, 403)
    assert client.get(reverse("admin:jobs_job_change", args=[failed.pk])).status_code in (302, 403)


def test_workers_show_whether_they_are_alive(client, settings):
    settings.JOBS_LEASE_SECONDS = 60
    Worker.objects.create(worker_id="alive-1", host="app1", pid=11, queues="*")
    Worker.objects.create(worker_id="silent-2", host="app2", pid=22, queues="*")
    Worker.objects.filter(pk="silent-2").update(seen_at=Now() - dt.timedelta(minutes=5))
    person(client, Role.ADMINISTRATOR)
    html = client.get(reverse("admin:jobs_worker_changelist")).content.decode()
    rows = {host: html[html.index(host):][:1500] for host in ("app1", "app2")}
    assert 'alt="True"' in rows["app1"].split("</tr>")[0]
    assert 'alt="False"' in rows["app2"].split("</tr>")[0]
