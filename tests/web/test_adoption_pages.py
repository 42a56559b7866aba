"""Adoption ratings through the web: management rates, the evaluation office validates, both shown side by side."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_evaluation, make_office, make_recommendation
from tracking.models import Recommendation, Role, RoleAssignment

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def world():
    office = make_office("Office A")
    rec = make_recommendation(make_evaluation(office, title="Rated evaluation"))
    clients = {}
    for name, role, scope in [("fp", Role.OFFICE_FOCAL_POINT, {"office": office}), ("eo", Role.EVALUATION_OFFICE, {})]:
        user = User.objects.create_user(name, password=f"pw-{name}-123456")
        RoleAssignment.objects.create(user=user, role=role, **scope)
        clients[name] = Client()
        clients[name].force_login(user)
    return rec, clients


def post(client, rec, side, rating, note="", version=None):
    version = version or Recommendation.objects.get(pk=rec.pk).version
    return client.post(reverse("web:adoption", args=[rec.pk]), {"version": version, "side": side, "rating": rating, "note": note})


def test_rated_by_management_validated_by_the_evaluation_office_shown_side_by_side(world):
    rec, c = world
    url = reverse("web:adoption", args=[rec.pk])
    page = c["fp"].get(url).content.decode()
    assert 'id="management-rating"' in page and 'id="evaluation_office-rating"' not in page  # their side only

    refused = post(c["fp"], rec, "management", "", note="A note without a rating.")
    assert refused.status_code == 400 and "A note goes with a rating" in refused.content.decode()
    done = post(c["fp"], rec, "management", "substantial", "Adopted at headquarters, not yet in the field.")
    assert done.status_code == 302 and done["Location"].endswith(f"#recommendation-{rec.pk}")
    assert post(c["fp"], rec, "evaluation_office", "full").status_code == 403  # not management's to validate
    assert post(c["eo"], rec, "evaluation_office", "partial").status_code == 302

    public = Client().get(reverse("web:evaluation", args=[rec.evaluation_id])).content.decode()
    assert "Management: <strong>Substantial</strong>" in public
    assert "validated by the evaluation office: <strong>Partial</strong>" in public
    assert "Adopted at headquarters, not yet in the field." in public
    assert reverse("web:adoption", args=[rec.pk]) not in public  # the link is for people with a role
    inside = c["eo"].get(reverse("web:evaluation", args=[rec.evaluation_id])).content.decode()
    assert reverse("web:adoption", args=[rec.pk]) in inside


def test_a_stale_rating_is_a_conflict_showing_the_current_ones(world):
    rec, c = world
    post(c["fp"], rec, "management", "full")
    stale = post(c["eo"], rec, "evaluation_office", "negligible", version=1)
    assert stale.status_code == 409
    html = stale.content.decode()
    assert "Nothing was saved" in html and "<strong>Full</strong>" in html
    assert Recommendation.objects.get(pk=rec.pk).adoption_validated == ""
