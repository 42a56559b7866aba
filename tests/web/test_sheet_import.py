"""The spreadsheet import pages: upload, preview (nothing written), confirm (written once), refusals."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import ActionUpdate, ChangeRecord, KeyAction, Role, RoleAssignment

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def action():
    rec = make_recommendation(make_evaluation(make_office("Office S"), title="Sheet evaluation"), number="1")
    return make_action(rec, text="Train staff.", responsible="HR", deadline=dt.date(2026, 3, 1))


def login(client, username, role=None, office=None):
    user = User.objects.create(username=username)
    if role:
        RoleAssignment.objects.create(user=user, role=role, office=office)
    client.force_login(user)
    return user


def sheet(action, **changes) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.title = "Key actions"
    row = {"Key action id": action.pk, "Evaluation id": action.evaluation_id, "Recommendation": "1", "Number": action.number,
           "Key action": action.text, "Responsible": action.responsible, "Deadline": action.deadline, "Status": action.status}
    row.update(changes)
    ws.append(list(row))
    ws.append(list(row.values()))
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile("actions.xlsx", out.getvalue())


def state():
    return KeyAction.objects.values_list("text", "status", "version").get(), ActionUpdate.objects.count(), ChangeRecord.objects.count()


def test_upload_preview_confirm_imports_once(client, action):
    login(client, "eo", Role.EVALUATION_OFFICE)
    page = client.get(reverse("web:sheet_import")).content.decode()
    assert 'enctype="multipart/form-data"' in page and reverse("web:sheet_template") in page
    before = state()
    response = client.post(reverse("web:sheet_import"), {"file": sheet(action, **{"Key action": "Train all staff.", "Status": "Initiated"})})
    assert response.status_code == 302
    preview_url = response["Location"]
    html = client.get(preview_url).content.decode()
    assert "Nothing has been written yet" in html and "0 created, 1 updated" in html
    assert "Train all staff." in html
    assert state() == before  # the preview wrote nothing
    confirm_url = reverse("web:sheet_confirm", args=[preview_url.rstrip("/").rsplit("/", 1)[1]])
    first = client.post(confirm_url)
    assert first.status_code == 302 and first["Location"] == preview_url
    assert KeyAction.objects.get().text == "Train all staff."
    after = state()
    # A double click, or Back and Confirm again: nothing imported twice.
    again = client.post(confirm_url, follow=True)
    assert "imported already" in again.content.decode()
    assert state() == after
    done = client.get(preview_url).content.decode()
    assert "Imported 1 evaluations from actions.xlsx" in done and "<form method=\"post\" action=\"" + confirm_url not in done


def test_errors_are_shown_located_and_no_confirm_is_offered(client, action):
    login(client, "eo", Role.EVALUATION_OFFICE)
    before = state()
    response = client.post(reverse("web:sheet_import"), {"file": sheet(action, Deadline="31/02/2025")}, follow=True)
    html = response.content.decode()
    assert 'sheet &quot;Key actions&quot;, row 2, column G (Deadline): &quot;31/02/2025&quot; is not a date' in html
    assert "sheet_confirm" not in html and "/confirm/" not in html
    assert state() == before


def test_who_may_import_and_whose_upload(client, action):
    # The public is sent to sign in; an office's focal point may not import.
    assert client.get(reverse("web:sheet_import"))["Location"].startswith("/accounts/login/")
    login(client, "focal", Role.OFFICE_FOCAL_POINT, action.evaluation.office)
    assert client.get(reverse("web:sheet_import")).status_code == 403
    assert client.post(reverse("web:sheet_import"), {"file": sheet(action)}).status_code == 403
    assert client.get(reverse("web:sheet_template")).status_code == 403
    # Another evaluation officer's upload is not found, nor confirmed.
    login(client, "eo", Role.EVALUATION_OFFICE)
    preview_url = client.post(reverse("web:sheet_import"), {"file": sheet(action, **{"Key action": "Theirs."})})["Location"]
    token = preview_url.rstrip("/").rsplit("/", 1)[1]
    login(client, "eo2", Role.EVALUATION_OFFICE)
    assert client.get(preview_url).status_code == 404
    assert client.post(reverse("web:sheet_confirm", args=[token])).status_code == 404
    assert client.get(reverse("web:sheet_preview", args=["not-a-token"])).status_code == 404
    assert KeyAction.objects.get().text == "Train staff."
    # An evaluation officer of another office: the preview says the file is refused, and offers no import.
    other = make_office("Office T")
    login(client, "eo_t", Role.EVALUATION_OFFICE, other)
    html = client.post(reverse("web:sheet_import"), {"file": sheet(action, **{"Key action": "Theirs."})}, follow=True).content.decode()
    assert "may not" in html and "/confirm/" not in html


def test_the_template_downloads_and_reads(client):
    login(client, "eo", Role.EVALUATION_OFFICE)
    response = client.get(reverse("web:sheet_template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["Read me", "Recommendations", "Key actions"]
