"""The evaluation list: what the public and signed-in users see, at a constant query cost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import Role, RoleAssignment

pytestmark = pytest.mark.django_db


def test_public_sees_approved_responses_only(client):
    make_evaluation(title="Approved one", status="Approved")
    make_evaluation(title="Draft one", status="Draft")
    page = client.get(reverse("web:evaluations")).content.decode()
    assert "Approved one" in page
    assert "Draft one" not in page


def test_users_with_a_role_see_drafts_too(client):
    make_evaluation(title="Draft one", status="Draft")
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    client.force_login(user)
    assert "Draft one" not in client.get(reverse("web:evaluations")).content.decode()  # no role yet
    RoleAssignment.objects.create(user=user, role=Role.VIEWER)
    assert "Draft one" in client.get(reverse("web:evaluations")).content.decode()


def test_counts_per_evaluation(client):
    ev = make_evaluation(title="Counted")
    rec = make_recommendation(ev)
    make_action(rec, deadline=dt.date(2001, 1, 1), status="Initiated")  # overdue
    make_action(rec, deadline=dt.date(2001, 1, 1), status="Completed")
    make_recommendation(ev)
    response = client.get(reverse("web:evaluations"))
    row = response.context["page"].object_list[0]
    assert (row.n_recommendations, row.n_key_actions, row.n_overdue) == (2, 2, 1)


def test_filters_by_text_office_and_year(client):
    kenya = make_office("Kenya")
    make_evaluation(kenya, title="Gender budgeting review", year=2020)
    make_evaluation(title="Peace processes", year=2024)
    url = reverse("web:evaluations")
    titles = lambda r: [e.title for e in r.context["page"].object_list]  # noqa: E731
    assert titles(client.get(url, {"q": "budget"})) == ["Gender budgeting review"]
    assert titles(client.get(url, {"q": "kenya"})) == ["Gender budgeting review"]
    assert titles(client.get(url, {"office": kenya.pk})) == ["Gender budgeting review"]
    assert titles(client.get(url, {"year": 2024})) == ["Peace processes"]
    # A year that is no year is refused, naming the filter (tracking.params), not silently dropped.
    refused = client.get(url, {"year": "not-a-year"})
    assert refused.status_code == 400 and "“year”" in refused.content.decode()


def test_pagination_keeps_filters(client):
    office = make_office("Busy office")
    for i in range(55):
        make_evaluation(office, title=f"Evaluation {i:02d}")
    r = client.get(reverse("web:evaluations"), {"office": office.pk, "page": 2})
    assert len(r.context["page"].object_list) == 5
    assert f"?office={office.pk}&amp;page=1" in r.content.decode()


def _queries_for(client, django_assert_max_num_queries, n):
    for _ in range(n):
        ev = make_evaluation()
        make_action(make_recommendation(ev))
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(reverse("web:evaluations")).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_rows(client, no_page_cache, django_assert_max_num_queries):
    few = _queries_for(client, django_assert_max_num_queries, 2)
    many = _queries_for(client, django_assert_max_num_queries, 30)
    assert few == many


def test_pages_in_order_of_year_then_title_each_row_with_its_own_counts(client):
    """The page's ids are sorted first and its rows read after: the order and each row's counts survive that."""
    office = make_office("Ordered office")
    made = []
    for i in range(60):
        ev = make_evaluation(office, title=f"Evaluation {59 - i:02d}", year=2020 + i % 3)
        for _ in range(i % 4):
            make_recommendation(ev)
        made.append(ev)
    expected = sorted(made, key=lambda e: (-e.year, e.title, e.pk))
    seen = []
    for number in (1, 2):
        r = client.get(reverse("web:evaluations"), {"office": office.pk, "page": number})
        seen += list(r.context["page"].object_list)
    assert [e.pk for e in seen] == [e.pk for e in expected]
    assert [e.n_recommendations for e in seen] == [e.recommendations.count() for e in expected]
    assert r.context["page"].paginator.count == 60
