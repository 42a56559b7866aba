"""The evaluation office's pages: editing and deleting evaluations, plans and compliance, documents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.tracking.factories import make_evaluation, make_office, make_recommendation
from tracking.models import Evaluation, Role, RoleAssignment

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def office():
    return make_office("Office W", region="Region W")


@pytest.fixture
def eo(client):
    user = User.objects.create(username="eo-w")
    RoleAssignment.objects.create(user=user, role=Role.EVALUATION_OFFICE)
    client.force_login(user)
    return client


# --- evaluations ------------------------------------------------------------------------------------


def test_the_evaluation_page_shows_what_the_creation_form_asked(client, office):
    ev = make_evaluation(office, title="Shown in full")
    Evaluation.objects.filter(pk=ev.pk).update(type="thematic", status="completed", completion_date=dt.date(2024, 5, 31))
    html = client.get(ev.get_absolute_url()).content.decode()
    for text in ("<dt>Year</dt><dd>2024</dd>", "?type=thematic\">Thematic</a></dd>", "<dd>Completed", "<dd>31 May 2024</dd>"):
        assert text in html
    # The public is offered no change.
    assert reverse("web:evaluation_edit", args=[ev.pk]) not in html and "evaluation_delete" not in html


def test_the_evaluation_office_edits_from_the_page(eo, office):
    ev = make_evaluation(office, title="To edit")
    html = eo.get(ev.get_absolute_url()).content.decode()
    assert f'href="{reverse("web:evaluation_edit", args=[ev.pk])}"' in html
    assert f'action="{reverse("web:evaluation_delete", args=[ev.pk])}" class="inline" data-confirm="Delete the evaluation' in html
    form = eo.get(reverse("web:evaluation_edit", args=[ev.pk])).content.decode()
    assert 'name="start_year" value="2023"' in form and 'name="title" value="To edit"' in form and 'name="version" value="1"' in form
    response = eo.post(
        reverse("web:evaluation_edit", args=[ev.pk]),
        {"version": 1, "office": office.pk, "title": "Edited", "start_year": 2023, "end_year": 2024, "year": 2024,
         "type": "", "status": "cancelled", "completion_date": "", "cancellation_reason": ""},
    )
    assert response.status_code == 400 and "Say why the evaluation was cancelled." in response.content.decode()
    assert Evaluation.objects.get(pk=ev.pk).title == "To edit"
    response = eo.post(
        reverse("web:evaluation_edit", args=[ev.pk]),
        {"version": 1, "office": office.pk, "title": "Edited", "start_year": 2023, "end_year": 2024, "year": 2024,
         "type": "", "status": "cancelled", "completion_date": "", "cancellation_reason": "No funds."},
    )
    assert response.status_code == 302
    page = eo.get(ev.get_absolute_url()).content.decode()
    assert "Evaluation saved." in page and "Cancelled <span class=\"small\">(No funds.)</span>" in page


def test_deleting_an_evaluation_with_recommendations_is_refused_with_a_reason(eo, office):
    ev = make_evaluation(office, title="Has content")
    make_recommendation(ev)
    response = eo.post(reverse("web:evaluation_delete", args=[ev.pk]), {"version": 1}, follow=True)
    html = response.content.decode()
    assert "cannot be deleted: it has 1 recommendation" in html
    assert Evaluation.objects.filter(pk=ev.pk).exists()
    empty = make_evaluation(office, title="Empty")
    response = eo.post(reverse("web:evaluation_delete", args=[empty.pk]), {"version": 1}, follow=True)
    assert "deleted (kept in the history)" in response.content.decode()
    assert not Evaluation.objects.filter(pk=empty.pk).exists()


# --- plans ------------------------------------------------------------------------------------------


@pytest.fixture
def plan_with_evaluations(office):
    from django.utils import timezone

    from tracking.models import EvaluationPlan, ManagementResponse

    plan = EvaluationPlan.objects.create(office=office, start_year=2026, end_year=2027)
    done = dt.date(2026, 3, 31)
    for title, status, reason in (("Kept on time", "completed", ""), ("Dropped one", "cancelled", "Donor withdrew."), ("Still going", "ongoing", "")):
        ev = Evaluation.objects.create(plan=plan, office=office, title=title, year=2026, status=status,
                                       completion_date=done if status == "completed" else None, cancellation_reason=reason)
        ManagementResponse.objects.create(
            evaluation=ev, status="Approved",
            approved_at=timezone.make_aware(dt.datetime(2026, 4, 20, 12)) if status == "completed" else None,
        )
    return plan


def test_the_plan_page_shows_its_compliance_and_evaluations(client, plan_with_evaluations):
    html = client.get(reverse("web:plan", args=[plan_with_evaluations.pk])).content.decode()
    assert "Evaluation plan 2026 - 2027" in html
    for figure in ('<span class="value">3</span> planned', '<span class="value">1</span> completed',
                   '<span class="value">1</span> cancelled', '<span class="value">100%</span> responses approved within 6 weeks'):
        assert figure in html, figure
    assert "Dropped one: Donor withdrew." in html and "Kept on time" in html
    assert reverse("web:plan_edit", args=[plan_with_evaluations.pk]) not in html  # the public changes nothing


def test_the_office_page_and_the_dashboard_show_plan_compliance(client, plan_with_evaluations, settings):
    office = plan_with_evaluations.office
    html = client.get(reverse("web:office", args=[office.slug])).content.decode()
    assert f'<a href="{reverse("web:plan", args=[plan_with_evaluations.pk])}">Plan 2026 - 2027</a>' in html
    assert '<span class="value">3</span> planned' in html and "Dropped one: Donor withdrew." in html
    settings.RESPONSE_WEEKS = 2  # approved three weeks after completion: late now
    from django.core.cache import cache

    cache.clear()  # the anonymous whole-page cache (a changed setting shows within its hour)
    html = client.get(reverse("web:office", args=[office.slug])).content.decode()
    assert '<span class="value">0%</span> responses approved within 2 weeks' in html
    dashboard = client.get(reverse("web:dashboard")).content.decode()
    assert "Evaluation plans" in dashboard and "Dropped one: Donor withdrew." in dashboard
    row = dashboard[dashboard.index(f'href="{reverse("web:plan", args=[plan_with_evaluations.pk])}"'):]
    assert '<td class="num">3</td><td class="num">1</td><td class="num">1</td><td class="num">1</td>' in row


def test_the_evaluation_office_makes_and_closes_a_plan(eo, office):
    from tracking.models import EvaluationPlan

    response = eo.post(reverse("web:plan_create"), {"office": office.pk, "start_year": 2026, "end_year": 2029, "notes": ""})
    plan = EvaluationPlan.objects.get(office=office, start_year=2026)
    assert response["Location"] == reverse("web:plan", args=[plan.pk])
    html = eo.get(response["Location"]).content.decode()
    add = f'{reverse("web:evaluation_create")}?office={office.pk}&amp;start_year=2026&amp;end_year=2029'
    assert add in html and 'data-confirm="Close the plan 2026 - 2029?' in html
    form = eo.get(add.replace("&amp;", "&")).content.decode()
    assert 'name="start_year" value="2026"' in form and f'<option value="{office.pk}" selected>' in form
    again = eo.post(reverse("web:plan_create"), {"office": office.pk, "start_year": 2026, "end_year": 2029, "notes": ""})
    assert again.status_code == 400 and "already has a plan for 2026 - 2029" in again.content.decode()
    eo.post(reverse("web:plan_close", args=[plan.pk]), {"version": 1, "action": "close"})
    html = eo.get(reverse("web:plan", args=[plan.pk])).content.decode()
    assert "Plan 2026 - 2029 closed." in html and "Reopen the plan" in html and add not in html
    refused = eo.post(reverse("web:evaluation_create"), {"office": office.pk, "title": "Late", "start_year": 2026, "end_year": 2029,
                                                        "status": "completed"})
    assert refused.status_code == 400 and "is closed: reopen it first" in refused.content.decode()


# --- documents ------------------------------------------------------------------------------------


def test_the_evaluation_office_attaches_a_report_and_anyone_downloads_it(eo, client, office, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.tracking.factories import make_pdf
    from tracking.models import EvaluationDocument

    settings.MEDIA_ROOT = tmp_path
    ev = make_evaluation(office, title="Reported", status="Approved")
    page = eo.get(ev.get_absolute_url()).content.decode()
    assert f'action="{reverse("web:document_add", args=[ev.pk])}" enctype="multipart/form-data"' in page
    upload = SimpleUploadedFile("Final report.pdf", make_pdf("Findings of the evaluation."), "application/pdf")
    response = eo.post(reverse("web:document_add", args=[ev.pk]),
                       {"file": upload, "kind": "report", "title": "Final report", "language": "en"}, follow=True)
    html = response.content.decode()
    doc = EvaluationDocument.objects.get(evaluation=ev)
    assert "“Final report” attached." in html
    assert f'<a href="{reverse("web:document", args=[doc.pk])}">Final report</a>' in html and "Final report.pdf" in html
    assert 'data-confirm="Remove the document “Final report”?"' in html
    download = Client().get(reverse("web:document", args=[doc.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert 'filename="Final report.pdf"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    public_page = Client().get(ev.get_absolute_url()).content.decode()
    assert "Final report" in public_page and "Attach a document" not in public_page
    bad = SimpleUploadedFile("virus.exe", b"MZ", "application/octet-stream")
    html = eo.post(reverse("web:document_add", args=[ev.pk]), {"file": bad, "kind": "report", "language": "en"}, follow=True).content.decode()
    assert "The document was not attached: “virus.exe”: only DOC, DOCX, ODT, PDF, PPTX, XLS, XLSX files are taken." in html
    assert EvaluationDocument.objects.count() == 1


# --- submission checks on the drafting page ----------------------------------------------------------------


def test_the_drafting_page_lists_what_is_missing_with_links_and_the_warnings(client, office):
    from tests.tracking.factories import make_action
    from tracking.models import ManagementResponse, Unit

    focal = User.objects.create(username="focal-w")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    client.force_login(focal)
    ev = make_evaluation(office, title="Drafting", status="Draft")
    response = ev.management_response
    accepted = make_recommendation(ev, category="Accepted")
    bare = make_action(make_recommendation(ev, category="Accepted", number="2"), deadline=None, text="Be better.")
    edit = reverse("web:response_edit", args=[response.pk])
    html = client.get(edit).content.decode()
    assert '<a href="#header-heading">Write the overall management response.</a>' in html
    assert f'<a href="{reverse("web:action_add", args=[accepted.pk])}">Recommendation 1 is accepted: add at least one key action.</a>' in html
    assert f'<a href="{reverse("web:action_edit", args=[bare.pk])}">Key action 2.1: choose its responsible unit.</a>' in html
    assert f'<a href="{reverse("web:action_edit", args=[bare.pk])}">Key action 2.1: give its deadline.</a>' in html
    assert "Key action 2.1 may not say what will be delivered" in html
    assert '<button type="submit" disabled>Submit</button>' in html
    # Submitting anyway (a stale page, a tampered form) is refused with the same list.
    refused = client.post(reverse("web:response_submit", args=[response.pk]), {"version": response.version}, follow=True)
    assert "The response is not ready to submit: Write the overall management response." in refused.content.decode()
    assert ManagementResponse.objects.get(pk=response.pk).status == "Draft"
    # Done: ready, and submitted.
    unit = Unit.objects.create(office=office, name="Unit W")
    ManagementResponse.objects.filter(pk=response.pk).update(overall_response="We accept.")
    make_action(accepted, units=[unit])
    bare.units.set([unit])
    type(bare).objects.filter(pk=bare.pk).update(deadline=dt.date(2031, 1, 1))
    html = client.get(edit).content.decode()
    assert "it can be submitted" in html and '<button type="submit">Submit</button>' in html
    client.post(reverse("web:response_submit", args=[response.pk]), {"version": response.version})
    assert ManagementResponse.objects.get(pk=response.pk).status == "Submitted"
