"""The audit trail: every change, who made it, before and after. Read-only, exportable."""

from __future__ import annotations

import csv
import json

from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render

from reports.exports import escape_formula
from tracking import permissions, queries
from tracking.models import ChangeRecord

from .drafting import _require

PAGE_SIZE = 100
COLUMNS = ["time", "user", "source", "action", "record", "object_id", "evaluation_id", "changed", "before", "after", "message", "request_id"]


def _rows(records):
    for c in records.iterator(chunk_size=1000):
        yield [
            c.time.isoformat(),
            c.user_name,
            c.source,
            c.action,
            f"{c.content_type.model}: {c.object_repr}",
            c.object_id,
            c.evaluation_id or "",
            ", ".join(k for k, _, _ in c.changed_fields()),
            json.dumps(c.before, ensure_ascii=False) if c.before is not None else "",
            json.dumps(c.after, ensure_ascii=False) if c.after is not None else "",
            c.message,
            str(c.request_id or ""),
        ]


class _Echo:
    def write(self, value):
        return value


def _export(records, fmt: str, name: str):
    records = records.select_related("content_type").order_by("time", "id")
    if fmt == "json":
        data = [dict(zip(COLUMNS, row)) for row in _rows(records)]
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=1), content_type="application/json")
    else:
        writer = csv.writer(_Echo())
        lines = (writer.writerow([escape_formula(v) for v in row]) for row in [COLUMNS, *_rows(records)])
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def evaluation_history(request, pk: int):
    _require(request, permissions.VIEW_INTERNAL)
    evaluation = get_object_or_404(queries.visible_evaluations(request.user), pk=pk)
    records = ChangeRecord.objects.filter(evaluation_id=evaluation.pk)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        return _export(records, fmt, f"history-evaluation-{evaluation.pk}")
    page = Paginator(records.select_related("content_type").order_by("-time", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/history.html", {"page": page, "evaluation": evaluation, "nav": "evaluations"})


def history_list(request):
    _require(request, permissions.VIEW_INTERNAL)
    records = ChangeRecord.objects.all()
    user = request.GET.get("user", "").strip()
    action = request.GET.get("action", "").strip()
    if user:
        records = records.filter(user_name__icontains=user)
    if action in ChangeRecord.Action.values:
        records = records.filter(action=action)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        return _export(records, fmt, "history")
    page = Paginator(records.select_related("content_type").order_by("-time", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/history.html",
        {"page": page, "user_filter": user, "action_filter": action, "actions": ChangeRecord.Action.choices, "nav": "history"},
    )
