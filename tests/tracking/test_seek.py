"""Keyset pages of key actions (`queries.seek`): by deadline, undated last, then id; every action once."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from tests.tracking.factories import make_action, make_office, make_recommendation
from tracking import queries
from tracking.models import KeyAction, Unit

pytestmark = pytest.mark.django_db


def _walk(qs, size: int, walk: bool = True) -> list[int]:
    """Every page's ids, following the cursors from the first page (`walk`: in the deadline index, else sorted)."""
    out, after = [], None
    for _ in range(100):
        rows, after = queries.seek(qs, after, size, walk=walk)
        out += [r.pk for r in rows]
        if after is None:
            return out
    raise AssertionError("the cursors do not end")


@pytest.fixture
def actions():
    rng = random.Random(7)
    recommendation = make_recommendation()
    days = [dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2026, 6, 30), None]
    # Several actions share each deadline, the undated ones among them: ties broken by id across pages.
    return [make_action(recommendation, deadline=rng.choice(days), status=rng.choice(["Initiated", "Completed"])) for _ in range(23)]


@pytest.mark.parametrize("walk", [True, False], ids=["walked", "sorted"])
@pytest.mark.parametrize("size", [1, 2, 5, 7, 23, 50])
def test_pages_follow_deadline_undated_last_then_id(actions, size, walk):
    expected = list(KeyAction.objects.order_by(F("deadline").asc(nulls_last=True), "pk").values_list("pk", flat=True))
    assert _walk(KeyAction.objects.all(), size, walk) == expected
    assert len(expected) == 23


@pytest.mark.parametrize("walk", [True, False], ids=["walked", "sorted"])
def test_pages_of_a_filtered_list(actions, walk):
    qs = KeyAction.objects.filter(status="Initiated")
    expected = list(qs.order_by(F("deadline").asc(nulls_last=True), "pk").values_list("pk", flat=True))
    assert expected and _walk(qs, 3, walk) == expected


def test_a_sorted_page_is_ordered_by_no_index(actions):
    """Sorted, the ORDER BY is not the deadline column itself: no index offers its order to walk (see `seek`)."""
    for walk in (True, False):
        with CaptureQueriesContext(connection) as q:
            queries.seek(KeyAction.objects.filter(status="Initiated"), None, 5, walk=walk)
        order = q.captured_queries[0]["sql"].rsplit("ORDER BY", 1)[1]
        assert ("COALESCE" in order.upper()) != walk, order


def test_a_page_ending_among_the_undated_goes_on_among_them():
    recommendation = make_recommendation()
    dated = make_action(recommendation, deadline=dt.date(2025, 3, 1))
    undated = [make_action(recommendation, deadline=None) for _ in range(3)]
    first, cursor = queries.seek(KeyAction.objects.all(), None, 2)
    assert [r.pk for r in first] == [dated.pk, undated[0].pk] and cursor == f"none_{undated[0].pk}"
    second, cursor = queries.seek(KeyAction.objects.all(), cursor, 2)
    assert [r.pk for r in second] == [undated[1].pk, undated[2].pk] and cursor is None


@pytest.mark.parametrize("after", ["nonsense", "2025-13-01_4", "none_x", ""])
def test_a_cursor_that_is_not_one_gives_the_first_page(actions, after):
    assert queries.seek(KeyAction.objects.all(), after, 5) == queries.seek(KeyAction.objects.all(), None, 5)


@pytest.mark.parametrize("after", [None, "2025-01-01_1", "none_1"])
def test_nothing_to_read_is_an_empty_page(actions, after):
    assert queries.seek(KeyAction.objects.none(), after, 5) == ([], None)
    assert queries.seek(KeyAction.objects.filter(pk__in=[]), after, 5) == ([], None)


def test_a_page_is_read_whole_by_its_ids_alone_with_what_it_shows(actions):
    """The ids are chosen through the list's filters; the rows, by those ids only (SQLite read them through the
    widest filter), with the list's joined records and annotations, in the page's order."""
    qs = queries.action_list(KeyAction.objects.filter(status="Initiated")).annotate(twice=F("pk") * 2)
    expected = list(qs.order_by(F("deadline").asc(nulls_last=True), "pk").values_list("pk", flat=True))[:4]
    with CaptureQueriesContext(connection) as ctx:
        rows, _ = queries.seek(qs, None, 4)
        # What the rows show is selected with them: no query.
        assert all(r.evaluation.office.name and r.recommendation.number and str(r.evaluation) for r in rows)
    assert [r.pk for r in rows] == expected
    assert [r.twice for r in rows] == [2 * pk for pk in expected]
    ids_sql, whole_sql = (q["sql"] for q in ctx.captured_queries)
    # (The status as a column, not a value: PostgreSQL's statements carry their values apart.)
    assert '"status" =' in ids_sql.split(" WHERE ")[1] and '"status" =' not in whole_sql.split(" WHERE ")[1]


def test_a_row_gone_between_its_id_and_its_reading_is_left_out(actions):
    """Deleted by another request in between: the page is one row short, not an error."""
    gone = actions[0]
    qs = KeyAction.objects.all()
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    KeyAction.objects.filter(pk=gone.pk).delete()
    assert [r.pk for r in queries._whole(qs, ids)] == [pk for pk in ids if pk != gone.pk]


def test_nothing_readable_is_read_whole_whatever_the_ids(actions):
    """Deny by default is in the WHERE too: ids from elsewhere never come back through an empty queryset."""
    assert queries._whole(KeyAction.objects.none(), [a.pk for a in actions]) == []


def test_a_list_joined_to_many_keeps_its_filters_for_its_rows(actions):
    """A filter across a join to many (units) stays: left without its conditions, the join would bring back the
    rows of every unit."""
    office = make_office("Seek office")
    mine, other = (Unit.objects.create(office=office, name=name) for name in ("Mine", "Other"))
    for i, action in enumerate(actions):
        action.units.add(mine if i % 2 else other)
    qs = KeyAction.objects.filter(units__name="Mine")
    assert [r.pk for r in queries._whole(qs, [a.pk for a in actions])] == [a.pk for i, a in enumerate(actions) if i % 2]
