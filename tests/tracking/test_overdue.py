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
