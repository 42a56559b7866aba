"""Evidence files by their own name; long comments folded behind "Show more" (no script)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ActionUpdate, Role, RoleAssignment
from tracking.services.progress import record_progress

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def action(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    office = make_office("Office E")
    action = make_action(make_recommendation(make_evaluation(office)))
    focal = User.objects.create(username="focal-e")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    return action, Actor(user=focal)


def test_evidence_is_listed_and_downloaded_by_its_own_name(action):
    action, actor = action
    for _ in range(2):  # the second is stored under another name (the first took this one)
        action.refresh_from_db()
        record_progress(
            actor, action, version=action.version, status="Initiated", comment="Report attached.",
            evidence_file=SimpleUploadedFile("Final report (v2).pdf", b"%PDF-1.4 x", content_type="application/pdf"),
        )
    second = ActionUpdate.objects.order_by("pk").last()
    assert second.evidence_name == "Final report (v2).pdf"
    assert second.evidence_file.name.rsplit("/", 1)[-1] != "Final report (v2).pdf"
    page = Client().get(reverse("web:action", args=[action.pk])).content.decode()
    assert page.count(">Final report (v2).pdf</a>") == 2
    download = Client().get(reverse("web:evidence", args=[second.pk]))
    assert 'filename="Final report (v2).pdf"' in download["Content-Disposition"]


def test_a_long_comment_is_folded_and_a_short_one_is_not(action):
    action, actor = action
    long = "The workshop was held in three regions. " * 20
    record_progress(actor, action, version=action.version, status="Initiated", comment=long.strip())
    action.refresh_from_db()
    record_progress(actor, action, version=action.version, status="Initiated", comment="Short note.")
    page = Client().get(reverse("web:action", args=[action.pk])).content.decode()
    assert page.count('<details class="folded') == 1
    assert "Show more" in page and long.strip() in page  # the whole text is there, folded
    assert '<p class="prose">Short note.</p>' in page
