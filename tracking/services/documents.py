"""Documents of an evaluation (report, terms of reference, management response, annexes): uploaded, listed, removed.

Only known kinds of file are taken (PDF, Word, Excel, PowerPoint,
OpenDocument), checked by their content as well as their name, up to
`DOCUMENT_MAX_MB`. A file is stored under a generated name (the name it was
uploaded with is kept to show and to download it by, never in a path). The
text of PDF and DOCX files is extracted into `EvaluationDocument.text` for
search. The evaluation office (in scope) uploads and removes; every change is
recorded in the evaluation's history. Who may read a document is decided by
`tracking.permissions.restrict` (the evaluation's readers; internal documents:
people with a role).
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction

from .. import permissions
from ..actor import Actor
from ..models import ChangeRecord, Evaluation, EvaluationDocument
from . import history

log = logging.getLogger(__name__)

ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, .ppt
TEXT_LIMIT = 2_000_000  # characters of extracted text kept (a long report is far below)


@dataclass(frozen=True)
class FileKind:
    label: str
    content_type: str
    magic: bytes
    member: str = ""  # a file a ZIP-based format must hold


KINDS = {
    ".pdf": FileKind("PDF", "application/pdf", b"%PDF-"),
    ".docx": FileKind("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP, "word/document.xml"),
    ".xlsx": FileKind("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP, "xl/workbook.xml"),
    ".pptx": FileKind("PowerPoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP, "ppt/presentation.xml"),
    ".odt": FileKind("OpenDocument text", "application/vnd.oasis.opendocument.text", ZIP, "content.xml"),
    ".doc": FileKind("Word 97-2003", "application/msword", OLE),
    ".xls": FileKind("Excel 97-2003", "application/vnd.ms-excel", OLE),
}


def allowed_types() -> str:
    return ", ".join(sorted({k.lstrip(".").upper() for k in KINDS}))


def max_bytes() -> int:
    return settings.DOCUMENT_MAX_MB * 1024 * 1024


def _check_file(name: str, data: bytes) -> FileKind:
    suffix = PurePath(name).suffix.lower()
    kind = KINDS.get(suffix)
    if kind is None:
        raise ValidationError({"file": [f"“{name}”: only {allowed_types()} files are taken."]})
    if len(data) > max_bytes():
        raise ValidationError({"file": [f"“{name}” is {len(data) / 1024 / 1024:.1f} MB: at most {settings.DOCUMENT_MAX_MB} MB."]})
    if not data:
        raise ValidationError({"file": [f"“{name}” is empty."]})
    if not data.startswith(kind.magic):
        raise ValidationError({"file": [f"“{name}” is not a {kind.label} file, whatever its name says."]})
    if kind.member:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if kind.member not in z.namelist():
                    raise ValidationError({"file": [f"“{name}” is not a {kind.label} file, whatever its name says."]})
        except zipfile.BadZipFile:
            raise ValidationError({"file": [f"“{name}” is damaged: it cannot be opened as a {kind.label} file."]}) from None
    return kind


def extract_text(suffix: str, data: bytes) -> str:
    """The text of a PDF or DOCX file ("" for other kinds). Raises ValueError for a file that cannot be read."""
    if suffix == ".pdf":
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise ValueError(f"it cannot be opened as a PDF ({exc})") from None
        parts, size = [], 0
        try:
            for page in pdf:
                text = page.get_textpage().get_text_range()
                parts.append(text)
                size += len(text)
                if size > TEXT_LIMIT:
                    break
        finally:
            pdf.close()
        return "\n".join(parts).replace("\r\n", "\n")[:TEXT_LIMIT]
    if suffix == ".docx":
        import docx

        try:
            document = docx.Document(io.BytesIO(data))
        except Exception as exc:  # python-docx raises several kinds for a damaged file
            raise ValueError(f"it cannot be opened as a Word document ({exc.__class__.__name__})") from None
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append("\t".join(cell.text for cell in row.cells))
        return "\n".join(p for p in parts if p.strip())[:TEXT_LIMIT]
    return ""


def add_document(
    actor: Actor,
    evaluation: Evaluation,
    *,
    kind: str,
    title: str,
    language: str,
    internal: bool,
    file_name: str = "",
    data: bytes | None = None,
    url: str = "",
) -> EvaluationDocument:
    """A file (`file_name`, `data`) or a link (`url`) attached to the evaluation."""
    title = title.strip()
    url = url.strip()
    errors: dict[str, list[str]] = {}
    if kind not in EvaluationDocument.Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(EvaluationDocument.Kind.labels)}."]
    if language not in EvaluationDocument.Language.values:
        errors["language"] = [f"Choose one of: {', '.join(EvaluationDocument.Language.labels)}."]
    if data is None and not url:
        errors["file"] = ["Choose a file, or give a link."]
    if data is not None and url:
        errors["url"] = ["A file or a link, not both."]
    if url and data is None:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["url"] = ["Give a web address (https://…)."]
    if errors:
        raise ValidationError(errors)
    permissions.require(actor, permissions.MANAGE_EVALUATIONS, evaluation)
    document = EvaluationDocument(
        evaluation=evaluation, kind=kind, language=language, internal=internal, url=url if data is None else "",
        uploaded_by=actor.user if actor.is_authenticated else None,
    )
    if data is not None:
        file_kind = _check_file(file_name, data)
        suffix = PurePath(file_name).suffix.lower()
        try:
            document.text = extract_text(suffix, data)
        except ValueError as exc:
            raise ValidationError({"file": [f"“{file_name}”: {exc}."]}) from None
        document.original_name = PurePath(file_name.replace("\\", "/")).name[:255]
        document.content_type = file_kind.content_type
        document.size = len(data)
    document.title = title or document.original_name or url
    if not document.title:
        raise ValidationError({"title": ["Give the document a title."]})
    document.title = document.title[:300]
    stored = ""
    try:
        with transaction.atomic():
            current = Evaluation.objects.select_for_update(of=("self",)).get(pk=evaluation.pk)
            permissions.require(actor, permissions.MANAGE_EVALUATIONS, current)
            if data is not None:
                # Under a generated name (EvaluationDocument.file's upload_to), before the row that names it.
                document.file.save(file_name, ContentFile(data), save=False)
                stored = document.file.name
            document.save()
            after = history.snapshot(document, exclude=("text", "uploaded_at"))
            history.write([history.change(actor, ChangeRecord.Action.CREATE, document, after=after, evaluation_id=current.pk)])
    except BaseException:
        if stored:
            document.file.storage.delete(stored)  # nothing half-written: no file without its row
        raise
    return document


def delete_document(actor: Actor, document: EvaluationDocument) -> None:
    with transaction.atomic():
        current = EvaluationDocument.objects.select_for_update(of=("self",)).select_related("evaluation__office").get(pk=document.pk)
        permissions.require(actor, permissions.MANAGE_EVALUATIONS, current.evaluation)
        before = history.snapshot(current, exclude=("text", "uploaded_at"))
        stored, storage = current.file.name, current.file.storage
        evaluation_id = current.evaluation_id
        current.delete()
        history.write([history.change(actor, ChangeRecord.Action.DELETE, document, before=before, evaluation_id=evaluation_id)])
        if stored:
            # The file goes once the deletion is committed (a rollback keeps both).
            transaction.on_commit(lambda: storage.delete(stored))
