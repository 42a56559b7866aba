"""Verified and self-reported completion apart, against a hand-built data set (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from reports import figures
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import KeyAction, Role, RoleAssignment
from tracking.services import tallies

pytestmark = pytest.mark.django_db

ON = dt.date(2025, 6, 15)
DUE = dt.date(2024, 1, 1)
LATER = dt.date(2030, 1, 1)


def action(rec, deadline, status, verification=""):
    a = make_action(rec, deadline=deadline, status=status)
    KeyAction.objects.filter(pk=a.pk).update(verification=verification)
    return a


def _world():
    """Kenya: six actions, one of each kind; Rwanda: one verified. Answers counted by hand below."""
    kenya = make_office("Kenya", "CO", region="East and Southern Africa")
    rwanda = make_office("Rwanda", "CO", region="East and Southern Africa")
    k = make_recommendation(make_evaluation(kenya, year=2024))
    action(k, DUE, "Completed", "verified")  # due, verified
    action(k, dt.date(2024, 3, 1), "Completed", "awaiting")  # due, self-reported (awaiting)
    action(k, dt.date(2024, 5, 1), "Completed")  # due, self-reported (imported, never verified)
    action(k, LATER, "Completed", "verified")  # verified, not due yet
    action(k, DUE, "Initiated", "sent_back")  # due, overdue: its completion was sent back
    action(k, DUE, "No Longer Applicable")  # counted nowhere
    action(make_recommendation(make_evaluation(rwanda, year=2024)), DUE, "Completed", "verified")
    # A draft's verified action: the public never counts it.
    action(make_recommendation(make_evaluation(kenya, status="Draft", year=2024)), DUE, "Completed", "verified")
    # The verification states were set behind the services' back (SQL, as by hand): the kept counts made again.
    tallies.rebuild()
    return kenya, rwanda


def test_totals_count_verified_and_self_reported_completion_apart():
    _world()
    approved = KeyAction.objects.filter(evaluation__management_response__status="Approved")
    t = figures.totals(approved, ON)
    assert (t.total, t.completed, t.completed_verified, t.completed_self_reported) == (7, 5, 3, 2)
    assert (t.due, t.completed_due, t.completed_due_verified) == (5, 4, 2)
    assert (t.rate_due, t.rate_due_verified) == (4 / 5, 2 / 5)
    assert t.overdue == 1


def test_each_breakdown_row_counts_its_own_verified_completions():
    kenya, rwanda = _world()
    approved = KeyAction.objects.filter(evaluation__management_response__status="Approved")
    rows = {f.key: f for f in figures.breakdown(approved, "office", ON)}
    assert (rows[kenya.pk].completed, rows[kenya.pk].completed_verified, rows[kenya.pk].completed_due_verified) == (4, 2, 1)
    assert (rows[rwanda.pk].completed, rows[rwanda.pk].completed_verified, rows[rwanda.pk].rate_due_verified) == (1, 1, 1.0)


def test_nothing_verified_gives_zero_not_a_missing_figure():
    t = figures.totals(KeyAction.objects.none(), ON)
    assert (t.completed_verified, t.completed_due_verified, t.rate_due_verified) == (0, 0, None)


def test_the_dashboard_shows_both_with_their_definition(client):
    _world()
    page = client.get(reverse("web:dashboard"))
    total = page.context["total"]
    assert (total.completed, total.completed_verified) == (5, 3)  # the public: approved responses only
    html = page.content.decode()
    assert "<strong>Verified</strong> completion" in html and "<strong>self-reported</strong>" in html
    assert '<span class="value">3</span> completions verified' in html
    assert "(2 self-reported, not verified)" in html
    assert "of which verified</th>" in html


def test_the_internal_dashboard_counts_the_drafts_in_scope_too(client):
    _world()
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    total = client.get(reverse("web:dashboard")).context["total"]
    assert (total.completed, total.completed_verified) == (6, 4)


def test_the_annual_report_gives_the_verified_rate_beside_the_rate(client):
    _world()
    html = client.get(reverse("web:annual_report"), {"year": 2024}).content.decode()
    # Due by the end of 2024: Kenya's five, Rwanda's one; completed 4, verified 2.
    assert "verified implementation rate (due)" in html
    assert "(2 of the 4 completed were verified; the rest are self-reported)" in html
