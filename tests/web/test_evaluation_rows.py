"""The evaluation page writes each key action's row itself (web/views/portal.py evaluation_body_html and
web/action_rows.py evaluation_row, for speed): byte for byte what its template's loop wrote, and what the shared includes write for the same action (the key action page and the lists use them),
for every kind of row: statuses, verification, overdue, archived, outcomes, long comments, and a timeline with
status changes, imports, reopening and evidence, public and internal."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import engines
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import (
    ActionUpdate,
    OutcomeQuestion,
    RecommendationTerm,
    Role,
    RoleAssignment,
    Term,
    Unit,
)
from tracking.models.responses import today
from web import action_rows

pytestmark = pytest.mark.django_db
User = get_user_model()
LONG = "A long comment. " * 40  # past the 400 characters that fold a text behind "Show more"


def _flat(html: str) -> str:
    """Whitespace aside: the body and the includes indent differently."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    office = make_office("Office R")
    unit = Unit.objects.create(office=office, name="Unit R")
    ev = make_evaluation(office)
    rec = make_recommendation(ev, thematic_area_as_written="", response_text="We agree.", description="Why.")
    for position, (kind, name) in enumerate(
        [(Term.Kind.THEMATIC_AREA, "Area A"), (Term.Kind.UNEG_CRITERION, "Criterion R"), (Term.Kind.OPERATING_PRINCIPLE, "Principle P")]
    ):
        RecommendationTerm.objects.create(recommendation=rec, term=Term.objects.get_or_create(kind=kind, name=name)[0], position=position)
    other = make_recommendation(ev, category="Rejected", archived_at=timezone.now())  # no key action
    old = dt.date(2001, 5, 1)
    actions = [
        make_action(rec, deadline=old, status="Initiated", comments=LONG, responsible="The unit", units=[unit]),
        make_action(rec, deadline=old, status="Completed", verification="awaiting", comments="Short."),
        make_action(rec, deadline=None, status="Completed", verification="verified", archived_at=timezone.now()),
        make_action(rec, status="Initiated", verification="sent_back"),
        make_action(rec, status="Completed"),
        make_action(rec, status="Not Initiated", deadline=old),
        make_action(rec, status="No Longer Applicable", deadline=old),
    ]
    OutcomeQuestion.objects.create(key_action=actions[1], question="Did it?", ask_on=old, confirmed=True, answer="It did.")
    OutcomeQuestion.objects.create(key_action=actions[2], question="Did it?", ask_on=old, confirmed=False, answer="No " * 120)
    OutcomeQuestion.objects.create(key_action=actions[4], question="Did it?", ask_on=old)  # not answered: not shown
    author = User.objects.create(username="reporter.r")
    first = actions[0]
    rows = [
        {"status_before": "Not Initiated", "status_after": "Initiated", "comment": "Started.", "author_name": "reporter.r", "author": author},
        {"status_before": "Initiated", "status_after": "Initiated", "comment": LONG, "source": ActionUpdate.Source.IMPORT},
        {"status_before": "Completed", "status_after": "Initiated", "reopen_reason": "Not done after all.", "source": ActionUpdate.Source.API},
        {"status_after": "Completed", "evidence_url": "https://example.org/proof", "evidence_internal": True},
        {"status_after": "Completed", "evidence_url": "javascript:alert(1)"},
        {"status_after": "Completed", "evidence_file": SimpleUploadedFile("proof.pdf", b"%PDF-1.4"), "evidence_name": "Our proof.pdf"},
        {"status_after": "Completed", "evidence_file": SimpleUploadedFile("inside.pdf", b"%PDF-1.4"), "evidence_internal": True},
    ]
    start = timezone.make_aware(dt.datetime(2025, 1, 5, 9, 7))
    for i, fields in enumerate(rows):
        ActionUpdate.objects.create(key_action=first, created_at=start + dt.timedelta(days=40 * i), **fields)
    ActionUpdate.objects.create(key_action=actions[1], status_before="Initiated", status_after="Completed", created_at=start)
    viewer = User.objects.create(username="viewer.r")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    focal = User.objects.create(username="focal.r")
    RoleAssignment.objects.create(user=focal, role=Role.UNIT_FOCAL_POINT, unit=unit)
    return ev, rec, other, actions, viewer, focal


@pytest.mark.parametrize("reader", ["public", "viewer", "focal"])
def test_each_row_writes_what_the_shared_includes_write(world, reader, no_page_cache):
    ev, rec, other, actions, viewer, focal = world
    client = Client()
    user = {"public": None, "viewer": viewer, "focal": focal}[reader]
    if user:
        client.force_login(user)
    page = client.get(reverse("web:evaluation", args=[ev.pk])).content.decode()
    html = _flat(page)
    internal = user is not None
    on = today()
    for a in actions:
        a.refresh_from_db()
        row = {"a": a, "today": on}
        assert _flat(render_to_string("web/includes/status_badges.html", row)) in html, a
        assert (f'<tr id="key-action-{a.pk}" class="overdue">' in html) == a.is_overdue(on)
        outcome = _flat(render_to_string("web/includes/outcome_line.html", row))
        assert outcome in html
        if a.comments:
            assert _flat(render_to_string("web/includes/folded.html", {"text": a.comments, "small": True})) in html
        updates = list(a.updates.order_by("-created_at", "-id"))
        if updates:
            timeline = _flat(render_to_string("web/includes/timeline.html", {"updates": updates, "internal": internal}))
            assert timeline in html, a
            n = len(updates)
            assert f"<summary>Timeline ({n} update{'s' if n > 1 else ''})</summary>" in html
        assert f'<a href="{reverse("web:action", args=[a.pk])}">{a.code}</a>' in html
        # The progress form is offered to whom the service lets update: the focal point of the first action's unit.
        update_link = f'hx-get="{reverse("web:action_update", args=[a.pk])}"'
        assert (update_link in html) == (reader == "focal" and a == actions[0])
    # What the fixture is for: each kind of row is there.
    for text in ("Show more", "Awaiting verification", "Verified", "Completion sent back", "Outcome confirmed",
                 "Outcome not confirmed", "(import)", "(api)", "Reason for reopening", "Our proof.pdf", "→", "Archived"):
        assert text in html, text
    assert "Did it?" not in html and "javascript:alert" in html and 'href="javascript' not in html
    assert ("reporter.r" in html) == internal and ("https://example.org/proof" in html) == internal
    assert ("inside.pdf" in html) == internal
    assert "<dt>Thematic area</dt><dd><ul class=\"tags\"><li>Area A</li></ul></dd>" in html
    assert "<dt>UNEG criteria</dt><dd><ul class=\"tags\"><li>Criterion R</li></ul></dd>" in html
    assert "<dt>Operating principles</dt><dd><ul class=\"tags\"><li>Principle P</li></ul></dd>" in html
    assert "Organizational priorities" not in html
    assert f'href="{reverse("web:similar", args=[rec.pk])}"' in html and f'href="{reverse("web:similar", args=[other.pk])}"' in html
    assert "No key action added." in html


# The key-action rows as web/includes/evaluation_body.html wrote them before web/action_rows.py wrote them in Python.
TEMPLATE_ROWS = """{% load followthrough %}{% for a in rec.page_rows %}
        <tr id="key-action-{{ a.pk }}"{% if a.overdue %} class="overdue"{% endif %}>
          <td><a href="{{ a.url }}">{{ a.code }}</a>{% if a.archived %} <span class="badge plain" title="No longer on the imported page; kept with its progress">Archived</span>{% endif %}</td>
          <td>{{ a.text }}</td>
          <td>{{ a.responsible|default:"—" }}</td>
          <td>{{ a.deadline|default:"—" }}</td>
          <td>
<span id="status-{{ a.pk }}"><span class="badge {{ a.status_class }}">{{ a.status }}</span>{% if a.verification %} <span class="badge {{ a.verification.0 }}">{{ a.verification.1 }}</span>{% endif %}{% if a.overdue %} <span class="badge bad">Overdue</span>{% endif %}</span>
</td>
          <td>
            {% if a.comments %}{% if a.comments|length > 400 %}<details class="folded prose small"><summary><span class="preview">{{ a.comments|truncatechars:280 }}</span> <span class="show-more">Show more</span><span class="show-less">Show less</span></summary>{{ a.comments|linebreaksbr }}</details>{% else %}<p class="prose small">{{ a.comments }}</p>{% endif %}{% endif %}
            {% if a.updates %}
            <details class="small"><summary>Timeline ({{ a.updates|length }} update{{ a.updates|length|pluralize }})</summary>
              <ol class="timeline">
              {% for u in a.updates %}
              <li id="update-{{ u.pk }}">
                <time datetime="{{ u.iso }}">{{ u.when }}</time>
                {# Who reported is for the people inside; the public sees what was reported. #}
                {% if internal %}<span>{{ u.author|default:"—" }}</span>{% endif %}
                {% if u.before %}<span class="badge {{ u.before_class }}">{{ u.before }}</span> →{% endif %}
                <span class="badge {{ u.after_class }}">{{ u.after }}</span>
                {% if u.source %}<span class="muted small">({{ u.source }})</span>{% endif %}
                {% if u.comment %}{% if u.long %}<details class="folded prose"><summary><span class="preview">{{ u.comment|truncatechars:280 }}</span> <span class="show-more">Show more</span><span class="show-less">Show less</span></summary>{{ u.comment|linebreaksbr }}</details>{% else %}<p class="prose">{{ u.comment }}</p>{% endif %}{% endif %}
                {% if u.more %}
                {% if u.reopen_reason %}<p class="prose"><strong>Reason for reopening:</strong> {{ u.reopen_reason }}</p>{% endif %}
                {# Evidence marked internal is for the people inside (tracking.permissions, EVIDENCE). #}
                {% if u.evidence %}
                {% if u.evidence_url %}<p class="small">Evidence{% if u.evidence_internal %} (internal){% endif %}: {% with href=u.evidence_url|web_link %}{% if href %}<a href="{{ href }}" rel="noopener noreferrer">{{ u.evidence_url|truncatechars:80 }}</a>{% else %}{{ u.evidence_url|truncatechars:80 }}{% endif %}{% endwith %}</p>{% endif %}
                {% if u.evidence_file %}<p class="small">Evidence{% if u.evidence_internal %} (internal){% endif %}: <a href="{% url 'web:evidence' u.pk %}">{{ u.evidence_label|truncatechars:80 }}</a></p>{% endif %}
                {% endif %}
                {% endif %}
              </li>
              {% endfor %}
              </ol>
            </details>{% endif %}
            {% if a.outcome %}{% with o=a.outcome %}
            <p class="small"><span class="badge {% if o.confirmed %}ok{% else %}warn{% endif %}">{% if o.confirmed %}Outcome confirmed{% else %}Outcome not confirmed{% endif %}</span> {{ o.answer|truncatechars:200 }}</p>{% endwith %}{% endif %}
            {% if a.update_url %}
            <p class="no-print"><a href="{{ a.update_url }}" hx-get="{{ a.update_url }}" hx-target="#panel-{{ a.pk }}" hx-swap="innerHTML">Update progress</a></p>
            {% endif %}
            <div id="panel-{{ a.pk }}" class="panel" aria-live="polite"></div>
          </td>
        </tr>
      {% endfor %}"""
NASTY = 'Fish & <chips> "quoted" it\'s'


@pytest.mark.parametrize("reader", ["public", "viewer", "focal"])
def test_each_row_is_byte_for_byte_what_the_template_wrote(world, reader, no_page_cache, monkeypatch):
    ev, rec, other, actions, viewer, focal = world
    # User text with every character autoescape changes, line breaks in long and short texts.
    nasty = make_action(rec, text=NASTY, responsible=NASTY, comments=f"{NASTY}\nsecond line\r\nthird " + LONG, units=list(actions[0].units.all()))
    ActionUpdate.objects.create(key_action=nasty, status_before="Initiated", status_after="Completed", comment=f"{NASTY}\r\n" + LONG,
                                author_name=NASTY, evidence_url=f"https://example.org/?a=1&b=<{NASTY}>")
    ActionUpdate.objects.create(key_action=nasty, status_after="Completed", comment=f"short {NASTY}\nline", reopen_reason=NASTY)
    written = []

    def spy(row, internal, evidence_path):
        html = action_rows.evaluation_row(row, internal, evidence_path)
        written.append((row, internal, html))
        return html

    monkeypatch.setattr("web.views.portal.evaluation_row", spy)  # the real writer, its calls recorded
    client = Client()
    user = {"public": None, "viewer": viewer, "focal": focal}[reader]
    if user:
        client.force_login(user)
    page = client.get(reverse("web:evaluation", args=[ev.pk])).content.decode()
    template = engines["django"].from_string(TEMPLATE_ROWS)
    assert len(written) == len(actions) + 1
    for row, internal, html in written:
        assert internal == (user is not None)
        assert html == template.render({"rec": {"page_rows": [row]}, "internal": internal}), row["code"]
        assert html in page
    assert ("&lt;chips&gt;" in page) and "<chips>" not in page and "second line<br>third" in page
