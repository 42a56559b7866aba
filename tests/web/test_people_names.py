"""A key action is named with its recommendation ("3.2"), and with its evaluation where lists cross evaluations."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import Role, RoleAssignment
from tracking.models.responses import action_code

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.mark.parametrize(
    ("recommendation", "number", "expected"),
    [("3", "2", "3.2"), ("3", "3.2", "3.2"), ("3.", "2)", "3.2"), ("", "2", "2"), ("4", "", "4"), ("1", "1.a", "1.a")],
)
def test_the_code_joins_the_recommendation_number_once(recommendation, number, expected):
    assert action_code(recommendation, number) == expected


@pytest.fixture
def action():
    ev = make_evaluation(make_office("Office N"), title="Gender evaluation")
    make_recommendation(ev)
    make_recommendation(ev)
    rec = make_recommendation(ev)  # number "3"
    return make_action(rec, number="2")


def test_the_action_page_title_names_the_evaluation_and_the_code(action):
    page = Client().get(reverse("web:action", args=[action.pk])).content.decode()
    assert "<title>Gender evaluation — 3.2" in page
    assert "<h1>Key action 3.2</h1>" in page


def test_cross_evaluation_lists_name_the_evaluation_and_the_code(action):
    unit_person = User.objects.create(username="focal-n")
    RoleAssignment.objects.create(user=unit_person, role=Role.OFFICE_FOCAL_POINT, office=action.evaluation.office)
    client = Client()
    client.force_login(unit_person)
    mine = client.get(reverse("web:my_actions")).content.decode()
    assert "Gender evaluation — 3.2</a>" in mine
    listed = Client().get(reverse("web:actions")).content.decode()
    assert ">3.2</a>" in listed and "Gender evaluation" in listed
