"""Evidence on an approved response is public unless the person marks it internal: end to end, from the form."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import ActionUpdate, Role, RoleAssignment, Unit

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def setup(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    office = make_office("Office E")
    unit = Unit.objects.create(office=office, name="Unit E")
    action = make_action(make_recommendation(make_evaluation(office, status="Approved")), units=[unit])
    focal = User.objects.create(username="focal.person.e")
    RoleAssignment.objects.create(user=focal, role=Role.UNIT_FOCAL_POINT, unit=unit)
    viewer = User.objects.create(username="viewer.e")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    return action, focal, viewer


def _client(user=None) -> Client:
    client = Client()
    if user:
        client.force_login(user)
    return client


def test_the_form_says_evidence_is_public_and_offers_to_keep_it_internal(setup):
    action, focal, _ = setup
    html = _client(focal).get(reverse("web:action_update", args=[action.pk])).content.decode()
    assert "Evidence on an approved response is public" in html
    assert 'name="evidence_internal"' in html and 'type="checkbox"' in html


@pytest.mark.parametrize("internal", [True, False])
def test_evidence_marked_internal_is_neither_listed_nor_downloadable_for_the_public(setup, internal):
    action, focal, viewer = setup
    data = {
        "version": action.version, "status": "Completed", "comment": "Done, with proof.",
        "evidence_url": "https://example.org/the-proof", "evidence_file": SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof"),
    }
    if internal:
        data["evidence_internal"] = "on"
    assert _client(focal).post(reverse("web:action_update", args=[action.pk]), data).status_code == 302
    update = ActionUpdate.objects.get(key_action=action)
    assert update.evidence_internal is internal

    page = reverse("web:action", args=[action.pk])
    download = reverse("web:evidence", args=[update.pk])
    export = reverse("web:export", args=["updates", "csv"])
    evaluation = reverse("web:evaluation", args=[action.evaluation_id])
    for reader, sees in ((None, not internal), (User.objects.create(username="no-role"), not internal), (viewer, True), (focal, True)):
        client = _client(reader)
        for url in (page, evaluation):
            html = client.get(url).content.decode()
            assert "Done, with proof." in html  # the update itself is public
            assert ("https://example.org/the-proof" in html) == sees, (reader, url)
            assert (download in html) == sees, (reader, url)
            assert ("focal.person.e" in html) == (reader in (viewer, focal)), (reader, url)  # who reported: people with a role
        assert client.get(download).status_code == (200 if sees else 404)
        csv = b"".join(client.get(export).streaming_content).decode()
        assert "Done, with proof." in csv
        assert ("https://example.org/the-proof" in csv) == sees
        assert ("focal.person.e" in csv) == (reader in (viewer, focal))
