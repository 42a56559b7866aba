"""No page issues more queries as the data grows, and each issues exactly the queries its baseline says.

Each page is requested on a small data set and again after everything it
shows has grown (more offices, evaluations, some untitled as imports leave
them, recommendations with tags, key actions with units, progress updates by
different people, history records). The number of queries must stay the
same, under a fixed bound, and equal to the page's count in
tests/web/query_counts.json (as NetBox pins its own): a change that adds a
query to a page changes that file, in the same commit, where a reviewer sees
it. `QUERY_COUNTS=write pytest tests/web/test_query_counts.py` writes the
file from what the pages issue now.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from search.models import SimilarRecommendation, Theme
from tests.search.factories import put_in_theme
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Recommendation,
    RecommendationTerm,
    Role,
    RoleAssignment,
    Term,
    Unit,
)

pytestmark = pytest.mark.django_db
User = get_user_model()
_seq = itertools.count(1)
PAST = dt.date(2001, 1, 1)
STATUSES = ("Draft", "Submitted", "Approved", "Returned")


@dataclass
class Data:
    office: object
    unit: object
    other_unit: object
    person: object
    scoped: object
    approved: Evaluation
    draft: ManagementResponse
    action: KeyAction
    theme: Theme


def _evaluation(office, title: str, **kwargs) -> Evaluation:
    """An evaluation; an empty title stays empty (the factory would invent one), as imports may leave it."""
    ev = make_evaluation(office, title=title or f"untitled-{next(_seq)}", **kwargs)
    if not title:
        Evaluation.objects.filter(pk=ev.pk).update(title="")
        ev.title = ""
    return ev


def _tag(rec: Recommendation, k: int) -> None:
    for kind in Term.Kind.values:
        term, _ = Term.objects.get_or_create(kind=kind, name=f"{kind} {k}")
        RecommendationTerm.objects.create(recommendation=rec, term=term, position=RecommendationTerm.objects.filter(recommendation=rec).count())


def _update(action: KeyAction, k: int) -> None:
    author = User.objects.create(username=f"author-{k}-{action.pk}")
    ActionUpdate.objects.create(
        key_action=action, status_before="Not Initiated", status_after="Initiated", comment=f"Update {k}.",
        author=author, author_name=author.username, evidence_url="https://example.org/evidence",
    )


def _record(obj, evaluation_id: int, k: int) -> None:
    who = User.objects.create(username=f"editor-{k}-{obj.pk}-{type(obj).__name__}")
    ChangeRecord.objects.create(
        user=who, user_name=who.username, source="web", action="update", content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk, object_repr=str(obj), evaluation_id=evaluation_id, before={"status": "a"}, after={"status": "b"},
    )


def build() -> Data:
    office = make_office("Office Q", region="Region Q")
    hq = make_office("Headquarters Q", type_code="HQ", region=None)
    unit = Unit.objects.create(office=office, name="Unit Q")
    other_unit = Unit.objects.create(office=hq, name="Corporate unit Q")
    person = User.objects.create(username="busy")
    RoleAssignment.objects.create(user=person, role=Role.OFFICE_FOCAL_POINT, office=office)
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=unit)
    RoleAssignment.objects.create(user=person, role=Role.EVALUATION_OFFICE)
    # Reads approved responses and office Q's drafts only: every list goes through the scope's filter.
    scoped = User.objects.create(username="scoped")
    RoleAssignment.objects.create(user=scoped, role=Role.OFFICE_FOCAL_POINT, office=office)
    approved = _evaluation(office, "", status="Approved")  # untitled, as imports may leave it
    draft = _evaluation(office, "The draft", status="Draft").management_response
    draft.units.set([unit, other_unit])
    action = make_action(make_recommendation(approved), units=[unit, other_unit], deadline=PAST)
    theme = Theme.objects.create(label="Grown theme", public_label="Grown theme", method="tfidf")
    put_in_theme(theme, [action.recommendation])
    data = Data(office, unit, other_unit, person, scoped, approved, draft, action, theme)
    grow(data, 1)
    return data


def grow(d: Data, n: int) -> None:
    """n more of everything every page lists."""
    for _ in range(n):
        k = next(_seq)
        # More offices in the region, each with evaluations (some untitled) and overdue actions in my unit.
        office = make_office(f"Grown office {k}", region="Region Q")
        for i, status in enumerate(STATUSES):
            ev = _evaluation(office, "" if k % 2 else f"Grown {status} {k}", status=status, year=2000 + i)
            a = make_action(make_recommendation(ev), units=[d.unit], deadline=PAST)
            _update(a, k)
            # Listed as similar to the key action's recommendation (drafts' too: the public's page leaves them out).
            listed = SimilarRecommendation.objects.filter(recommendation=d.action.recommendation).count()
            SimilarRecommendation.objects.create(recommendation=d.action.recommendation, similar=a.recommendation, score=0.5, rank=listed + 1)
        # My own office: more evaluations in more plans, in every status (to draft, to review).
        themed = []
        for i, status in enumerate(STATUSES):
            ev = _evaluation(d.office, "" if k % 2 else f"Mine {status} {k}", status=status, year=1900 + 4 * k + i)
            themed.append(make_recommendation(ev))
            make_action(themed[-1], units=[d.unit], deadline=PAST, status="Not Initiated")
            _record(ev.management_response, ev.pk, k)
        # Their recommendations recur: one theme more, and more members of the first (in more evaluations and years).
        put_in_theme(d.theme, themed[::2])  # a draft and an approved response's
        more = Theme.objects.create(label=f"Theme {k}", public_label=f"Theme {k}", method="tfidf")
        put_in_theme(more, themed[1::2])
        # The approved evaluation and the draft response: more recommendations, tags, actions, updates.
        for ev in (d.approved, d.draft.evaluation):
            rec = make_recommendation(ev, text=f"Grown recommendation {k}")
            _tag(rec, k)
            for _ in range(2):
                a = make_action(rec, units=[d.unit, d.other_unit], deadline=PAST)
                _update(a, k)
                _record(a, ev.pk, k)
        # The key action's own timeline and history.
        _update(d.action, k)
        _record(d.action, d.approved.pk, k)


INTERNAL = "internal"  # reads everything (a global evaluation office)
SCOPED = "scoped"  # reads approved responses and one office's drafts (an office focal point)
PUBLIC = "public"
ALL = (PUBLIC, INTERNAL, SCOPED)

PAGES = {
    # name: (url, who may see it, bound)
    "home": (lambda d: reverse("web:home"), ALL, 15),
    "regions": (lambda d: reverse("web:regions"), ALL, 10),
    "region": (lambda d: reverse("web:region", args=[d.office.region.slug]), ALL, 10),
    "office": (lambda d: reverse("web:office", args=[d.office.slug]), ALL, 12),
    "evaluations": (lambda d: reverse("web:evaluations"), ALL, 15),
    "evaluation": (lambda d: reverse("web:evaluation", args=[d.approved.pk]), ALL, 15),
    "actions": (lambda d: reverse("web:actions"), ALL, 15),
    "action": (lambda d: reverse("web:action", args=[d.action.pk]), ALL, 15),
    # Per breakdown: its kept counts and the accountability figures of its rows; closure, outcomes, plans.
    "dashboard": (lambda d: reverse("web:dashboard"), ALL, 50),
    # One region: its kept counts too (the region's, its offices', the other breakdowns' within it).
    "dashboard-region": (lambda d: f"{reverse('web:dashboard')}?region={d.office.region_id}", ALL, 50),
    # One year: counted from the key actions (one pass for the totals, one for every breakdown), not kept.
    "dashboard-year": (lambda d: f"{reverse('web:dashboard')}?year={d.approved.year}", ALL, 30),
    "annual-report": (lambda d: f"{reverse('web:annual_report')}?year=2024", ALL, 40),
    "annual-report-region": (lambda d: f"{reverse('web:annual_report')}?year=2024&region={d.office.region_id}", ALL, 40),
    # The themes from their kept counts (public, every draft), or counted from the members (some offices' drafts).
    "recurring": (lambda d: reverse("web:recurring"), ALL, 15),
    "recurring-theme": (lambda d: reverse("web:recurring_theme", args=[d.theme.pk]), ALL, 16),
    # The recommendation, its list's recommendations through the reading rules, their key actions, their completions.
    "similar": (lambda d: reverse("web:similar", args=[d.action.recommendation.pk]), ALL, 12),
    # The words' weight (SQLite's vocabulary, PostgreSQL's estimate), one statement for the hits and every filter's
    # counts with their values' names, the snippets, the hits' records through the reading rules (one query per kind).
    "search": (lambda d: f"{reverse('web:search')}?q=grown", ALL, 15),
    "search-filtered": (lambda d: f"{reverse('web:search')}?q=grown&office={d.office.pk}&year={d.approved.year}&kind=recommendation",
                        ALL, 15),
    "workspace": (lambda d: reverse("web:workspace"), (INTERNAL, SCOPED), 15),
    "my-actions": (lambda d: reverse("web:my_actions"), (INTERNAL, SCOPED), 12),
    "response-edit": (lambda d: reverse("web:response_edit", args=[d.draft.pk]), (INTERNAL, SCOPED), 15),
    "history": (lambda d: reverse("web:history"), (INTERNAL, SCOPED), 10),
    "evaluation-history": (lambda d: reverse("web:evaluation_history", args=[d.approved.pk]), (INTERNAL, SCOPED), 10),
}

CASES = [(name, who) for name, (_, whos, _) in PAGES.items() for who in whos]
BASELINE = Path(__file__).with_name("query_counts.json")


def _count(client: Client, url: str) -> tuple[int, int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return len(ctx.captured_queries), response.status_code, response.content.decode()


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    """Every page counted on the small data set, then the data grown (once per module, rolled back after)."""
    # What tests/conftest.py sets for each test, needed here before any test runs.
    plain = override_settings(
        SECURE_SSL_REDIRECT=False,
        STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
        # The cost of computing each page, not of fetching it from the page cache (tests/web/test_caching.py).
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
    )
    with plain, django_db_blocker.unblock(), transaction.atomic():
        d = build()
        clients = {PUBLIC: Client(), INTERNAL: Client(), SCOPED: Client()}
        clients[INTERNAL].force_login(d.person)
        clients[SCOPED].force_login(d.scoped)
        small = {}
        for name, who in CASES:
            url = PAGES[name][0](d)
            _count(clients[who], url)  # warm caches (content types, the session): both counts measure the page alone
            small[name, who] = _count(clients[who], url)
        if os.environ.get("QUERY_COUNTS") == "write":
            BASELINE.write_text(json.dumps({f"{n}-{w}": small[n, w][0] for n, w in CASES}, indent=1) + "\n")
        grow(d, 6)
        yield d, clients, small
        transaction.set_rollback(True)


@pytest.mark.parametrize("name,who", [pytest.param(n, w, id=f"{n}-{w}") for n, w in CASES])
def test_query_count_does_not_grow_with_the_data(measured, name, who):
    d, clients, small = measured
    url_of, _, bound = PAGES[name]
    few, status, _ = small[name, who]
    assert status == 200
    many, status, html = _count(clients[who], url_of(d))
    assert status == 200
    assert many == few, f"{name}: {few} queries with little data, {many} with more"
    assert many <= bound, f"{name}: {many} queries, more than the {bound} allowed"
    pinned = json.loads(BASELINE.read_text())[f"{name}-{who}"]
    assert many == pinned, f"{name} ({who}): {many} queries, {pinned} in {BASELINE.name} (a change of a page's queries changes that file)"
    # The larger data set really is on the page (the growth was not invisible to it).
    if name in ("evaluation", "response-edit"):
        assert html.count("Grown recommendation") == 7
    if name == "action":
        assert html.count('href="https://example.org/evidence"') == 7
    if name == "similar":  # an approved evaluation's recommendation listed per growth; every status's for a reader of every draft
        assert html.count('<td class="num score">') == (28 if who == INTERNAL else 7)
    if name in ("search", "search-filtered"):
        assert "<mark>Grown</mark> recommendation" in html and f">{d.office.name} (" in html  # a hit; the office filter
    if name in ("actions", "my-actions", "workspace", "office", "evaluations", "home") and who in (INTERNAL, SCOPED):
        assert "untitled evaluation" in html


def test_the_data_really_grows(measured):
    d, _, _ = measured
    before = (Evaluation.objects.count(), KeyAction.objects.count(), ActionUpdate.objects.count(), ChangeRecord.objects.count())
    grow(d, 2)
    after = (Evaluation.objects.count(), KeyAction.objects.count(), ActionUpdate.objects.count(), ChangeRecord.objects.count())
    assert [b - a for a, b in zip(before, after)] == [16, 24, 18, 18]


def test_the_baseline_pins_every_page_and_nothing_else():
    assert set(json.loads(BASELINE.read_text())) == {f"{n}-{w}" for n, w in CASES}
