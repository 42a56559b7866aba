"""Browsing as GATE does, and more: by type of evaluation, by headquarters unit, by report quality."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ChangeRecord, Evaluation, Role, RoleAssignment
from tracking.services import quality

User = get_user_model()
pytestmark = pytest.mark.django_db


def person(name, role, **scope):
    user = User.objects.create(username=name)
    RoleAssignment.objects.create(user=user, role=role, **scope)
    return user


def typed(office, title, type, status="Approved", rating=""):
    ev = make_evaluation(office, title=title, status=status)
    Evaluation.objects.filter(pk=ev.pk).update(type=type, quality=rating)
    return ev


def count_in(html: str, label: str) -> int:
    """The number in the row of a browse table whose first cell is (or links) `label`."""
    match = re.search(rf">{re.escape(label)}(?:</a>)?</td><td class=\"num\">([\d,]+)<", html)
    assert match, label
    return int(match.group(1).replace(",", ""))


def test_the_browse_page_counts_evaluations_by_type_headquarters_unit_and_quality_as_the_reader_reads(client):
    hq = make_office("Policy Division", type_code="HQ", region=None)
    country = make_office("Country office X")
    typed(hq, "Thematic one", "thematic", rating="very_good")
    typed(country, "Country portfolio one", "country_portfolio", rating="good")
    typed(country, "Country portfolio two", "country_portfolio", rating="very_good")
    typed(hq, "Thematic draft", "thematic", status="Draft", rating="very_good")

    html = client.get(reverse("web:regions")).content.decode()
    assert count_in(html, "Thematic") == 1  # the draft is not the public's
    assert count_in(html, "Country portfolio") == 2
    assert count_in(html, "Joint") == 0
    assert count_in(html, "Policy Division") == 1
    assert "Country office X</a></td><td class=\"num\">" not in html.split('id="by-hq"')[1].split("</section>")[0]
    assert count_in(html, "Very good") == 2
    assert count_in(html, "Unsatisfactory") == 0

    client.force_login(person("eo", Role.EVALUATION_OFFICE))
    html = client.get(reverse("web:regions")).content.decode()
    assert count_in(html, "Thematic") == 2 and count_in(html, "Very good") == 3


def test_the_lists_filter_by_type_and_quality_and_refuse_unknown_values(client):
    office = make_office()
    good = typed(office, "Good joint evaluation", "joint", rating="good")
    fair = typed(office, "Fair thematic evaluation", "thematic", rating="fair")
    make_action(make_recommendation(good), text="Action of the good joint one")
    make_action(make_recommendation(fair), text="Action of the fair thematic one")

    def titles(query):
        return {t for t in ("Good joint evaluation", "Fair thematic evaluation") if t in client.get("/evaluations/" + query).content.decode()}

    assert titles("?type=joint") == {"Good joint evaluation"}
    assert titles("?quality=fair") == {"Fair thematic evaluation"}
    assert titles("?type=joint&quality=fair") == set()
    # A value the filter cannot have is answered 400, naming the parameter (never a silently empty list).
    refused = client.get("/evaluations/?type=<script>")
    assert refused.status_code == 400 and "type" in refused.content.decode()
    actions = client.get("/actions/?quality=good").content.decode()
    assert "Action of the good joint one" in actions and "Action of the fair thematic one" not in actions
    exported = b"".join(client.get("/export/key-actions.csv?type=thematic").streaming_content).decode()
    assert "Action of the fair thematic one" in exported and "Action of the good joint one" not in exported


def test_the_evaluation_office_rates_a_report_and_the_rating_is_recorded_and_shown(client):
    office, other = make_office("Office R"), make_office("Office S")
    ev = make_evaluation(office, title="Rated evaluation")
    eo = person("eo-r", Role.EVALUATION_OFFICE, office=office)
    client.force_login(eo)
    page = client.get(ev.get_absolute_url()).content.decode()
    assert 'name="quality"' in page and "Not rated" in page

    response = client.post(reverse("web:evaluation_quality", args=[ev.pk]), {"quality": "very_good"})
    assert response.status_code == 302
    ev.refresh_from_db()
    assert ev.quality == "very_good"
    record = ChangeRecord.objects.filter(object_id=ev.pk, action="update").latest("pk")
    assert record.user_id == eo.pk and record.before == {"quality": ""} and record.after == {"quality": "very_good"}
    assert "Very good" in client.get(ev.get_absolute_url()).content.decode()

    # A rating not on the scale: refused with a message, nothing changed.
    response = client.post(reverse("web:evaluation_quality", args=[ev.pk]), {"quality": "excellent"}, follow=True)
    assert "Not a quality rating" in response.content.decode()
    ev.refresh_from_db()
    assert ev.quality == "very_good"

    # Another office's evaluation office, and a focal point, may not rate it.
    with pytest.raises(PermissionDenied):
        quality.rate_report(Actor(user=person("eo-s", Role.EVALUATION_OFFICE, office=other)), ev, "fair")
    with pytest.raises(PermissionDenied):
        quality.rate_report(Actor(user=person("fp-r", Role.OFFICE_FOCAL_POINT, office=office)), ev, "fair")
    with pytest.raises(ValidationError):
        quality.rate_report(Actor(user=eo), ev, "\x00")
    ev.refresh_from_db()
    assert ev.quality == "very_good"
    # The public sees the rating but no form to change it.
    client.logout()
    page = client.get(ev.get_absolute_url()).content.decode()
    assert "Very good" in page and 'name="quality"' not in page
