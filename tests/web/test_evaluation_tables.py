"""The office page and the evaluation list write their tables of evaluations in Python (web/views/evaluation_tables.py),
and the filter form its options with one tag ({% options %}), for speed: what they write is, byte for byte, what the
templates wrote (kept here as the reference) and what web/includes/plan_compliance.html writes, for every kind of
row: each response status, none, overdue or not, untitled, cancelled with and without a reason, completion dates
unknown, and user text with <, & and quotes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from reports import figures
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking import queries
from tracking.models import Evaluation, EvaluationPlan, Role, RoleAssignment
from tracking.models.responses import ActionStatus, Category, ResponseStatus
from tracking.permissions import restrict
from web.views import evaluation_tables as tables
from web.views.portal import _choices

pytestmark = pytest.mark.django_db
User = get_user_model()
NASTY = 'Rock & <roll> "quoted" \'single\''

# The rows as the bodies' templates wrote them before (web/templates/web/office_detail_body.html and
# evaluation_list_body.html), {% for %} and all.
OFFICE_ROWS = Template(
    "{% load l10n followthrough %}{% localize off %}{% for e in evaluations %}\n"
    "      <tr>\n"
    '        <td><a href="{{ e.get_absolute_url }}">{{ e }}</a></td>\n'
    '        <td>{% if e.management_response %}<span class="badge {{ e.management_response.status|response_status_class }}">'
    "{{ e.management_response.status }}</span>{% endif %}</td>\n"
    '        <td class="num">{{ e.n_recommendations }}</td><td class="num">{{ e.n_key_actions }}</td>\n'
    '        <td class="num">{% if e.n_overdue %}<span class="badge bad">{{ e.n_overdue }}</span>{% else %}0{% endif %}</td>\n'
    "      </tr>\n"
    "    {% endfor %}{% endlocalize %}"
)
LIST_ROWS = Template(
    "{% load l10n followthrough %}{% localize off %}{% for e in page %}\n"
    "    <tr>\n"
    '      <td><a href="{{ e.get_absolute_url }}">{{ e }}</a></td>\n'
    '      <td>{{ e.office.name }} <span class="muted">({{ e.office.type.code }})</span></td>\n'
    "      <td>{{ e.plan.period }}</td>\n"
    "      <td>{{ e.year }}</td>\n"
    '      <td>{% if e.management_response %}<span class="badge {{ e.management_response.status|response_status_class }}">'
    "{{ e.management_response.status }}</span>{% endif %}</td>\n"
    '      <td class="num">{{ e.n_recommendations }}</td>\n'
    """      <td class="num"><a href="{% url 'web:actions' %}?evaluation={{ e.pk }}">{{ e.n_key_actions }}</a></td>\n"""
    """      <td class="num">{% if e.n_overdue %}<a class="badge bad" href="{% url 'web:actions' %}?evaluation={{ e.pk }}"""
    """&amp;overdue=1">{{ e.n_overdue }}</a>{% else %}0{% endif %}</td>\n"""
    "    </tr>\n"
    "  {% endfor %}{% endlocalize %}"
)
# The office page's plans as web/templates/web/office_detail_body.html wrote them.
PLAN_SECTIONS = Template(
    "{% for plan, plan_url, rows, compliance in plans %}\n"
    '<section class="card" aria-labelledby="plan-{{ plan.pk }}">\n'
    '  <h3 id="plan-{{ plan.pk }}"><a href="{{ plan_url }}">Plan {{ plan.period }}</a>{% if plan.closed %} '
    '<span class="badge">closed</span>{% endif %}</h3>\n'
    "  {{ compliance }}\n"
    "  {% if rows %}\n"
    '  <div class="table-wrap"><table>\n'
    '    <thead><tr><th scope="col">Evaluation</th><th scope="col">Response</th><th scope="col" class="num">Recommendations</th>'
    '<th scope="col" class="num">Key actions</th><th scope="col" class="num">Overdue</th></tr></thead>\n'
    "    <tbody>\n"
    "    {{ rows }}\n"
    "    </tbody>\n"
    "  </table></div>\n"
    '  {% else %}<p class="muted">No evaluation of this plan to show.</p>{% endif %}\n'
    "</section>\n"
    "{% empty %}\n"
    '<p class="muted">No evaluation of this office to show.</p>\n'
    "{% endfor %}"
)
# The filter form's selects as web/includes/filters.html wrote them.
OPTIONS = Template(
    "{% for r in regions %}<option value=\"{{ r.pk }}\" {% if filters.region == r.pk %}selected{% endif %}>{{ r.name }}</option>{% endfor %}|"
    "{% for o in offices %}<option value=\"{{ o.pk }}\" {% if filters.office == o.pk %}selected{% endif %}>{{ o.name }}</option>{% endfor %}|"
    "{% for t in office_types %}<option value=\"{{ t.code }}\" {% if filters.office_type == t.code %}selected{% endif %}>{{ t.code }}</option>"
    "{% endfor %}|"
    "{% for value, label in evaluation_types %}<option value=\"{{ value }}\" {% if filters.type == value %}selected{% endif %}>{{ label }}"
    "</option>{% endfor %}|"
    "{% for c in categories %}<option {% if filters.category == c %}selected{% endif %}>{{ c }}</option>{% endfor %}|"
    "{% for s in statuses %}<option {% if filters.status == s %}selected{% endif %}>{{ s }}</option>{% endfor %}"
)
OPTIONS_TAG = Template(
    '{% load followthrough %}{% options regions filters.region "pk" "name" %}|{% options offices filters.office "pk" "name" %}|'
    '{% options office_types filters.office_type "code" "code" %}|{% options evaluation_types filters.type 0 1 %}|'
    "{% options categories filters.category %}|{% options statuses filters.status %}"
)


@pytest.fixture
def world():
    office = make_office(NASTY, type_code="C&O")
    old = dt.date(2001, 5, 1)
    evaluations = {}
    for status in (ResponseStatus.APPROVED, ResponseStatus.DRAFT, ResponseStatus.SUBMITTED, ResponseStatus.RETURNED, "Odd status"):
        evaluations[status] = make_evaluation(office, title=f"{NASTY} {status}", status=status, year=2024)
    overdue = evaluations[ResponseStatus.APPROVED]
    rec = make_recommendation(overdue)
    make_action(rec, deadline=old, status=ActionStatus.INITIATED)
    make_action(rec, deadline=old, status=ActionStatus.COMPLETED)
    make_action(rec, status=ActionStatus.INITIATED)
    make_recommendation(evaluations[ResponseStatus.DRAFT])
    untitled = make_evaluation(office, title="", year=2022)
    untitled.title = ""
    untitled.save()
    plan = EvaluationPlan.objects.get(office=office, start_year=2023)
    # No response at all; cancelled with and without a reason; completed on a date, approved in time and later.
    Evaluation.objects.create(plan=plan, office=office, title="No response", year=2024)
    for title, reason in (("Cancelled <1>", "Funds & time <gone>"), ("Cancelled 2", "")):
        Evaluation.objects.create(plan=plan, office=office, title=title, year=2024, status=Evaluation.Status.CANCELLED,
                                  cancellation_reason=reason)
    done = dt.date(2024, 3, 1)
    Evaluation.objects.filter(pk=overdue.pk).update(completion_date=done)
    overdue.management_response.approved_at = timezone.make_aware(dt.datetime(2024, 3, 10))
    overdue.management_response.save()
    late = evaluations[ResponseStatus.RETURNED]
    Evaluation.objects.filter(pk=late.pk).update(completion_date=done)
    EvaluationPlan.objects.create(office=office, start_year=2019, end_year=2020)  # a plan with no evaluation
    viewer = User.objects.create(username="viewer.t")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    return office, evaluations, viewer


def _evaluations(user, office):
    return list(queries.with_counts(
        restrict(user, Evaluation).filter(office=office).select_related("office__type", "plan", "management_response")
        .order_by("-year", "title", "pk")
    ))


@pytest.mark.parametrize("reader", ["public", "viewer"])
def test_rows_are_what_the_templates_wrote(world, reader):
    office, evaluations, viewer = world
    user = viewer if reader == "viewer" else None
    from django.contrib.auth.models import AnonymousUser

    rows = _evaluations(user or AnonymousUser(), office)
    evaluation_path = lambda pk: reverse("web:evaluation", args=[pk])  # noqa: E731
    assert tables.office_rows(rows, evaluation_path) == OFFICE_ROWS.render(Context({"evaluations": rows}))
    assert tables.list_rows(rows, evaluation_path, reverse("web:actions")) == LIST_ROWS.render(Context({"page": rows}))
    # What the fixture is for: each kind of row is there.
    html = tables.list_rows(rows, evaluation_path, reverse("web:actions"))
    assert "Rock &amp; &lt;roll&gt; &quot;quoted&quot; &#x27;single&#x27;" in html
    assert '<a class="badge bad"' in html and "(untitled evaluation," in html
    if reader == "viewer":
        for status in ("Draft", "Submitted", "Returned", "Odd status"):
            assert f">{status}</span>" in html, status
        assert "<td></td>" in html  # no response
    assert tables.office_rows([], evaluation_path) == "" == tables.list_rows([], evaluation_path, "/actions/")


@pytest.mark.parametrize("reader", ["public", "viewer"])
def test_plan_compliance_is_what_the_include_writes(world, reader):
    office, evaluations, viewer = world
    from django.contrib.auth.models import AnonymousUser

    user = viewer if reader == "viewer" else AnonymousUser()
    compliance = figures.plan_compliance(restrict(user, Evaluation).filter(office=office), 6)
    assert compliance
    for c in compliance:
        assert tables.plan_compliance(c, 6) == render_to_string("web/includes/plan_compliance.html", {"c": c, "weeks": 6})
    written = "".join(tables.plan_compliance(c, 6) for c in compliance)
    if reader == "viewer":
        assert "Cancelled:" in written and "Funds &amp; time &lt;gone&gt;" in written and "no reason given" in written
        assert "completion date unknown for" in written
    assert "—" in written or "%" in written


def test_plan_sections_are_what_the_loop_wrote(world):
    office, evaluations, viewer = world
    EvaluationPlan.objects.filter(office=office, start_year=2019).update(closed=True)
    rows = _evaluations(viewer, office)
    compliance = {c.plan_id: c for c in figures.plan_compliance(restrict(viewer, Evaluation).filter(office=office), 6)}
    plans = []
    for i, plan in enumerate(EvaluationPlan.objects.filter(office=office).order_by("-start_year")):
        mine = [e for e in rows if e.plan_id == plan.pk]
        path = f"/plans/{plan.pk}/?a=1&b=<2>" if i == 0 else f"/plans/{plan.pk}/"
        plans.append((plan, path, tables.office_rows(mine, lambda pk: f"/evaluations/{pk}/"),
                      tables.plan_compliance(compliance[plan.pk], 6) if plan.pk in compliance else ""))
    written = tables.plan_sections(plans)
    assert written == PLAN_SECTIONS.render(Context({"plans": plans}))
    # Each kind of section is there: closed, without rows, with rows and compliance, and an escaped path.
    assert '<span class="badge">closed</span>' in written and "No evaluation of this plan to show." in written
    assert "<tbody>" in written and "completion rate" in written and "&amp;b=&lt;2&gt;" in written
    assert tables.plan_sections([]) == PLAN_SECTIONS.render(Context({"plans": []}))
    assert "No evaluation of this office to show." in tables.plan_sections(iter(()))


@pytest.mark.parametrize("chosen", [{}, {"category": "Rejected", "status": "Completed", "type": "thematic"}, "first"])
def test_options_are_what_the_for_loops_wrote(world, chosen):
    office, evaluations, viewer = world
    request = RequestFactory().get("/evaluations/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    context = {**_choices(request), "offices": list(queries.offices_read(request.user)),
               "categories": [*Category.values, NASTY], "statuses": ActionStatus.values}
    context["regions"] = list(context["regions"]) + [type("R", (), {"pk": 99, "name": NASTY})()]
    if chosen == "first":
        chosen = {"region": context["regions"][0].pk, "office": office.pk, "office_type": "C&O", "category": NASTY}
    context["filters"] = chosen
    tag = OPTIONS_TAG.render(Context(context))
    assert tag == OPTIONS.render(Context(context))
    assert tag.count("selected") == len(chosen)
    # Querysets, as the views pass them, are read as pairs of columns: the same options as their model instances.
    given = {**context, "offices": queries.offices_read(request.user), "regions": _choices(request)["regions"]}
    instances = {**given, **{k: list(given[k]) for k in ("offices", "regions", "office_types", "thematic_areas")}}
    assert OPTIONS_TAG.render(Context(given)) == OPTIONS.render(Context(instances))


def test_pages_write_the_rows(world, no_page_cache):
    office, evaluations, viewer = world
    from django.contrib.auth.models import AnonymousUser

    rows = _evaluations(AnonymousUser(), office)
    page = Client().get(reverse("web:evaluations")).content.decode()
    assert LIST_ROWS.render(Context({"page": rows})) in page
    assert 'Rock &amp; &lt;roll&gt;' in page
    office_page = Client().get(reverse("web:office", args=[office.slug])).content.decode()
    for e in rows:
        assert OFFICE_ROWS.render(Context({"evaluations": [e]})) in office_page
    assert "No evaluation of this plan to show." in office_page
    empty = Client().get(reverse("web:evaluations") + "?year=1991").content.decode()
    assert "No evaluation matches." in empty
