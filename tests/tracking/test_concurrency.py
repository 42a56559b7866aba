"""Two people update one key action at the same time: one wins, the other is refused, nothing is lost.

The service tests run two real threads, each with its own database
connection, both starting from the same version. On PostgreSQL the second
waits on the row lock (SELECT ... FOR UPDATE); on SQLite on the write lock
(BEGIN IMMEDIATE with a busy timeout). Either way it then finds the version
moved and is refused, and its attempt is kept in the history.

SQLite note: Django's in-memory test database uses SQLite's shared cache,
where a second writer fails at once ("database table is locked") instead of
waiting. A deployment uses a database file, so for these tests the threads
work on a file copy of the test database, opened with the project's own
settings (WAL, busy timeout, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import (
    kept_counts,
    make_action,
    make_evaluation,
    make_office,
    make_recommendation,
)
from tracking import permissions
from tracking.actor import Actor
from tracking.models import ActionUpdate, ChangeRecord, KeyAction, Role, RoleAssignment, Unit
from tracking.services.errors import ConflictError
from tracking.services.progress import record_progress

User = get_user_model()


@pytest.fixture
def shared_db(transactional_db, tmp_path):
    """A database every thread's connection sees committed data of, as in production."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield connection.vendor
        return
    memory_name = connection.settings_dict["NAME"]
    keep_alive = sqlite3.connect(memory_name, uri=True)  # the in-memory database lives while a connection does
    connection.ensure_connection()
    path = tmp_path / "concurrency.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)  # the schema (the data was flushed)
    target.close()
    BaseDatabaseWrapper.close(connection)  # sqlite's own close() ignores in-memory databases
    connection.settings_dict["NAME"] = str(path)  # shared by every thread's connection settings
    try:
        yield "sqlite-file"
    finally:
        connection.close()
        connection.settings_dict["NAME"] = memory_name
        connection.ensure_connection()
        keep_alive.close()


def scene():
    office = make_office("Office C1")
    unit = Unit.objects.create(office=office, name="Unit C1")
    action = make_action(make_recommendation(make_evaluation(office, status="Approved")), status="Initiated", units=[unit])
    unit_fp = User.objects.create(username="unit-fp")
    RoleAssignment.objects.create(user=unit_fp, role=Role.UNIT_FOCAL_POINT, unit=unit)
    office_fp = User.objects.create(username="office-fp")
    RoleAssignment.objects.create(user=office_fp, role=Role.OFFICE_FOCAL_POINT, office=office)
    return action, unit_fp, office_fp


def run_in_threads(*jobs):
    """Run each job in its own thread with its own connection; return their (outcome, value) in order."""
    results = [None] * len(jobs)

    def run(i, job):
        try:
            results[i] = ("ok", job())
        except ConflictError as exc:
            results[i] = ("conflict", exc)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


def assert_one_won_and_one_was_kept(action, results, attempts):
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["conflict", "ok"], results
    winner = next(i for i, r in enumerate(results) if r[0] == "ok")
    loser = 1 - winner
    update = results[winner][1]
    action.refresh_from_db()
    assert action.version == 2 and action.status == attempts[winner]["status"]
    # The successful attempt is the one progress update.
    assert list(ActionUpdate.objects.values_list("pk", "comment", "author__username")) == [
        (update.pk, attempts[winner]["comment"], attempts[winner]["who"].username)
    ]
    # The refused attempt is in the history, with what the person typed.
    refused = ChangeRecord.objects.get(action=ChangeRecord.Action.REFUSED)
    assert refused.user == attempts[loser]["who"] and refused.object_id == action.pk
    assert refused.after == {
        "status": attempts[loser]["status"],
        "comment": attempts[loser]["comment"],
        "evidence_url": attempts[loser].get("evidence_url", ""),
        "based_on_version": 1,
    }
    assert results[loser][1].current.version == 2
    # And nothing else: the winner's two records, the loser's one.
    assert sorted(ChangeRecord.objects.values_list("action", flat=True)) == ["create", "refused", "update"]
    return winner


def test_two_simultaneous_updates_one_wins_one_is_refused(shared_db):
    action, unit_fp, office_fp = scene()
    attempts = [
        {"who": unit_fp, "status": "Completed", "comment": "Done by the unit.", "evidence_url": "https://example.org/proof"},
        {"who": office_fp, "status": "No Longer Applicable", "comment": "Dropped by the office."},
    ]
    start = threading.Barrier(len(attempts))

    def job(attempt):
        def go():
            start.wait()  # both leave from the same line, with the same version in hand
            return record_progress(
                Actor(user=attempt["who"]), action, version=1, status=attempt["status"], comment=attempt["comment"],
                evidence_url=attempt.get("evidence_url", ""),
            )

        return go

    results = run_in_threads(*(job(a) for a in attempts))
    assert_one_won_and_one_was_kept(action, results, attempts)


def test_the_second_waits_for_the_first_then_is_refused(shared_db, monkeypatch):
    """Force the overlap: the first holds the lock while the second arrives and waits for it."""
    action, unit_fp, office_fp = scene()
    first_holds_lock = threading.Event()
    second_started = threading.Event()
    timeline = {}
    original_require = permissions.require

    def require(actor, permission, obj=None):
        original_require(actor, permission, obj)
        if permission == permissions.UPDATE_ACTION and actor.user.username == "unit-fp":
            # Inside the first update's transaction, the key action locked.
            first_holds_lock.set()
            assert second_started.wait(10)
            time.sleep(0.4)  # the second is now waiting for the lock

    monkeypatch.setattr(permissions, "require", require)

    def first():
        result = record_progress(Actor(user=unit_fp), action, version=1, status="Completed", comment="First.", evidence_url="https://example.org/proof")
        timeline["first_done"] = time.monotonic()
        return result

    def second():
        assert first_holds_lock.wait(10)
        second_started.set()
        timeline["second_start"] = time.monotonic()
        try:
            return record_progress(Actor(user=office_fp), action, version=1, status="Initiated", comment="Second.")
        finally:
            timeline["second_done"] = time.monotonic()

    results = run_in_threads(first, second)
    attempts = [
        {"who": unit_fp, "status": "Completed", "comment": "First.", "evidence_url": "https://example.org/proof"},
        {"who": office_fp, "status": "Initiated", "comment": "Second."},
    ]
    assert assert_one_won_and_one_was_kept(action, results, attempts) == 0
    # The second really waited for the first to commit before it could read the key action.
    assert timeline["second_done"] - timeline["second_start"] >= 0.3
    assert timeline["second_done"] >= timeline["first_done"] - 0.05


# --- the web: a stale tab ---------------------------------------------------------------------------------


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_stale_progress_form_gets_409_with_the_current_status_and_the_entry_kept(htmx):
    action, unit_fp, office_fp = scene()
    url = reverse("web:action_update", args=[action.pk])
    first, second = _signed_in(unit_fp), _signed_in(office_fp)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    # Both open the form on version 1.
    for client in (first, second):
        form = client.get(url, **headers).content.decode()
        assert re.search(r'name="version" value="1"', form)
    done = first.post(url, {"version": 1, "status": "Completed", "comment": "Finished by the unit.", "evidence_url": "https://example.org/proof"}, **headers)
    assert done.status_code == (200 if htmx else 302)
    late = second.post(url, {"version": 1, "status": "Initiated", "comment": "My careful note about the delay."}, **headers)
    assert late.status_code == 409
    page = late.content.decode()
    assert "Nothing was saved" in page
    assert "Now: <strong>Completed</strong>" in page and "Finished by the unit." in page
    assert "My careful note about the delay.</textarea>" in page  # the entry is kept ...
    assert re.search(r'name="version" value="2"', page)  # ... now based on the current version
    assert ActionUpdate.objects.count() == 1
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.user == office_fp and refused.after["comment"] == "My careful note about the delay."
    # The action is Completed now: the re-rendered form asks why it would be opened again.
    assert 'name="reopen_reason"' in page
    # Sent again from the re-rendered form, with that reason, it is saved: nothing was lost.
    again = second.post(url, {"version": 2, "status": "Initiated", "comment": "My careful note about the delay.",
                              "reopen_reason": "The unit closed it too early."}, **headers)
    assert again.status_code == (200 if htmx else 302)
    assert list(ActionUpdate.objects.order_by("id").values_list("comment", flat=True)) == [
        "Finished by the unit.",
        "My careful note about the delay.",
    ]
    assert KeyAction.objects.get(pk=action.pk).version == 3


@pytest.mark.django_db
def test_a_stale_recommendation_form_shows_both_versions_and_keeps_the_attempt():
    office = make_office("Office C2")
    ev = make_evaluation(office, status="Draft")
    rec = make_recommendation(ev, text="Original text.")
    focal = User.objects.create(username="focal")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    client = _signed_in(focal)
    url = reverse("web:recommendation_edit", args=[rec.pk])
    data = {"version": 1, "number": "1", "text": "Colleague's text.", "category": "Accepted"}
    assert client.post(url, data).status_code == 302
    late = client.post(url, {**data, "text": "My stale text."})
    assert late.status_code == 409
    page = late.content.decode()
    assert "Colleague&#x27;s text." in page and "My stale text.</textarea>" in page
    assert re.search(r'name="version" value="2"', page)
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.object_id == rec.pk and refused.after["text"] == "My stale text." and refused.after["based_on_version"] == 1
    rec.refresh_from_db()
    assert (rec.text, rec.version) == ("Colleague's text.", 2)


def test_a_progress_update_during_a_counted_change_of_its_evaluation_is_counted_once(shared_db):
    """An office moved to another region (as the admin does: inside `kept_in_step`) while a progress update is recorded
    on one of its key actions. The change's counts before are made, then the update arrives: it waits for the change
    to commit (the key actions are locked with the counts), else its new status would be in the change's difference
    as well as its own, counted twice."""
    from django.db import transaction

    from tracking.models import Office, Region
    from tracking.services import tallies

    action, unit_fp, _ = scene()
    tallies.make_sums()  # the database was flushed: the sums' own row with it
    office = Office.objects.get(pk=action.evaluation.office_id)
    elsewhere = Region.objects.create(name="Elsewhere", slug="elsewhere")
    counted, update_started = threading.Event(), threading.Event()

    def move():
        with transaction.atomic(), tallies.kept_in_step([action.evaluation_id]):
            counted.set()
            assert update_started.wait(10)
            time.sleep(0.4)  # the update would commit now, were it not made to wait
            Office.objects.filter(pk=office.pk).update(region=elsewhere)

    def update():
        assert counted.wait(10)
        update_started.set()
        return record_progress(Actor(user=unit_fp), action, version=1, status="Completed", comment="Done.",
                               evidence_url="https://example.org/proof")

    results = run_in_threads(move, update)
    assert [r[0] for r in results] == ["ok", "ok"], results
    kept = kept_counts()
    assert kept == tallies.everything()
    assert kept[("all", "", True, "Completed", 2030 * 12 + 1, False)] == 1
    assert tallies.kept_sums() == tallies.sums_made_again(tallies.sums_month())


def test_two_simultaneous_updates_of_one_office_move_its_sums_once_each(shared_db):
    """Two progress updates on two key actions of one office at once: each moves the same sums (the office's, the
    region's, all), in turn; neither is lost."""
    from tracking.models.responses import today
    from tracking.models.tallies import month_index, sums_current
    from tracking.services import tallies

    action, unit_fp, _ = scene()
    other = make_action(action.recommendation, status="Initiated", units=list(action.units.all()))
    tallies.make_sums()
    start = threading.Barrier(2)

    def update(a):
        def run():
            start.wait(10)
            return record_progress(Actor(user=unit_fp), a, version=a.version, status="Completed", comment="Done.",
                                   evidence_url="https://example.org/proof")
        return run

    results = run_in_threads(update(action), update(other))
    assert [r[0] for r in results] == ["ok", "ok"], results
    month = month_index(today())
    assert sums_current(month).exists()
    assert tallies.kept_sums() == tallies.sums_made_again(month)
    office = str(action.evaluation.office_id)
    assert tallies.kept_sums()[("office", office, True, "Completed")][0] == 2


def test_a_recommendation_deleted_while_the_similarity_job_regroups_it_is_counted_once(shared_db):
    """The similarity job moves a draft's recommendation (no key action: none to lock) to another theme while its
    office deletes it. The job locks the evaluation and its response with the counts; the deletion, which locks the
    response first, waits for the job and counts with the themes as it leaves them. Else each would take the
    recommendation off its first theme: once in its own difference, once in the job's."""
    from django.db import transaction

    from search import recurring
    from search.models import Theme, ThemeMember
    from tests.search.factories import put_in_theme
    from tracking.services import drafting, tallies

    office = make_office("Office C2")
    draft = make_recommendation(make_evaluation(office, status="Draft"), text="Draft.")
    other = make_recommendation(make_evaluation(office), text="Approved.")
    first, second = (Theme.objects.create(label=f"Theme {i}", method="tfidf") for i in (1, 2))
    put_in_theme(first, [draft, other])
    counted, delete_started = threading.Event(), threading.Event()

    def regroup():
        with transaction.atomic(), recurring.themes_moving([draft.pk]):
            counted.set()
            assert delete_started.wait(10)
            time.sleep(0.4)  # the deletion would commit now, were it not made to wait
            ThemeMember.objects.filter(recommendation_id=draft.pk).update(theme=second)

    def delete():
        assert counted.wait(10)
        delete_started.set()
        drafting.delete_recommendation(Actor.system("test"), draft, version=draft.version)

    results = run_in_threads(regroup, delete)
    assert [r[0] for r in results] == ["ok", "ok"], results
    kept = kept_counts()
    assert kept == tallies.everything()
    assert kept[("theme_records", str(first.pk), True, "r", 0, False)] == 1  # the approved one is left
    assert not any(k[1] == str(first.pk) and not k[2] for k in kept if k[0].startswith("theme"))
