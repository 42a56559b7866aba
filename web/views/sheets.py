"""Importing a spreadsheet: upload, preview (nothing written), confirm (written once).

The upload is kept on the server under a generated name (tracking/services/sheets.py);
the pages pass only that name. Each step redirects to the preview page (post,
redirect, get): Back or a second click on Confirm shows the result, never imports twice.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tracking.services import sheets

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(request) -> None:
    if not sheets.may_import(request.actor):
        raise PermissionDenied("You may not import spreadsheets: the evaluation office imports them.")


def _pending(request, token: str) -> sheets.Pending:
    try:
        return sheets.pending(request.actor, token)
    except sheets.PendingGone as exc:
        raise Http404(str(exc)) from None


@login_required
def sheet_import(request):
    _require(request)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a spreadsheet (.xlsx or .csv) to import.")
            return redirect("web:sheet_import")
        if upload.size > sheets.MAX_BYTES:
            messages.error(request, f"{upload.name}: the file is larger than {sheets.MAX_BYTES // 1048576} MB; split it.")
            return redirect("web:sheet_import")
        try:
            item = sheets.keep_upload(request.actor, upload.read(), upload.name)
        except sheets.SheetError as exc:
            messages.error(request, " ".join(exc.errors))
            return redirect("web:sheet_import")
        return redirect("web:sheet_preview", token=item.token)
    return render(request, "web/sheet_import.html", {"max_mb": sheets.MAX_BYTES // 1048576, "max_rows": sheets.MAX_ROWS, "nav": "workspace"})


@login_required
def sheet_preview(request, token: str):
    _require(request)
    item = _pending(request, token)
    result = None
    if item.state == "pending":
        try:
            result = sheets.preview(request.actor, item)
        except sheets.PendingGone as exc:
            raise Http404(str(exc)) from None
    return render(request, "web/sheet_preview.html", {"item": item, "result": result, "nav": "workspace"})


@login_required
@require_POST
def sheet_confirm(request, token: str):
    _require(request)
    item = _pending(request, token)
    if item.state == "pending":
        try:
            item = sheets.confirm(request.actor, item)
        except sheets.PendingGone as exc:
            raise Http404(str(exc)) from None
        if item.state == "done":
            messages.success(request, item.summary[0])
        elif not item.ok:
            messages.error(request, "Nothing was imported: " + item.summary[0])
    else:
        messages.info(request, "This file was imported already; it was not imported again.")
    return redirect("web:sheet_preview", token=item.token)


@login_required
def sheet_template(request):
    _require(request)
    out = io.BytesIO()
    sheets.template_xlsx(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="followthrough-import-template.xlsx"'
    return response
