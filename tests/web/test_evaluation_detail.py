"""The evaluation page shows the management response as GATE does, overdue flagged."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import sample_text
from tests.tracking.factories import make_action, make_evaluation, make_recommendation
from tracking.actor import Actor
from tracking.models import Role, RoleAssignment
from tracking.services.importer import Importer

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample_002():
    return Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002.txt").evaluation_id


def test_page_shows_header_recommendations_and_key_actions(client, sample_002):
    html = client.get(reverse("web:evaluation", args=[sample_002])).content.decode()
    assert "Corporate Evaluation of UN Women&#x27;s support to women&#x27;s participation in peace processes" in html
    assert "Policy, Programme and Intergovernmental Division</a> (HQ)" in html
    assert "2024 - 2025" in html
    assert html.count('class="recommendation"') == 5
    assert "PPID/Peace, Security and Resilience Unit; Country Offices in conflict settings" in html
    assert "2029/12" in html
    assert '<span class="badge ok">Accepted</span>' in html
    assert "<li>Capacity development</li>" in html and "<li>Advocacy</li>" in html
    assert html.count("<caption>Key actions</caption>") == 5


def test_overdue_actions_are_flagged(client):
    import datetime as dt

    ev = make_evaluation()
    rec = make_recommendation(ev)
    late = make_action(rec, deadline=dt.date(2001, 5, 1), status="Initiated", text="Late action.")
    done = make_action(rec, deadline=dt.date(2001, 5, 1), status="Completed", text="Done action.")
    html = client.get(reverse("web:evaluation", args=[ev.pk])).content.decode()
    assert f'<tr id="key-action-{late.pk}" class="overdue">' in html
    assert f'<tr id="key-action-{done.pk}">' in html
    assert html.count('<span class="badge bad">Overdue</span>') == 1


def test_draft_response_is_hidden_from_the_public(client):
    ev = make_evaluation(status="Draft")
    url = reverse("web:evaluation", args=[ev.pk])
    assert client.get(url).status_code == 404
    staffer = get_user_model().objects.create_user("staffer", password="pw-staffer-123")
    client.force_login(staffer)
    # Signed in without a role: still only what the public sees.
    assert client.get(url).status_code == 404
    RoleAssignment.objects.create(user=staffer, role=Role.VIEWER)
    assert client.get(url).status_code == 200


def test_unknown_evaluation_is_404(client):
    assert client.get(reverse("web:evaluation", args=[999999])).status_code == 404


def test_query_count_is_constant(client, no_page_cache, django_assert_max_num_queries):
    def queries(n_recs, n_actions):
        ev = make_evaluation()
        for _ in range(n_recs):
            rec = make_recommendation(ev)
            for _ in range(n_actions):
                make_action(rec)
        with django_assert_max_num_queries(30) as ctx:
            client.get(reverse("web:evaluation", args=[ev.pk]))
        return len(ctx.captured_queries)

    assert queries(1, 1) == queries(8, 5)
