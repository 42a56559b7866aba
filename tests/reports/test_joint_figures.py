"""A hand-built data set (a joint evaluation with an approved and a drafting partner, revised deadlines,
verified and self-reported completions, a rating, an outcome confirmed): the dashboard's, the annual
report's and the roll-up's figures asserted exactly (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from reports import annual, figures
from reports.joint import rollup
from tests.tracking.factories import change_action, make_action, make_office
from tracking.actor import Actor
from tracking.models import (
    Evaluation,
    KeyAction,
    ManagementResponse,
    OutcomeQuestion,
    Recommendation,
    Role,
    RoleAssignment,
)
from tracking.permissions import PUBLIC, reader_scope, restrict
from tracking.services import drafting, joint

pytestmark = pytest.mark.django_db
ON = dt.date(2025, 6, 15)


def act(rec, deadline, status="Initiated", first=None, completed_on=None, verification=""):
    a = make_action(rec, deadline=deadline, status=status)
    change_action(a, first_deadline=first, completed_on=completed_on, verification=verification)
    return a


@pytest.fixture
def world():
    eo = get_user_model().objects.create(username="eo")
    RoleAssignment.objects.create(user=eo, role=Role.EVALUATION_OFFICE)
    system = Actor.system("command")
    offices = {k: make_office(f"Office {k}") for k in "LAB"}
    lead = drafting.create_evaluation(system, office=offices["L"], start_year=2024, end_year=2025, title="Joint evaluation")
    for n in ("1", "2"):
        drafting.add_recommendation(system, lead.management_response, fields={"number": n, "text": f"Shared {n}", "category": "Accepted"})
    a = joint.add_partner(system, lead, office=offices["A"])
    b = joint.add_partner(system, lead, office=offices["B"])
    ManagementResponse.objects.filter(evaluation__in=[lead, a]).update(status="Approved")
    rec = {(e.office.name[-1], r.number): r for e in (lead, a, b) for r in Recommendation.objects.filter(evaluation=e).select_related("evaluation__office")}
    Recommendation.objects.filter(pk=rec["L", "1"].pk).update(adoption_by_management="full", adoption_validated="substantial")
    made = {
        # Completed in 2025: 38 days late (first deadline January, revised to June), verified.
        "L1": act(rec["L", "1"], dt.date(2025, 6, 1), "Completed", first=dt.date(2025, 1, 1), completed_on=dt.date(2025, 3, 10), verification="verified"),
        # On time, self-reported (never verified).
        "L2": act(rec["L", "2"], dt.date(2025, 2, 1), "Completed", completed_on=dt.date(2025, 2, 20)),
        # 31 days late, verified, its outcome confirmed.
        "A1": act(rec["A", "1"], dt.date(2025, 4, 1), "Completed", completed_on=dt.date(2025, 5, 31), verification="verified"),
        # Open: 76 days late against its first deadline, hidden by a revision to December.
        "A2": act(rec["A", "2"], dt.date(2025, 12, 1), first=dt.date(2025, 3, 1)),
        # Open: 197 days late, overdue.
        "A3": act(rec["A", "2"], dt.date(2024, 11, 1), "Not Initiated"),
        # The drafting partner's: 15 days late; only readers of its draft count it.
        "B1": act(rec["B", "1"], dt.date(2025, 5, 1)),
    }
    OutcomeQuestion.objects.create(key_action=made["A1"], question="Did it change what the evaluation found?", ask_on=ON, confirmed=True)
    return lead, a, b, eo, made


def test_the_public_and_the_evaluation_office_see_the_figures_of_what_they_read(world):
    lead, a, b, eo, made = world
    public = figures.totals(restrict(None, KeyAction), ON)
    assert (public.total, public.completed, public.completed_verified, public.completed_self_reported, public.overdue) == (5, 3, 2, 1, 1)
    assert public.ageing == {"up to 30 days": 0, "31-90 days": 1, "91-180 days": 0, "over 180 days": 1}
    assert (public.overdue_hidden, public.completed_dated, public.completed_late, public.days_late_avg) == (1, 3, 2, 34.5)
    everything = figures.totals(restrict(eo, KeyAction), ON)
    assert (everything.total, everything.ageing["up to 30 days"], everything.overdue) == (6, 1, 2)
    # Each partner's actions count in its own office; the shared recommendations' text does not add actions.
    by_office = {f.label: f.total for f in figures.breakdown(restrict(eo, KeyAction), "office", ON)}
    assert by_office == {"Office L": 2, "Office A": 3, "Office B": 1}
    lateness = figures.days_late(restrict(None, KeyAction))
    assert (lateness.dated, lateness.on_time, lateness.average, lateness.median) == (3, 1, 23.0, 31.0)
    assert figures.outcomes(restrict(None, KeyAction), None).confirmed == 1


def test_the_annual_report_gives_the_accountability_figures(world):
    lead, a, b, eo, made = world
    report = annual.build(2025, restrict(None, Evaluation), restrict(None, KeyAction), reader=PUBLIC, on=ON)
    assert (report.closure.closed, report.closure.closed_verified, report.completed_self_reported, report.closure.due) == (3, 2, 1, 4)
    assert (report.lateness.average, report.lateness.median, report.lateness.on_time, report.lateness.dated) == (23.0, 31.0, 1, 3)
    assert (report.outcomes.completed, report.outcomes.confirmed) == (3, 1)
    assert report.late.ageing == {"up to 30 days": 0, "31-90 days": 1, "91-180 days": 0, "over 180 days": 1}
    inside = annual.build(2025, restrict(eo, Evaluation), restrict(eo, KeyAction), reader=reader_scope(eo), on=ON)
    assert inside.late.ageing["up to 30 days"] == 1 and inside.closure.due == 5
    # An even number of dated completions: the median is the mean of the middle two.
    change_action(made["A2"], status="Completed", completed_on=dt.date(2025, 6, 10))  # 71 days late
    report = annual.build(2025, restrict(None, Evaluation), restrict(None, KeyAction), reader=PUBLIC, on=ON)
    assert (report.lateness.dated, report.lateness.average, report.lateness.median) == (4, 35.0, 34.5)


def test_the_annual_report_page_defines_and_shows_them(world, client):
    html = client.get(reverse("web:annual_report"), {"year": 2025}).content.decode()
    section = html[html.index('id="accountability"'):html.index("<h2>Overdue key actions</h2>")]
    assert "Days late</em>: from the end of the <em>first</em> deadline" in section
    assert '<span class="value">3</span> key actions completed in 2025: <span class="value">2</span> verified, <span class="value">1</span> self-reported' in section
    assert '<span class="value">23</span> days late on average, median <span class="value">31</span>' in section
    assert '<span class="value">1</span> completed in 2025 with the outcome confirmed' in section
    # Aged on the day the page is produced (after December 2025): both open actions are over 180 days late.
    assert '<tr><td>over 180 days</td><td class="num">2</td></tr>' in section


def test_the_roll_up_shows_each_partner_side_by_side_and_combined(world):
    lead, a, b, eo, made = world
    public = rollup(None, b, ON) or rollup(None, a, ON)
    assert [e.office.name for e in public.partners] == ["Office L", "Office A"]  # the drafting partner is not public
    assert public.shared_count == 2 and len(public.rows) == 2
    assert [[len(c.actions) for c in row.cells] for row in public.rows] == [[1, 1], [1, 2]]
    assert [(f.label, f.total, f.completed, f.completed_verified) for f in public.per_partner] == [("Office L", 2, 2, 1), ("Office A", 3, 1, 1)]
    assert (public.combined.total, public.combined.completed, public.lateness.average) == (5, 3, 23.0)
    inside = rollup(eo, lead, ON)
    assert [e.office.name for e in inside.partners] == ["Office L", "Office A", "Office B"]
    assert [row.cells[2].recommendation.category for row in inside.rows] == ["", ""]
    assert inside.combined.total == 6 and inside.shared_count == 2
    assert rollup(None, b, ON) is not None  # asked from a record the public cannot read: the roll-up of what it can
