"""Overdue is derived: the deadline month has passed and the action is neither Completed nor No Longer Applicable."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.tracking.factories import make_action
from tracking.models import KeyAction

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    "deadline,status,overdue",
    [
        (dt.date(2026, 10, 1), "Initiated", True),  # last month, open
        (dt.date(2026, 11, 1), "Initiated", False),  # this month: not yet
        (dt.date(2026, 12, 1), "Not Initiated", False),  # next month
        (dt.date(2019, 1, 1), "Not Initiated", True),
        (dt.date(2019, 1, 1), "Completed", False),
        (dt.date(2019, 1, 1), "No Longer Applicable", False),
        (dt.date(2019, 1, 1), "Ongoing", True),  # older pages' statuses count as open
        (None, "Initiated", False),  # no deadline, never overdue
    ],
)
def test_overdue_on_the_object_and_in_the_database_agree(deadline, status, overdue):
    action = make_action(deadline=deadline, status=status)
    assert action.is_overdue(TODAY) is overdue
    assert KeyAction.objects.overdue(TODAY).filter(pk=action.pk).exists() is overdue
    flagged = KeyAction.objects.with_overdue(TODAY).get(pk=action.pk).is_overdue_flag
    assert flagged is overdue


def test_open_excludes_closed_statuses():
    open_one = make_action(status="Initiated")
    make_action(status="Completed")
    make_action(status="No Longer Applicable")
    assert list(KeyAction.objects.open()) == [open_one]


def test_every_count_of_overdue_follows_the_one_rule():
    """The figures, the evaluation lists' counts and "my actions" order all call `overdue_q`: the same actions."""
    from reports import figures
    from tests.tracking.factories import make_evaluation, make_recommendation
    from tracking import queries
    from tracking.models import Evaluation
    from tracking.models.responses import is_overdue, overdue_q

    rec = make_recommendation(make_evaluation())
    cases = [
        (dt.date(2026, 10, 1), "Initiated"), (dt.date(2026, 11, 1), "Initiated"), (dt.date(2019, 1, 1), "Completed"),
        (dt.date(2019, 1, 1), "No Longer Applicable"), (dt.date(2019, 1, 1), "Ongoing"), (None, "Not Initiated"),
        (dt.date(2020, 5, 1), "Not Initiated"),
    ]
    actions = [make_action(rec, deadline=d, status=s) for d, s in cases]
    expected = {a.pk for a in actions if is_overdue(a.deadline, a.status, TODAY)}
    assert len(expected) == 3
    assert set(KeyAction.objects.filter(overdue_q(TODAY)).values_list("pk", flat=True)) == expected
    assert figures.totals(KeyAction.objects.all(), TODAY).overdue == 3
    assert queries.with_counts(Evaluation.objects.filter(pk=rec.evaluation_id), TODAY).get().n_overdue == 3
    assert queries.status_figures(KeyAction.objects.all(), TODAY)["overdue"] == 3
    first = list(KeyAction.objects.with_overdue(TODAY).order_by("-is_overdue_flag", "pk").values_list("pk", flat=True))[:3]
    assert set(first) == expected
