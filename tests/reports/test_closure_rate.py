"""The closure rate: actions closed in a year ÷ actions due in it, against a hand-built set (both databases)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from reports import figures
from tests.tracking.factories import (
    change_action,
    make_action,
    make_evaluation,
    make_office,
    make_recommendation,
)
from tracking.models import KeyAction
from tracking.models.responses import today

pytestmark = pytest.mark.django_db


def action(rec, deadline, status="Initiated", first=None, completed_on=None, verification=""):
    a = make_action(rec, deadline=deadline, status=status)
    change_action(a, first_deadline=first, completed_on=completed_on, verification=verification)
    return a


def _world(year: int):
    rec = make_recommendation(make_evaluation(make_office("Kenya")))
    d = lambda m, y=year: dt.date(y, m, 1)  # noqa: E731
    # Due in the year (first deadline in it): five.
    action(rec, d(3), "Completed", completed_on=dt.date(year, 2, 10), verification="verified")  # due and closed
    action(rec, d(6), "Completed", completed_on=dt.date(year, 8, 1))  # due and closed, late
    action(rec, d(9))  # due, open
    action(rec, d(2, year + 1), first=d(11))  # due (first deadline), moved to next year: still due this year
    action(rec, d(12), "Completed")  # due, completed on a day nobody recorded: not counted as closed
    # Not due in the year.
    action(rec, d(5), "No Longer Applicable")
    action(rec, d(5, year + 1), first=d(5, year + 1))
    action(rec, d(6, year - 1), first=d(6, year - 1))
    # Closed in the year though due earlier (a backlog cleared), and closed the year before.
    action(rec, d(10, year - 1), "Completed", completed_on=dt.date(year, 1, 5), verification="verified")
    action(rec, d(1), "Completed", completed_on=dt.date(year - 1, 12, 31))  # due in the year, closed before it
    return rec


def test_closed_in_the_year_over_due_in_the_year():
    _world(2025)
    c = figures.closure(KeyAction.objects.all(), 2025)
    assert (c.closed, c.closed_verified, c.due) == (3, 2, 6)
    assert (c.rate, c.rate_verified) == (3 / 6, 2 / 6)
    c24 = figures.closure(KeyAction.objects.all(), 2024)
    assert (c24.closed, c24.due) == (1, 2)  # closed on 31 December 2024; due in 2024: the June one and the backlog


def test_a_backlog_cleared_passes_100_percent_and_nothing_due_is_no_rate():
    rec = make_recommendation(make_evaluation(make_office("Rwanda")))
    for m in (1, 2):
        action(rec, dt.date(2020, m, 1), "Completed", completed_on=dt.date(2025, 3, m))
    action(rec, dt.date(2025, 4, 1))
    c = figures.closure(KeyAction.objects.all(), 2025)
    assert (c.closed, c.due, c.rate) == (2, 1, 2.0)
    assert figures.closure(KeyAction.objects.all(), 2019).rate is None


def test_the_dashboard_heads_with_it_beside_the_implementation_rate(client):
    year = today().year
    _world(year)
    page = client.get(reverse("web:dashboard"))
    assert (page.context["closure"].closed, page.context["closure"].due) == (3, 6)
    html = page.content.decode()
    figures_list = html.split("<h2>All key actions in scope</h2>")[1]
    first, second = re.findall(r"<li[^>]*>(.*?)</li>", figures_list, re.S)[:2]
    assert f"50%</span> closure rate {year}" in first and "3 closed in" in first
    assert "implementation rate (due" in second
    assert f"<strong>Closure rate {year}</strong> = key actions marked Completed in {year}" in html


def test_the_annual_report_gives_the_closure_rate_of_its_year(client):
    _world(2025)
    html = client.get(reverse("web:annual_report"), {"year": 2025}).content.decode()
    assert "50%</span> closure rate 2025" in html and "(3 closed ÷ 6 due in 2025)" in html
    assert "<em>Closure rate 2025</em>" in html
