"""The demo a new user tries after `make run`: a plan with its compliance, an evaluation with its report attached."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from reports.figures import plan_compliance
from tracking.models import ChangeRecord, Evaluation, EvaluationDocument, EvaluationPlan
from tracking.services import demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_plan_with_its_compliance_and_a_report_attached(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("loaddemo", stdout=io.StringIO())
    plan = EvaluationPlan.objects.get(office__name=demo.DEMO_OFFICE, start_year=2025, end_year=2026)
    [c] = plan_compliance(Evaluation.objects.filter(plan=plan))
    assert (c.planned, c.completed, c.cancelled, c.in_progress, c.pending) == (4, 1, 1, 2, 1)
    assert c.cancellations == [(demo.DEMO_PLAN[0][0], demo.DEMO_PLAN[0][3])]
    report = EvaluationDocument.objects.get(title=demo.DEMO_REPORT_TITLE)
    assert report.evaluation.management_response.status == "Approved" and not report.internal
    first = report.evaluation.recommendations.order_by("position").first()
    assert first.text[:40] in " ".join(report.text.split())  # made from the evaluation's own record, its text extracted
    assert (tmp_path / report.file.name).read_bytes().startswith(b"%PDF-")
    assert ChangeRecord.objects.filter(object_id=report.pk, content_type__model="evaluationdocument", action="create").exists()
    # Again: nothing more.
    call_command("loaddemo", stdout=io.StringIO())
    assert EvaluationDocument.objects.count() == 1 and Evaluation.objects.filter(plan=plan).count() == 4


def test_the_demo_has_a_joint_evaluation_with_two_partners_one_approved_one_drafting(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("loaddemo", stdout=io.StringIO())
    lead = Evaluation.objects.get(title=demo.DEMO_JOINT_TITLE, joint_lead=None)
    partners = {e.office.name: e.management_response.status for e in lead.joint_partners.select_related("office", "management_response")}
    assert len(partners) == 2 and partners[demo.DEMO_OFFICE] == "Draft"
    assert sorted(partners.values()) == ["Approved", "Draft"] and lead.management_response.status == "Approved"
    drafting = lead.joint_partners.get(office__name=demo.DEMO_OFFICE)
    assert [r.shared_from_id for r in drafting.recommendations.order_by("position")] == list(
        lead.recommendations.order_by("position").values_list("pk", flat=True)
    )
    call_command("loaddemo", stdout=io.StringIO())
    assert Evaluation.objects.filter(title=demo.DEMO_JOINT_TITLE).count() == 3


def test_the_demo_units_carry_no_junk_the_pages_line_breaks_made(settings, tmp_path):
    """"DM A" is merged into DMA (its key actions with it, the broken name its alias), "Intergovernm ental" renamed."""
    from tracking.models import KeyAction, Unit, UnitAlias

    settings.MEDIA_ROOT = tmp_path
    call_command("loaddemo", stdout=io.StringIO())
    names = set(Unit.objects.values_list("name", flat=True))
    assert "DM A" not in names
    assert not [n for n in names if "Intergovernm ental" in n]
    dma = Unit.objects.get(acronym="DMA")
    assert UnitAlias.objects.filter(unit=dma, name="DM A").exists()
    assert KeyAction.objects.filter(units=dma).exists()
    assert Unit.objects.filter(name="Intergovernmental Support Division", acronym="IGSD").exists()
    assert ChangeRecord.objects.filter(message__contains="merged into").exists()
    # Again: nothing more to review, nothing undone.
    call_command("loaddemo", stdout=io.StringIO())
    assert set(Unit.objects.values_list("name", flat=True)) == names
