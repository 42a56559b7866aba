"""My key actions: how many, page by page, filtered; the unfiltered count is the one the page's version made."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.tracking.factories import make_action, make_recommendation
from tracking.models import Role, RoleAssignment, Unit

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def person(client, no_page_cache):
    rec = make_recommendation()
    unit = Unit.objects.create(name="Programme unit", office=rec.evaluation.office)
    other = Unit.objects.create(name="Another unit", office=rec.evaluation.office)
    for i in range(53):
        make_action(rec, deadline=dt.date(2025, 1 + i % 12, 1), status="Completed" if i % 4 == 0 else "Initiated", units=[unit])
    make_action(rec, units=[other])  # not theirs
    make_action(rec, units=[unit, other])  # theirs through one of two units: counted once
    person = User.objects.create_user("unit.fp", password="pw-unit-123456")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=unit)
    client.force_login(person)
    return unit


def _count(html: str) -> int:
    return int(re.search(r"([\d,]+) key actions?: overdue first", html).group(1).replace(",", ""))


def _rows(html: str) -> int:
    return len(re.findall(r'href="/actions/\d+/"', html))


def test_the_count_and_pages_of_all_my_actions(client, person):
    url = reverse("web:my_actions")
    first = client.get(url).content.decode()
    assert _count(first) == 54 and "Page 1 of 2" in first
    second = client.get(url + "?page=2").content.decode()
    assert _count(second) == 54 and _rows(second) == len(set(re.findall(r'href="/actions/(\d+)/"', second))) == 4


@pytest.mark.parametrize("query,expected", [("status=Completed", 14), ("status=Initiated", 40), ("q=nothing+like+this", 0)])
def test_a_filtered_list_counts_what_it_shows(client, person, query, expected):
    html = client.get(reverse("web:my_actions") + "?" + query).content.decode()
    assert _count(html) == expected


def test_an_action_assigned_later_is_counted(client, person):
    url = reverse("web:my_actions")
    assert _count(client.get(url).content.decode()) == 54
    make_action(make_recommendation(person.office.evaluations.first()), units=[person])
    assert _count(client.get(url).content.decode()) == 55
