"""Slow figures after a change: the previous ones at once, the new ones from a job worker (web/caching.py).

The worker here is the real worker code run in the test's process
(tests/jobs/conftest.py); tests/deploy/ runs real worker processes beside
real app servers.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from jobs.models import Job
from jobs.tasks import refresh_page
from tests.conftest import sample_text
from tests.jobs.conftest import in_process_worker, run_queued
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import KeyAction, Role, RoleAssignment, Unit
from tracking.services.importer import Importer
from tracking.services.progress import record_progress

pytestmark = pytest.mark.django_db

STALE = "newer ones are being computed"


@pytest.fixture(autouse=True)
def _in_background(settings):
    settings.CACHE_REFRESH_IN_BACKGROUND = True
    settings.CACHE_REFRESH_EVERY = 0  # a refresh may run at once (the interval has its own test)


def key_actions(html: str) -> int:
    return int(re.search(r">(\d+)</span> key actions", html.replace("\n", "")).group(1))


def dashboard(client) -> str:
    return client.get(reverse("web:dashboard")).content.decode()


def a_change() -> None:
    """Anything through the services writes a history record, and so a new data version."""
    Importer(Actor.system()).import_text(sample_text("000_6da9e6de966dff24"), source="000")


def a_progress_update() -> None:
    person = get_user_model().objects.create_user("ufp", password="pw-ufp-123456")
    unit = Unit.objects.get(name="PPID")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=unit)
    action = KeyAction.objects.filter(units=unit).first()
    record_progress(Actor(user=person), action, version=action.version, status="Completed", comment="Done.", evidence_url="https://example.org/proof.pdf")


def refreshes() -> list[Job]:
    return list(Job.objects.filter(task_path=refresh_page.module_path))


def test_the_previous_figures_at_once_then_the_new_ones_from_the_worker(client):
    worker = in_process_worker()  # a worker is alive
    Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002")
    assert key_actions(dashboard(client)) == 13  # a first ever request computes them
    a_change()
    stale = dashboard(client)
    assert STALE in stale and key_actions(stale) == 13  # the previous figures, said to be from before
    assert STALE in dashboard(client)  # a second reader: still the previous figures...
    assert len(refreshes()) == 1  # ...and still one refresh queued (one per page and reader standing)
    job = refreshes()[0]
    assert job.args_kwargs["kwargs"]["path"] == "/dashboard/" and job.args_kwargs["kwargs"]["user_id"] is None

    assert run_queued(worker) == 1
    assert Job.objects.get(pk=job.pk).status == "SUCCESSFUL"
    fresh = dashboard(client)
    assert STALE not in fresh and key_actions(fresh) == 31
    assert cache.get(job.args_kwargs["kwargs"]["guard"]) is None  # let go: the next change queues a new refresh
    a_progress_update()
    assert STALE in dashboard(client) and len(refreshes()) == 2


def test_under_a_stream_of_changes_the_figures_are_computed_at_most_every_so_often(client, settings):
    import datetime as dt

    from django.utils import timezone

    settings.CACHE_REFRESH_EVERY = 600
    worker = in_process_worker()
    Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002")
    assert key_actions(dashboard(client)) == 13  # computed now
    a_change()
    assert STALE in dashboard(client)
    [job] = refreshes()
    row = DBTaskResult.objects.get(pk=job.pk)
    wait = (row.run_after - timezone.now()).total_seconds()
    assert 500 < wait <= 600  # queued at once, to run ten minutes after the figures it replaces were computed
    assert run_queued(worker) == 0  # not before
    a_progress_update()
    assert STALE in dashboard(client) and len(refreshes()) == 1  # more changes: still that one refresh
    # Its time come, it computes the figures of every change so far.
    DBTaskResult.objects.filter(pk=job.pk).update(run_after=timezone.now() - dt.timedelta(seconds=1))
    assert run_queued(worker) == 1
    fresh = dashboard(client)
    assert STALE not in fresh and key_actions(fresh) == 31
    # Figures computed longer ago than the interval are refreshed at once after a change.
    key = job.args_kwargs["kwargs"]["guard"].removesuffix(":refreshing")
    version, value, computed_at = cache.get(key)
    cache.set(key, (version, value, computed_at - dt.timedelta(seconds=601)))
    person = get_user_model().objects.get(username="ufp")
    action = KeyAction.objects.filter(units__name="PPID").exclude(status="Completed").first()
    record_progress(Actor(user=person), action, version=action.version, status="Completed", comment="Done too.",
                    evidence_url="https://example.org/proof2.pdf")
    assert STALE in dashboard(client)
    newest = DBTaskResult.objects.exclude(pk=job.pk).get(task_path=refresh_page.module_path)
    assert newest.run_after <= timezone.now() or newest.run_after.year >= 9999  # due now ("no run_after": the maximum date)
    assert run_queued(worker) == 1


def test_with_no_worker_alive_the_request_computes_them(client):
    Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002")
    dashboard(client)
    a_change()
    html = dashboard(client)
    assert STALE not in html and key_actions(html) == 31
    assert refreshes() == []


def test_the_refresh_computes_what_its_reader_may_see(client):
    """The worker replays the page as the reader who found it stale: staff figures count drafts, public ones don't."""
    worker = in_process_worker()
    kenya = make_office("Kenya", "CO", region="East and Southern Africa")
    make_action(make_recommendation(make_evaluation(kenya)), status="Completed")
    make_action(make_recommendation(make_evaluation(kenya, status="Draft")), status="Not Initiated")
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    staff = type(client)()
    staff.force_login(viewer)
    assert (key_actions(dashboard(client)), key_actions(dashboard(staff))) == (1, 2)

    a_change()  # 18 more actions, approved
    assert STALE in dashboard(client) and STALE in dashboard(staff)
    assert sorted(j.args_kwargs["kwargs"]["user_id"] or 0 for j in refreshes()) == [0, viewer.pk]
    assert run_queued(worker) == 2
    assert (key_actions(dashboard(client)), key_actions(dashboard(staff))) == (19, 20)


def test_a_refresh_finding_its_figures_current_computes_nothing(client, settings):
    worker = in_process_worker()
    Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002")
    dashboard(client)
    a_change()
    assert STALE in dashboard(client)
    settings.CACHE_REFRESH_IN_BACKGROUND = False
    dashboard(client)  # computed in a request meanwhile
    key = refreshes()[0].args_kwargs["kwargs"]["guard"].removesuffix(":refreshing")
    computed_at = cache.get(key)[2]
    run_queued(worker)
    assert cache.get(key)[2] == computed_at  # the refresh found the current version there and left it


def test_a_refresh_that_keeps_failing_lets_the_next_reader_queue_another(client):
    worker = in_process_worker()
    guard = "ft:test:refreshing"
    cache.set(guard, 1)
    result = refresh_page.enqueue(path="/no-such-page/", user_id=None, host="testserver", secure=False, guard=guard)
    for attempt in (1, 2, 3):
        DBTaskResult.objects.filter(pk=result.id).update(run_after=result.enqueued_at)  # its backoff has passed
        assert run_queued(worker) == 1
        job = Job.objects.get(pk=result.id)
        if attempt < 3:
            assert job.status == "READY" and cache.get(guard) == 1  # tried again soon: still the one refresh
    assert job.status == "FAILED" and "Resolver404" in job.traceback
    assert cache.get(guard) is None


def test_the_annual_report_too_is_kept_and_refreshed_by_the_worker(client):
    """The annual report costs as much as the dashboard: after a change, the previous report at once (said to be
    from before), the new one from the worker."""
    worker = in_process_worker()
    Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002")
    url = reverse("web:annual_report") + "?year=2026"

    def due(html: str) -> str:
        return re.search(r"Key actions due by the end of 2026.{0,200}", html.replace("\n", " ")).group(0)  # 1, then 19

    first = client.get(url).content.decode()
    a_change()
    stale = client.get(url).content.decode()
    assert STALE in stale and due(stale) == due(first)
    [job] = refreshes()
    assert job.args_kwargs["kwargs"]["path"] == url
    assert run_queued(worker) == 1
    fresh = client.get(url).content.decode()
    assert STALE not in fresh and due(fresh) != due(first)
