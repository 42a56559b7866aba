"""An evaluation's documents: what is taken, how it is stored, its text, who reads it, the history."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from tests.tracking.factories import make_docx, make_evaluation, make_office, make_pdf
from tracking.actor import Actor
from tracking.models import ChangeRecord, EvaluationDocument, Role, RoleAssignment
from tracking.permissions import restrict
from tracking.services import documents

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def eo():
    user = User.objects.create(username="eo-docs")
    RoleAssignment.objects.create(user=user, role=Role.EVALUATION_OFFICE)
    return Actor(user=user)


@pytest.fixture
def evaluation():
    return make_evaluation(make_office("Office Docs"), title="With documents", status="Approved")


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def attach(actor, evaluation, name, data, **extra):
    args = {"kind": "report", "title": "", "language": "en", "internal": False, "file_name": name, "data": data, **extra}
    return documents.add_document(actor, evaluation, **args)


def test_a_pdf_report_is_stored_under_a_generated_name_with_its_text(media, eo, evaluation):
    doc = attach(eo, evaluation, "Final report (Kenya) v2.PDF", make_pdf("Gender-responsive budgeting in Kenya.", "Second page text."))
    assert (doc.title, doc.original_name, doc.content_type, doc.kind) == (
        "Final report (Kenya) v2.PDF", "Final report (Kenya) v2.PDF", "application/pdf", "report"
    )
    assert doc.file.name.startswith("documents/") and doc.file.name.endswith(".pdf")
    assert "Kenya" not in doc.file.name and "report" not in doc.file.name
    assert "Gender-responsive budgeting in Kenya." in doc.text and "Second page text." in doc.text
    [path] = stored_files(media)
    assert path.stat().st_size == doc.size > 0
    [record] = ChangeRecord.objects.all()
    assert (record.action, record.evaluation_id, record.user) == ("create", evaluation.pk, eo.user)
    assert record.after["original_name"] == "Final report (Kenya) v2.PDF" and "text" not in record.after


def test_the_text_of_a_word_document_and_its_tables_is_kept(media, eo, evaluation):
    data = make_docx("Terms of reference.", "Scope: three regions.", table=[["Criterion", "Question"], ["Relevance", "Is it needed?"]])
    doc = attach(eo, evaluation, "ToR.docx", data, kind="tor", language="fr", internal=True, title="  Terms  ")
    assert (doc.title, doc.kind, doc.language, doc.internal) == ("Terms", "tor", "fr", True)
    assert "Scope: three regions." in doc.text and "Relevance\tIs it needed?" in doc.text


def test_other_known_kinds_are_stored_without_text(media, eo, evaluation):
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    doc = attach(eo, evaluation, "annex.xlsx", out.getvalue(), kind="annex")
    assert doc.text == "" and doc.content_type.endswith("spreadsheetml.sheet")


def _zip(member: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(member, "<x/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("setup.exe", b"MZ\x90\x00", "only DOC, DOCX, ODT, PDF, PPTX, XLS, XLSX files are taken"),
        ("report", b"%PDF-1.7", "only DOC"),
        ("report.pdf", b"<html>not a pdf</html>", "is not a PDF file, whatever its name says"),
        ("report.docx", _zip("xl/workbook.xml"), "is not a Word file"),
        ("report.docx", b"PK\x03\x04 broken", "is damaged"),
        ("report.pdf", b"%PDF-1.4 but nothing else", "cannot be opened as a PDF"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_files_that_are_not_what_they_say_are_refused_and_nothing_is_written(media, eo, evaluation, name, data, message):
    with pytest.raises(ValidationError) as exc:
        attach(eo, evaluation, name, data)
    assert message in " ".join(exc.value.messages) and name in " ".join(exc.value.messages)
    assert not EvaluationDocument.objects.exists() and not ChangeRecord.objects.exists() and not stored_files(media)


def test_a_file_over_the_limit_is_refused(media, eo, evaluation, settings):
    settings.DOCUMENT_MAX_MB = 1
    with pytest.raises(ValidationError, match="at most 1 MB"):
        attach(eo, evaluation, "big.pdf", b"%PDF-" + b"0" * (1024 * 1024))
    assert not stored_files(media)


def test_a_link_document(media, eo, evaluation):
    doc = documents.add_document(eo, evaluation, kind="report", title="", language="es", internal=False, url="https://gate.example.org/r/1")
    assert (doc.title, doc.file.name, doc.url) == ("https://gate.example.org/r/1", "", "https://gate.example.org/r/1")
    for url in ("javascript:alert(1)", "ftp://x.example.org/a"):
        with pytest.raises(ValidationError, match="web address"):
            documents.add_document(eo, evaluation, kind="report", title="x", language="en", internal=False, url=url)
    with pytest.raises(ValidationError, match="Choose a file"):
        documents.add_document(eo, evaluation, kind="report", title="x", language="en", internal=False)


def test_only_the_evaluation_office_in_scope_attaches_and_removes(media, evaluation):
    eo = Actor(user=User.objects.create(username="eo-all"))
    RoleAssignment.objects.create(user=eo.user, role=Role.EVALUATION_OFFICE)
    doc = attach(eo, evaluation, "r.pdf", make_pdf("Text."))
    for name, role, scope in (("focal", Role.OFFICE_FOCAL_POINT, {"office": evaluation.office}), ("other", Role.EVALUATION_OFFICE,
                              {"office": make_office("Elsewhere")}), ("viewer", Role.VIEWER, {})):
        user = User.objects.create(username=name)
        RoleAssignment.objects.create(user=user, role=role, **scope)
        with pytest.raises(PermissionDenied):
            attach(Actor(user=user), evaluation, "r.pdf", make_pdf("Text."))
        with pytest.raises(PermissionDenied):
            documents.delete_document(Actor(user=user), doc)
    assert EvaluationDocument.objects.count() == 1 and len(stored_files(media)) == 1


def test_removing_a_document_removes_its_file_once_committed_and_keeps_the_history(media, eo, evaluation, django_capture_on_commit_callbacks):
    doc = attach(eo, evaluation, "r.pdf", make_pdf("Text."))
    with django_capture_on_commit_callbacks(execute=True):
        documents.delete_document(eo, doc)
    assert not EvaluationDocument.objects.exists() and not stored_files(media)
    deleted = ChangeRecord.objects.get(action="delete")
    assert deleted.evaluation_id == evaluation.pk and deleted.before["original_name"] == "r.pdf"


def test_who_reads_which_document(media, eo):
    office = make_office("Office R")
    approved = make_evaluation(office, title="Approved one", status="Approved")
    draft = make_evaluation(office, title="Draft one", status="Draft")
    public = attach(eo, approved, "public.pdf", make_pdf("P."))
    internal = attach(eo, approved, "internal.pdf", make_pdf("I."), internal=True)
    drafted = attach(eo, draft, "draft.pdf", make_pdf("D."))
    focal = User.objects.create(username="focal-r")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    outsider = User.objects.create(username="focal-x")
    RoleAssignment.objects.create(user=outsider, role=Role.OFFICE_FOCAL_POINT, office=make_office("Office X"))
    assert set(restrict(None, EvaluationDocument)) == {public}
    assert set(restrict(User.objects.create(username="norole"), EvaluationDocument)) == {public}
    assert set(restrict(focal, EvaluationDocument)) == {public, internal, drafted}
    assert set(restrict(outsider, EvaluationDocument)) == {public, internal}
