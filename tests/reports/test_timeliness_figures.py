"""Timeliness against the first deadline, against a hand-built data set (both databases)."""

from __future__ import annotations

import datetime as dt

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

pytestmark = pytest.mark.django_db

ON = dt.date(2025, 6, 15)


def action(rec, deadline, status="Initiated", first=None, completed_on=None):
    a = make_action(rec, deadline=deadline, status=status)
    change_action(a, first_deadline=first, completed_on=completed_on)
    return KeyAction.objects.get(pk=a.pk)


def _world():
    rec = make_recommendation(make_evaluation(make_office("Kenya")))
    made = {
        # Completed: days late from the end of the first deadline's month.
        "on_time": action(rec, dt.date(2024, 1, 1), "Completed", completed_on=dt.date(2024, 1, 31)),
        "late_39": action(rec, dt.date(2024, 6, 1), "Completed", first=dt.date(2024, 1, 1), completed_on=dt.date(2024, 3, 10)),
        "late_32": action(rec, dt.date(2024, 2, 1), "Completed", completed_on=dt.date(2024, 4, 1)),
        "undated": action(rec, dt.date(2020, 1, 1), "Completed"),
        # Open, late against the first deadline: days since the end of its month.
        "age_15": action(rec, dt.date(2025, 5, 1)),
        "age_76_hidden": action(rec, dt.date(2025, 12, 1), first=dt.date(2025, 3, 1)),
        "age_166": action(rec, dt.date(2025, 1, 1), first=dt.date(2024, 12, 1)),
        "age_350": action(rec, dt.date(2024, 6, 1), "Not Initiated"),
        "due_this_month": action(rec, dt.date(2025, 6, 1)),
        "no_deadline": action(rec, None),
        "nla": action(rec, dt.date(2020, 1, 1), "No Longer Applicable"),
    }
    return made


def test_days_late_and_ageing_against_the_first_deadline():
    made = _world()
    t = figures.totals(KeyAction.objects.all(), ON)
    assert (t.completed_dated, t.completed_late, t.days_late_avg, t.days_late_max) == (3, 2, 35.5, 39)
    assert t.completed_late_share == 2 / 3
    assert t.ageing == {"up to 30 days": 1, "31-90 days": 1, "91-180 days": 1, "over 180 days": 1}
    assert (t.late_against_first, t.overdue_hidden) == (4, 1)
    assert t.overdue == 3  # against the revised deadlines: the hidden one is not overdue
    # The database and the action's page agree, action by action.
    assert [made[k].days_late for k in ("on_time", "late_39", "late_32", "undated", "age_15")] == [0, 39, 32, None, None]


@pytest.mark.parametrize(
    "on,first,bucket",
    [
        (dt.date(2025, 4, 30), dt.date(2025, 3, 1), "up to 30 days"),  # 30 days after 31 March
        (dt.date(2025, 5, 1), dt.date(2025, 3, 1), "31-90 days"),  # 31 days
        (dt.date(2025, 6, 29), dt.date(2025, 3, 1), "31-90 days"),  # 90 days
        (dt.date(2025, 6, 30), dt.date(2025, 3, 1), "91-180 days"),  # 91 days
        (dt.date(2025, 9, 27), dt.date(2025, 3, 1), "91-180 days"),  # 180 days
        (dt.date(2025, 9, 28), dt.date(2025, 3, 1), "over 180 days"),  # 181 days
        (dt.date(2025, 4, 1), dt.date(2025, 3, 1), "up to 30 days"),  # the day after the month
    ],
)
def test_each_age_bucket_at_its_edges(on, first, bucket):
    rec = make_recommendation(make_evaluation(make_office("Rwanda")))
    action(rec, dt.date(2030, 1, 1), first=first)
    t = figures.totals(KeyAction.objects.all(), on)
    assert {k for k, n in t.ageing.items() if n} == {bucket}
    assert t.overdue_hidden == 1


def test_not_late_on_the_last_day_of_the_first_deadline_month():
    rec = make_recommendation(make_evaluation(make_office("Uganda")))
    action(rec, dt.date(2025, 3, 1))
    assert figures.totals(KeyAction.objects.all(), dt.date(2025, 3, 31)).late_against_first == 0


def test_the_breakdowns_count_the_same(client):
    _world()
    (row,) = figures.breakdown(KeyAction.objects.all(), "office", ON)
    assert (row.completed_late, row.days_late_max, row.overdue_hidden) == (2, 39, 1)


def test_the_dashboard_shows_them_with_their_definitions(client):
    _world()
    html = client.get(reverse("web:dashboard")).content.decode()
    assert "Against the first deadline</h2>" in html
    assert '<span class="value">2</span> completed late' in html
    assert "hidden by a revised deadline" in html and "<strong>first deadline</strong>" in html


def test_a_first_deadline_within_its_month_counts_from_the_end_of_that_month():
    """Deadlines are stored as their month's first day; a date later in the month (written by hand) still ends with
    its month: the database, the action's page and the kept counts agree."""
    from tracking import queries
    from tracking.permissions import EVERYTHING

    rec = make_recommendation(make_evaluation(make_office("Kenya")))
    late = action(rec, dt.date(2024, 3, 1), "Completed", first=dt.date(2024, 1, 15), completed_on=dt.date(2024, 2, 10))
    early = action(rec, dt.date(2024, 3, 1), "Completed", first=dt.date(2024, 1, 31), completed_on=dt.date(2024, 1, 31))
    assert (late.days_late, early.days_late) == (10, 0)
    rows = figures.totals(KeyAction.objects.all(), ON)
    assert (rows.completed_dated, rows.completed_late, rows.days_late_max) == (2, 1, 10)
    kept = figures.Source.of(EVERYTHING, queries.Filters(), KeyAction.objects.all())
    assert kept.tallied
    assert (kept.totals(ON).completed_late, kept.totals(ON).days_late_max) == (1, 10)
    assert kept.accountability().lateness(2024) == figures.days_late(KeyAction.objects.all())
