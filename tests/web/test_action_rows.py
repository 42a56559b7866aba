"""The key-action list and my actions write their rows in Python (web/action_rows.py, for speed): what they write is,
byte for byte, what the templates wrote for the same action (the rows below, as the pages had them, through the
shared include web/includes/action_cells.html that the workspace still uses), for every kind of row: each status,
verification state, overdue or not, no deadline, no responsible, long texts cut, an untitled evaluation, and user
text with <, &, quotes and combining accents escaped. And the pages, read through `restrict`, show those rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.template import engines
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking import queries
from tracking.models import KeyAction, Role, RoleAssignment, Unit
from tracking.models.responses import today
from web.action_rows import action_list_rows, my_action_rows, status_cell

pytestmark = pytest.mark.django_db
User = get_user_model()

# The rows as the page templates wrote them before (web/action_list_body.html, web/my_actions_body.html).
LIST_ROW = """{% load followthrough %}
    <tr{% if a|is_overdue:today %} class="overdue"{% endif %}>
      <td><a href="{{ a.evaluation.get_absolute_url }}#recommendation-{{ a.recommendation_id }}">{{ a.evaluation|truncatechars:70 }}</a><br><span class="small muted">{{ a.evaluation.office.name }}</span></td>
      <td><a href="{% url 'web:action' a.pk %}">{{ a.code }}</a></td>
      <td>{{ a.text|truncatechars:220 }}</td>
      <td>{{ a.responsible|default:"—"|truncatechars:120 }}</td>
      <td>{{ a.deadline_label|default:"—" }}</td>
      {% include "web/includes/action_cells.html" %}
    </tr>
  """
MY_ROW = """{% load followthrough %}
    <tr id="key-action-{{ a.pk }}"{% if a|is_overdue:today %} class="overdue"{% endif %}>
      <td><a href="{% url 'web:action' a.pk %}">{{ a|action_name:60 }}</a> {{ a.text|truncatechars:160 }}</td>
      <td data-label="Evaluation"><a href="{{ a.evaluation.get_absolute_url }}">{{ a.evaluation|truncatechars:60 }}</a><br><span class="small muted">{{ a.evaluation.office.name }}</span></td>
      <td data-label="Responsible">{{ a.responsible|truncatechars:80 }}</td>
      <td data-label="Deadline">{{ a.deadline_label|default:"—" }}</td>
      {% include "web/includes/action_cells.html" %}
      <td><a href="{% url 'web:action_update' a.pk %}" hx-get="{% url 'web:action_update' a.pk %}" hx-target="#panel-{{ a.pk }}">Update</a><div id="panel-{{ a.pk }}" class="panel" aria-live="polite"></div></td>
    </tr>
  """
NASTY = 'Fish & <chips> "quoted" it\'s'
LONG = "A long key action, with <tags> & \"quotes\". " * 12  # past 220 characters
ACCENTED = "Re\u0301sume\u0301 " * 30  # combining accents: truncatechars counts and normalizes them


def _reference(source: str, a: KeyAction, on) -> str:
    # The code the pages run ({{ row }} in a {% for %}) sits between the same "\n    " and "\n  " the old loop had.
    return "\n    " + engines["django"].from_string(source).render({"a": a, "today": on}).split("\n    ", 1)[1].removesuffix("\n  ")


@pytest.fixture
def world():
    office = make_office(NASTY)
    unit = Unit.objects.create(office=office, name="Unit R")
    ev = make_evaluation(office, title="An evaluation whose title runs past the seventy characters a row shows <b>&amp;</b>")
    untitled = make_evaluation(make_office("Office U"))
    untitled.title = ""
    untitled.save()
    rec = make_recommendation(ev)
    old, soon = dt.date(2001, 5, 1), dt.date(2030, 1, 1)
    kinds = [
        {"status": "Initiated", "deadline": old, "text": LONG, "responsible": LONG},  # overdue, long texts
        {"status": "Not Initiated", "deadline": old, "text": NASTY, "responsible": NASTY},
        {"status": "Completed", "deadline": old, "verification": "awaiting"},  # past, but completed: not overdue
        {"status": "Completed", "deadline": None, "verification": "verified", "responsible": ""},
        {"status": "Initiated", "deadline": soon, "verification": "sent_back", "text": ACCENTED},
        {"status": "No Longer Applicable", "deadline": old},
        {"status": "Initiated", "deadline": soon, "archived_at": timezone.now(), "number": "1.a.", "text": "<script>x</script>"},
        {"status": "Odd <status>", "deadline": soon},  # a status outside the choices (written behind the service's back)
        # At the limits: exactly as long as a cell shows, one more, and combining marks that do not count.
        {"status": "Initiated", "deadline": soon, "text": "b" * 220, "responsible": "c" * 121},
        {"status": "Initiated", "deadline": soon, "text": "x\u0301" * 150, "responsible": "a" * 120},
        {"status": "Initiated", "deadline": soon, "text": "d" * 160, "responsible": "e" * 80},
    ]
    actions = [make_action(rec, units=[unit], **kind) for kind in kinds]
    actions.append(make_action(make_recommendation(untitled), deadline=None, status="Initiated", units=[unit]))
    focal = User.objects.create(username="focal.r")
    RoleAssignment.objects.create(user=focal, role=Role.UNIT_FOCAL_POINT, unit=unit)
    return actions, focal


def _read(actions) -> list[KeyAction]:
    """As the pages read them (queries.action_list: select_related and prefetches)."""
    by_id = queries.action_list(KeyAction.objects.filter(pk__in=[a.pk for a in actions])).in_bulk()
    return [by_id[a.pk] for a in actions]


def test_each_row_writes_what_the_templates_wrote(world):
    actions, _ = world
    on = today()
    read = _read(actions)
    for a, row in zip(read, action_list_rows(read, on), strict=True):
        assert "\n    " + row == _reference(LIST_ROW, a, on), a
    for a, row in zip(read, my_action_rows(read, on), strict=True):
        assert "\n    " + row == _reference(MY_ROW, a, on), a
    for a in read:
        cell = engines["django"].from_string('{% include "web/includes/action_cells.html" %}').render({"a": a, "today": on})
        assert status_cell(a, a.is_overdue(on)) == cell, a
    # What the fixture is for: each kind of row is there, and user text escaped (never raw).
    html = "".join(action_list_rows(read, on) + my_action_rows(read, on))
    for text in ("Awaiting verification", "Verified", "Completion sent back", "Overdue", 'class="overdue"', "—", "…",
                 "Fish &amp; &lt;chips&gt; &quot;quoted&quot; it&#x27;s", "&lt;script&gt;", "(untitled evaluation, Office U"):
        assert text in html, text
    assert "<script>" not in html and "<chips>" not in html and "<b>" not in html


def test_the_pages_show_those_rows(world, no_page_cache):
    actions, focal = world
    on = today()
    read = _read(actions)
    client = Client()
    listed = client.get(reverse("web:actions")).content.decode()
    shown = [a for a in read if f'href="{reverse("web:action", args=[a.pk])}"' in listed]
    assert shown, "the public reads the approved evaluations' key actions"
    for a in shown:
        assert _reference(LIST_ROW, a, on) in listed, a
    client.force_login(focal)
    mine = client.get(reverse("web:my_actions")).content.decode()
    for a in read:
        assert _reference(MY_ROW, a, on) in mine, a
    assert "No key action" not in mine
    empty = client.get(reverse("web:actions") + "?q=nothing-matches-this").content.decode()
    assert '<tr><td colspan="6">No key action matches.</td></tr>' in empty


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_truncated_writes_what_truncatechars_writes_for_every_length(language):
    from django.template.defaultfilters import truncatechars
    from django.utils import translation

    from web.templatetags.followthrough import truncated

    texts = ["", "a", "Plan the workshop", "x" * 300, "Re\u0301sume\u0301 " * 12, "Évaluation des données ventilées " * 4,
             "ends with an ellipsis…", "tab\tand\nnewline " * 10]
    with translation.override(language):
        for text in texts:
            for length in (-1, 0, 1, 2, 3, 10, 17, 18, 60, len(text) - 1, len(text), len(text) + 1):
                assert truncated(text, length) == truncatechars(text, length), (text, length)


@pytest.mark.parametrize("query", ["", "?status=Initiated", "?year=2024", "?overdue=1"])
def test_the_list_walked_or_sorted_shows_the_same_rows_in_the_same_order(world, no_page_cache, monkeypatch, query):
    """Past the count's cap the key-action list walks the deadline index (approval tested per row), below it sorts
    (`queries.seek`): the rows and their order are the same. The cap is reached here by saying it was."""
    import re

    from web.views import portal

    actions, focal = world
    client = Client()
    client.force_login(focal)

    def rows() -> list[str]:
        html = client.get(reverse("web:actions") + query).content.decode()
        return re.findall(r'<td><a href="(/actions/\d+/)">', html)

    sorted_rows = rows()
    real = portal.capped_count
    monkeypatch.setattr(portal, "capped_count", lambda qs, limit=portal.COUNT_LIMIT: (real(qs, limit)[0], True))
    assert sorted_rows and rows() == sorted_rows
    if query in ("", "?status=Initiated"):
        assert len(sorted_rows) > 3
