"""The page cache: served again without recomputing, never stale after a change, audiences kept apart."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import sample_text
from tracking.actor import Actor
from tracking.models import KeyAction, Role, RoleAssignment, Unit
from tracking.services.importer import Importer
from tracking.services.progress import record_progress

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def evaluation_id():
    return Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002").evaluation_id


def queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(url).content.decode()
    return len(ctx.captured_queries), html


def test_a_page_is_served_again_without_recomputing_it(client, evaluation_id):
    url = reverse("web:evaluation", args=[evaluation_id])
    first, html1 = queries(client, url)
    again, html2 = queries(client, url)
    assert again < first  # the recommendations, key actions and timelines came from the cache
    main = lambda html: html[html.index('<main id="main">') :]  # noqa: E731  (the header carries a fresh CSRF token)
    assert main(html1) == main(html2)


def test_a_progress_update_shows_at_once(client, evaluation_id):
    url = reverse("web:evaluation", args=[evaluation_id])
    client.get(url)  # cached now
    unit = Unit.objects.get(name="PPID")
    person = User.objects.create_user("ufp", password="pw-ufp-123456")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=unit)
    action = KeyAction.objects.filter(evaluation_id=evaluation_id, units=unit).first()
    record_progress(Actor(user=person), action, version=action.version, status="Completed", comment="Shown at once.", evidence_url="https://example.org/proof.pdf")
    html = client.get(url).content.decode()
    assert "Shown at once." in html
    assert f'id="status-{action.pk}"><span class="badge ok">Completed' in html
    # The figures moved too.
    dashboard = client.get(reverse("web:dashboard")).content.decode()
    assert ">1</span> Completed" in dashboard.replace("\n", "")


def test_public_and_internal_readers_get_their_own_bodies(client, evaluation_id):
    unit = Unit.objects.get(name="PPID")
    author = User.objects.create_user("focal.point.name", password="pw-fp-1234567")
    RoleAssignment.objects.create(user=author, role=Role.UNIT_FOCAL_POINT, unit=unit)
    action = KeyAction.objects.filter(evaluation_id=evaluation_id, units=unit).first()
    record_progress(Actor(user=author), action, version=action.version, status="Completed", comment="Done.", evidence_url="https://example.org/proof.pdf")
    url = reverse("web:evaluation", args=[evaluation_id])
    public = client.get(url).content.decode()
    viewer = User.objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    internal = client.get(url).content.decode()
    assert "focal.point.name" in internal  # staff see who reported
    assert "focal.point.name" not in public  # the public does not, whatever was cached first


def test_a_focal_point_gets_their_own_links_not_the_cached_body(client, evaluation_id):
    url = reverse("web:evaluation", args=[evaluation_id])
    client.get(url)  # the public body is cached
    person = User.objects.create_user("ufp", password="pw-ufp-123456")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=Unit.objects.get(name="PPID"))
    client.force_login(person)
    html = client.get(url).content.decode()
    assert "Update progress" in html
    other = User.objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=other, role=Role.VIEWER)
    client.force_login(other)
    assert "Update progress" not in client.get(url).content.decode()


def test_lists_follow_their_filters(client, evaluation_id):
    all_actions = client.get(reverse("web:actions")).content.decode()
    completed = client.get(reverse("web:actions"), {"status": "Completed"}).content.decode()
    assert all_actions != completed
    assert "13 key actions" in all_actions and "No key action matches." in completed


# After a change, the slow pages' previous figures at once and the new ones from a job worker:
# tests/jobs/test_refresh.py.


def _behind_the_back(sql: str, params) -> None:
    """A change no page hears of (no history record): a page that shows it was computed again."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_progress_update_invalidates_its_evaluation_its_office_and_the_figures_not_other_offices(client, evaluation_id):
    from tracking.models import Evaluation

    other = Importer(Actor.system()).import_text(sample_text("000_6da9e6de966dff24"), source="000").evaluation_id
    mine, theirs = Evaluation.objects.get(pk=evaluation_id), Evaluation.objects.get(pk=other)
    assert mine.office_id != theirs.office_id
    pages = {
        "my evaluation": reverse("web:evaluation", args=[mine.pk]),
        "my office": reverse("web:office", args=[mine.office.slug]),
        "their evaluation": reverse("web:evaluation", args=[theirs.pk]),
        "their office": reverse("web:office", args=[theirs.office.slug]),
        "dashboard": reverse("web:dashboard"),
    }
    for url in pages.values():
        assert client.get(url).status_code == 200  # cached now
    # Every page's evaluation titles changed behind the back: a page computed again shows the new one.
    _behind_the_back("UPDATE tracking_evaluation SET title = title || ' (renamed)'", [])
    _behind_the_back("UPDATE tracking_office SET name = name || ' (renamed)'", [])
    unit = Unit.objects.get(name="PPID")
    person = User.objects.create_user("ufp2", password="pw-ufp-123456")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=unit)
    action = KeyAction.objects.filter(evaluation_id=mine.pk, units=unit).exclude(status="Completed").first()
    record_progress(Actor(user=person), action, version=action.version, status="Completed", comment="Narrow.",
                    evidence_url="https://example.org/narrow.pdf")
    computed = {name: "(renamed)" in client.get(url).content.decode() for name, url in pages.items()}
    assert computed == {"my evaluation": True, "my office": True, "their evaluation": False, "their office": False, "dashboard": True}
    # A progress update that leaves the status as it was: its evaluation moves; the dashboard too, since it
    # shows what a progress update may change beside the status (its verification, its completion date).
    _behind_the_back("UPDATE tracking_office SET name = name || ' (again)'", [])
    action.refresh_from_db()
    record_progress(Actor(user=person), action, version=action.version, status="Completed", comment="Still done.",
                    evidence_url="https://example.org/still.pdf")
    computed = {name: "(again)" in client.get(url).content.decode() for name, url in pages.items()}
    assert computed == {"my evaluation": True, "my office": True, "their evaluation": False, "their office": False, "dashboard": True}


def test_a_new_release_renders_afresh_rather_than_serve_what_an_older_template_made(tmp_path, client, evaluation_id, monkeypatch):
    from web import caching

    (tmp_path / "web" / "templates").mkdir(parents=True)
    page = tmp_path / "web" / "templates" / "page.html"
    page.write_text("<p>{{ title }}</p>")
    before = caching.fingerprint([tmp_path / "web"])
    assert caching.fingerprint([tmp_path / "web"]) == before  # the same files: the same release
    page.write_text("<p class='new'>{{ title }}</p>")
    assert caching.fingerprint([tmp_path / "web"]) != before
    # The release is part of every key: a page kept by one release is not served by the next.
    url = reverse("web:evaluation", args=[evaluation_id])
    first, _ = queries(client, url)
    again, _ = queries(client, url)
    assert again < first
    monkeypatch.setattr(caching, "release", lambda: "next-release")
    after, _ = queries(client, url)
    assert after == first


def test_my_actions_keep_through_other_evaluations_changes_not_through_their_own(client, evaluation_id):
    """A person's key actions are computed again after a change in their evaluations, not after one elsewhere."""
    from tracking import queries as q
    from tracking.permissions import UPDATE, restrict

    other = Importer(Actor.system()).import_text(sample_text("000_6da9e6de966dff24"), source="000").evaluation_id
    unit = Unit.objects.get(name="PPID")
    person = User.objects.create_user("ufp3", password="pw-ufp-123456")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=unit)
    elsewhere = User.objects.create_user("ofp", password="pw-ofp-123456")
    theirs = KeyAction.objects.filter(evaluation_id=other).first()
    RoleAssignment.objects.create(user=elsewhere, role=Role.OFFICE_FOCAL_POINT, office=theirs.evaluation.office)
    client.force_login(person)
    url = reverse("web:my_actions")
    assert client.get(url).status_code == 200  # cached now
    _behind_the_back("UPDATE tracking_office SET name = name || ' (renamed)'", [])
    record_progress(Actor(user=elsewhere), theirs, version=theirs.version, status="Completed", comment="Elsewhere.",
                    evidence_url="https://example.org/elsewhere.pdf")
    assert "(renamed)" not in client.get(url).content.decode()  # kept: not one of theirs
    mine = KeyAction.objects.filter(evaluation_id=evaluation_id, units=unit).exclude(status="Completed").first()
    record_progress(Actor(user=person), mine, version=mine.version, status="Initiated", comment="Mine.")
    assert "(renamed)" in client.get(url).content.decode()  # computed again

    # An action leaving the set moves the version, even where its evaluation's changes are no newer than the rest's.
    actions = restrict(Actor(user=person), KeyAction, UPDATE)
    before = q.actions_version(actions)
    assert q.actions_version(actions) == before
    mine.units.remove(unit)  # behind the back: no history record
    assert q.actions_version(actions) != before


def test_my_actions_of_a_reader_who_may_change_none_are_a_page_with_a_version(client, evaluation_id):
    """No action to change: the version is the reference data's alone, and the page opens (no empty-set error)."""
    from tracking import queries as q
    from tracking.permissions import UPDATE, restrict

    reader = User.objects.create_user("reader-only", password="pw-reader-123456")
    assert q.actions_version(restrict(Actor(user=reader), KeyAction, UPDATE)) == (0, q.actions_version(KeyAction.objects.none())[1], 0, 0)
    assert q.actions_version(KeyAction.objects.all())[0] == q.data_version()  # every evaluation's newest record: the newest
    client.force_login(reader)
    assert client.get(reverse("web:my_actions")).status_code == 200


def test_recurring_themes_follow_the_similarity_jobs_regrouping_under_the_same_ids(client):
    """The job's nightly run keeps each theme's id (search.recurring._write_themes) and writes no change record: a
    theme renamed, or a member placed in another theme, still shows on the cached page at once."""
    import numpy as np
    from django.db import transaction

    from search import recurring
    from search.models import Theme
    from tests.search.factories import put_in_theme
    from tests.tracking.factories import make_action, make_evaluation, make_recommendation

    recs = [make_recommendation(make_evaluation(title=f"Themed {i}")) for i in range(2)]
    for r in recs:
        make_action(r)
    theme = Theme.objects.create(label="roads, bridges", public_label="roads, bridges", method="tfidf")
    put_in_theme(theme, recs)
    url = reverse("web:recurring")
    assert "roads, bridges" in client.get(url).content.decode()
    ids = [r.pk for r in recs]
    # The same two members, a closer word for them: no new theme, no new member (no newest id moves).
    regrouped = [{"terms": ["water", "wells"], "public": ["water", "wells"], "rows": np.array([0, 1]), "closeness": np.ones(2)}]
    with transaction.atomic(), recurring.themes_moving(None):
        recurring._write_themes(regrouped, ids, "tfidf")
    assert list(Theme.objects.values_list("pk", flat=True)) == [theme.pk]  # the same theme, renamed
    html = client.get(url).content.decode()
    assert "water, wells" in html and "roads, bridges" not in html
