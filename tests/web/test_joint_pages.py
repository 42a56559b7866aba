"""Joint evaluations on the web: what each reader sees (the roll-up, the section on the evaluation page),
the evaluation office's partner management on the edit page, a partner's drafting; flat query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.tracking.factories import make_action, make_office
from tracking.actor import Actor
from tracking.models import (
    ChangeRecord,
    Evaluation,
    ManagementResponse,
    Recommendation,
    Role,
    RoleAssignment,
    Unit,
)
from tracking.services import drafting, joint, tallies

pytestmark = pytest.mark.django_db
User = get_user_model()


def client_of(name, role=None, **scope) -> Client:
    user = User.objects.create(username=name)
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    c = Client()
    c.force_login(user)
    return c


def _set_status(evaluations, status: str) -> None:
    """A response's status set directly (not through review), its counts kept in step as the services keep them."""
    with tallies.kept_in_step([e.pk for e in evaluations]):
        ManagementResponse.objects.filter(evaluation__in=evaluations).update(status=status)


@pytest.fixture
def world():
    system = Actor.system("command")
    o = {k: make_office(f"Office {k}") for k in "LABCD"}
    lead = drafting.create_evaluation(system, office=o["L"], start_year=2024, end_year=2025, title="Joint evaluation of the pages")
    for n in ("1", "2"):
        drafting.add_recommendation(system, lead.management_response, fields={"number": n, "text": f"Shared text {n}", "category": "Accepted"})
    a = joint.add_partner(system, lead, office=o["A"])
    b = joint.add_partner(system, lead, office=o["B"])
    _set_status([lead, a], "Approved")
    for e in (lead, a, b):
        for rec in e.recommendations.all():
            make_action(rec, deadline=dt.date(2025, 1, 1), text=f"KA of {e.office.name} for {rec.number}.")
    people = {
        "eo": client_of("eo", Role.EVALUATION_OFFICE),
        "fp_a": client_of("fp.a", Role.OFFICE_FOCAL_POINT, office=o["A"]),
        "fp_b": client_of("fp.b", Role.OFFICE_FOCAL_POINT, office=o["B"]),
        "public": Client(),
    }
    return lead, a, b, o, people


def test_the_public_sees_only_approved_partners(world):
    lead, a, b, o, p = world
    html = p["public"].get(reverse("web:joint", args=[lead.pk])).content.decode()
    assert "Office L" in html and "Office A" in html and "Office B" not in html
    # Each partner's key actions are linked from its column; the drafting partner's are not shown.
    assert reverse("web:action", args=[a.key_actions.first().pk]) in html
    assert reverse("web:action", args=[b.key_actions.first().pk]) not in html
    assert p["public"].get(reverse("web:joint", args=[b.pk])).status_code == 404  # a draft: not found
    page = p["public"].get(reverse("web:evaluation", args=[a.pk])).content.decode()
    assert "Joint evaluation</h3>" in page and "Office L</a> (lead)" in page and "Office B" not in page
    inside = p["eo"].get(reverse("web:joint", args=[b.pk])).content.decode()
    assert all(f"Office {k}" in inside for k in "LAB")
    # Office B's focal point reads its own draft and the approved records; not Office A's draft (none here).
    mine = p["fp_b"].get(reverse("web:joint", args=[b.pk])).content.decode()
    assert all(f"Office {k}" in mine for k in "LAB")


def test_the_roll_up_counts_each_partners_actions_and_the_shared_text_once(world):
    lead, a, b, o, p = world
    html = p["eo"].get(reverse("web:joint", args=[lead.pk])).content.decode()
    assert "(2 shared here)" in html
    assert html.count("Shared text 1") == 1  # one row, however many partners answer it
    table = html[html.index("By partner office"):]
    for office in ("Office L", "Office A", "Office B"):
        row = table[table.index(f"<th scope=\"row\">{office}</th>"):]
        assert row.split("</td>")[0].endswith(">2")  # two key actions each, in its own office
    assert '<span class="value">6</span> key actions of all partners' in html


def test_the_evaluation_office_adds_and_removes_partners_from_the_edit_page(world):
    lead, a, b, o, p = world
    edit = p["eo"].get(reverse("web:evaluation_edit", args=[lead.pk])).content.decode()
    assert "Add a partner office" in edit and f'name="remove" value="{a.pk}"' in edit
    r = p["eo"].post(reverse("web:joint_partners", args=[lead.pk]), {"office": o["C"].pk})
    assert r.status_code == 302
    c = Evaluation.objects.get(joint_lead=lead, office=o["C"])
    assert list(c.recommendations.values_list("text", flat=True)) == ["Shared text 1", "Shared text 2"]
    # Refused with a clear message: the same office again.
    r = p["eo"].post(reverse("web:joint_partners", args=[lead.pk]), {"office": o["C"].pk}, follow=True)
    assert "Office C is already a partner" in r.content.decode()
    # A focal point may not.
    assert p["fp_a"].post(reverse("web:joint_partners", args=[lead.pk]), {"office": o["D"].pk}).status_code == 403
    r = p["eo"].post(reverse("web:joint_partners", args=[lead.pk]), {"remove": c.pk})
    assert r.status_code == 302 and Evaluation.objects.get(pk=c.pk).joint_lead_id is None
    assert ChangeRecord.objects.filter(evaluation_id=lead.pk, message="partner removed: Office C").exists()
    # A partner's edit page points at the lead.
    partner_edit = p["eo"].get(reverse("web:evaluation_edit", args=[b.pk])).content.decode()
    assert "A partner's record of the joint evaluation led by" in partner_edit and "Add a partner office" not in partner_edit


def test_a_partner_drafts_its_own_response_and_not_the_shared_text(world):
    lead, a, b, o, p = world
    rec_b = b.recommendations.get(number="1")
    url = reverse("web:recommendation_edit", args=[rec_b.pk])
    data = {"version": rec_b.version, "number": "1", "text": rec_b.text, "category": "Rejected", "response_text": "Not for us.", "description": ""}
    assert p["fp_a"].post(url, data).status_code in (403, 404)  # another partner's draft
    assert p["fp_b"].post(url, data).status_code == 302
    assert Recommendation.objects.get(pk=rec_b.pk).category == "Rejected"
    rec_b.refresh_from_db()
    r = p["fp_b"].post(url, {**data, "version": rec_b.version, "text": "Our own wording."})
    assert r.status_code == 400 and "shared by a joint evaluation" in r.content.decode()
    # The evaluation office changes it for every partner (here refused: two responses are approved).
    form = reverse("web:shared_recommendation", args=[rec_b.pk])
    source = lead.recommendations.get(number="1")
    assert p["eo"].get(form)["Location"] == reverse("web:shared_recommendation", args=[source.pk])
    r = p["eo"].post(reverse("web:shared_recommendation", args=[source.pk]), {"version": source.version, "number": "1", "text": "New"})
    assert r.status_code == 400 and "Office A, Office L" in r.content.decode()
    _set_status([lead, a], "Draft")
    r = p["eo"].post(reverse("web:shared_recommendation", args=[source.pk]), {"version": source.version, "number": "1", "text": "New"})
    assert r.status_code == 302
    assert set(Recommendation.objects.filter(number="1").values_list("text", flat=True)) == {"New"}


def test_the_roll_up_issues_as_many_queries_whatever_the_number_of_partners(world):
    lead, a, b, o, p = world
    url = reverse("web:joint", args=[lead.pk])
    p["eo"].get(url)

    def count():
        with CaptureQueriesContext(connection) as q:
            assert p["eo"].get(url).status_code == 200
        return len(q)

    few = count()
    for k in "CD":
        partner = joint.add_partner(Actor.system("command"), lead, office=o[k])
        for rec in partner.recommendations.all():
            make_action(rec, deadline=dt.date(2025, 1, 1))
    assert count() == few


def test_a_partners_approval_shows_on_the_leads_public_page_at_once(world):
    lead, a, b, o, p = world
    url = reverse("web:evaluation", args=[lead.pk])
    assert "Office B" not in p["public"].get(url).content.decode()  # kept for anonymous readers
    system = Actor.system("command")
    response = ManagementResponse.objects.get(evaluation=b)
    response.overall_response = "Office B's response."
    response.save()
    unit = Unit.objects.create(office=o["B"], name="Unit of B")
    for action in b.key_actions.all():
        action.units.set([unit])
    drafting.approve_response(system, drafting.submit_response(system, response, version=response.version), version=response.version + 1)
    assert "Office B</a> — response approved" in p["public"].get(url).content.decode()


def test_the_home_page_counts_a_joint_evaluation_and_its_shared_recommendations_once(world):
    lead, a, b, o, p = world
    html = p["eo"].get(reverse("web:home")).content.decode()
    # Three records (lead and two partners) of one evaluation; two shared recommendations.
    assert '<span class="value">1</span> evaluations' in html and '<span class="value">2</span> recommendations' in html
    drafting.add_recommendation(Actor.system("command"), b.management_response, fields={"number": "B1", "text": "Office B's own.", "category": ""})
    html = p["eo"].get(reverse("web:home")).content.decode()
    assert '<span class="value">3</span> recommendations' in html


def test_the_home_page_counts_a_joint_evaluation_once_for_readers_of_its_partners_only(world):
    lead, a, b, o, p = world
    _set_status([lead], "Draft")  # the lead is nobody's here but the office's
    for who, evaluations, recommendations in (("public", 1, 2), ("fp_a", 1, 2), ("fp_b", 1, 2), ("eo", 1, 2)):
        html = p[who].get(reverse("web:home")).content.decode()
        assert f'<span class="value">{evaluations}</span> evaluations' in html, who
        assert f'<span class="value">{recommendations}</span> recommendations' in html, who
    _set_status([a], "Draft")  # now the public reads none of it
    cache.clear()  # changed behind the services' back: no record moved the page's version
    html = p["public"].get(reverse("web:home")).content.decode()
    assert '<span class="value">0</span> evaluations' in html and '<span class="value">0</span> recommendations' in html


def test_the_home_counts_equal_the_distinct_records_each_reader_reads(world):
    """The counts (in the indexes, with copies and partners apart) against the plain DISTINCT over what `restrict` gives."""
    from django.db.models import Count
    from django.db.models.functions import Coalesce

    from tracking import queries
    from tracking.permissions import restrict

    lead, a, b, o, p = world
    solo = drafting.create_evaluation(Actor.system("command"), office=o["C"], start_year=2024, end_year=2025, title="Alone")
    drafting.add_recommendation(Actor.system("command"), solo.management_response, fields={"number": "1", "text": "Own.", "category": ""})
    # Readers of drafts through an office (its own draft "Alone" among them) or a region, apart from those of approved responses.
    client_of("fp.c", Role.OFFICE_FOCAL_POINT, office=o["C"])
    client_of("eo.region", Role.EVALUATION_OFFICE, region=o["C"].region)
    users = {"public": None, **{name: User.objects.get(username=name) for name in ("eo", "fp.a", "fp.b", "fp.c", "eo.region")}}
    for lead_status in ("Approved", "Draft"):
        _set_status([lead], lead_status)
        for name, user in users.items():
            evaluations = restrict(user, Evaluation).aggregate(n=Count(Coalesce("joint_lead_id", "id"), distinct=True))["n"]
            recommendations = restrict(user, Recommendation).aggregate(n=Count(Coalesce("shared_from_id", "id"), distinct=True))["n"]
            assert queries.home_counts(user) == (evaluations, recommendations), (name, lead_status)
