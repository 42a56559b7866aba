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
