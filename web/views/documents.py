"""An evaluation's documents: uploaded and removed by the evaluation office, downloaded by their readers.

Found through `restrict` (a document of an evaluation its reader may not read,
or an internal one for the public, is not found: 404); changes go through
`tracking.services.documents`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from tracking import permissions
from tracking.models import Evaluation, EvaluationDocument
from tracking.permissions import restrict
from tracking.services import documents

from ..forms import DocumentForm


@login_required
@require_POST
def document_add(request, pk: int):
    evaluation = get_object_or_404(restrict(request.user, Evaluation).select_related("office"), pk=pk)
    if not permissions.can(request.actor, permissions.MANAGE_EVALUATIONS, evaluation):
        raise PermissionDenied("You may not attach documents to this evaluation.")
    form = DocumentForm(request.POST, request.FILES, max_bytes=documents.max_bytes())
    if not form.is_valid():
        messages.error(request, "The document was not attached: " + " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(f"{evaluation.get_absolute_url()}#documents")
    data = form.cleaned_data
    upload = data["file"]
    try:
        document = documents.add_document(
            request.actor,
            evaluation,
            kind=data["kind"],
            title=data["title"],
            language=data["language"],
            internal=data["internal"],
            file_name=upload.name if upload else "",
            data=upload.read() if upload else None,
            url=data["url"],
        )
    except ValidationError as exc:
        messages.error(request, "The document was not attached: " + " ".join(exc.messages))
    else:
        messages.success(request, f"“{document.title}” attached{' (internal)' if document.internal else ''}.")
    return redirect(f"{evaluation.get_absolute_url()}#documents")


@login_required
@require_POST
def document_delete(request, pk: int):
    document = get_object_or_404(restrict(request.user, EvaluationDocument).select_related("evaluation__office"), pk=pk)
    if not permissions.can(request.actor, permissions.MANAGE_EVALUATIONS, document.evaluation):
        raise PermissionDenied("You may not remove this evaluation's documents.")
    documents.delete_document(request.actor, document)
    messages.success(request, f"“{document.title}” removed (kept in the history).")
    return redirect(f"{document.evaluation.get_absolute_url()}#documents")


def document_download(request, pk: int):
    """The file by the name it was uploaded with, for those who may read it; a link document goes to its link."""
    document = get_object_or_404(restrict(request.user, EvaluationDocument), pk=pk)
    if not document.file:
        if document.url.startswith(("https://", "http://")):
            return HttpResponseRedirect(document.url)
        raise Http404("This document has no file.")
    name = document.original_name or f"document{document.pk}"
    return FileResponse(
        document.file.open("rb"), as_attachment=True, filename=name, content_type=document.content_type or "application/octet-stream"
    )
