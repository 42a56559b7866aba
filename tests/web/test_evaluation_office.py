"""The evaluation office's pages: editing and deleting evaluations, plans and compliance, documents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.tracking.factories import make_evaluation, make_office, make_recommendation
from tracking.models import Evaluation, Role, RoleAssignment

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def office():
    return make_office("Office W", region="Region W")


@pytest.fixture
def eo(client):
    user = User.objects.create(username="eo-w")
    RoleAssignment.objects.create(user=user, role=Role.EVALUATION_OFFICE)
    client.force_login(user)
    return client


# --- evaluations ------------------------------------------------------------------------------------


def test_the_evaluation_page_shows_what_the_creation_form_asked(client, office):
    ev = make_evaluation(office, title="Shown in full")
    Evaluation.objects.filter(pk=ev.pk).update(type="thematic", status="completed", completion_date=dt.date(2024, 5, 31))
    html = client.get(ev.get_absolute_url()).content.decode()
    for text in ("<dt>Year</dt><dd>2024</dd>", "<dd>Thematic</dd>", "<dd>Completed", "<dd>31 May 2024</dd>"):
        assert text in html
    # The public is offered no change.
    assert reverse("web:evaluation_edit", args=[ev.pk]) not in html and "evaluation_delete" not in html


def test_the_evaluation_office_edits_from_the_page(eo, office):
    ev = make_evaluation(office, title="To edit")
    html = eo.get(ev.get_absolute_url()).content.decode()
    assert f'href="{reverse("web:evaluation_edit", args=[ev.pk])}"' in html
    assert f'action="{reverse("web:evaluation_delete", args=[ev.pk])}" class="inline" data-confirm="Delete the evaluation' in html
    form = eo.get(reverse("web:evaluation_edit", args=[ev.pk])).content.decode()
    assert 'name="start_year" value="2023"' in form and 'name="title" value="To edit"' in form and 'name="version" value="1"' in form
    response = eo.post(
        reverse("web:evaluation_edit", args=[ev.pk]),
        {"version": 1, "office": office.pk, "title": "Edited", "start_year": 2023, "end_year": 2024, "year": 2024,
         "type": "", "status": "cancelled", "completion_date": "", "cancellation_reason": ""},
    )
    assert response.status_code == 400 and "Say why the evaluation was cancelled." in response.content.decode()
    assert Evaluation.objects.get(pk=ev.pk).title == "To edit"
    response = eo.post(
        reverse("web:evaluation_edit", args=[ev.pk]),
        {"version": 1, "office": office.pk, "title": "Edited", "start_year": 2023, "end_year": 2024, "year": 2024,
         "type": "", "status": "cancelled", "completion_date": "", "cancellation_reason": "No funds."},
    )
    assert response.status_code == 302
    page = eo.get(ev.get_absolute_url()).content.decode()
    assert "Evaluation saved." in page and "Cancelled <span class=\"small\">(No funds.)</span>" in page


def test_deleting_an_evaluation_with_recommendations_is_refused_with_a_reason(eo, office):
    ev = make_evaluation(office, title="Has content")
    make_recommendation(ev)
    response = eo.post(reverse("web:evaluation_delete", args=[ev.pk]), {"version": 1}, follow=True)
    html = response.content.decode()
    assert "cannot be deleted: it has 1 recommendation" in html
    assert Evaluation.objects.filter(pk=ev.pk).exists()
    empty = make_evaluation(office, title="Empty")
    response = eo.post(reverse("web:evaluation_delete", args=[empty.pk]), {"version": 1}, follow=True)
    assert "deleted (kept in the history)" in response.content.decode()
    assert not Evaluation.objects.filter(pk=empty.pk).exists()
