"""The audit trail: every change, who made it, before and after. Read-only, exportable.

Each reader sees the records of what they read (`restrict(user, ChangeRecord)`):
an evaluation's records with the evaluation, reference data for any role,
accounts and role assignments for administrators only.
"""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from reports import tables
from tracking import params, permissions
from tracking.models import ChangeRecord, Evaluation, Office
from tracking.permissions import restrict

from .drafting import _require

PAGE_SIZE = 100
COLUMNS = tables.CHANGE_COLUMNS


def _export(records, fmt: str, name: str):
    table = tables.changes_table(records)
    if fmt == "json":
        response = StreamingHttpResponse(tables.json_lines(table), content_type="application/json")
    else:
        response = StreamingHttpResponse(tables.csv_lines(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def evaluation_history(request, pk: int):
    _require(request, permissions.VIEW_INTERNAL)
    evaluation = get_object_or_404(restrict(request.user, Evaluation), pk=pk)
    records = restrict(request.user, ChangeRecord).filter(evaluation_id=evaluation.pk)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        return _export(records, fmt, f"history-evaluation-{evaluation.pk}")
    page = Paginator(records.select_related("content_type").order_by("-time", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/history.html", {"page": page, "evaluation": evaluation, "nav": "evaluations"})


# What the record filter offers: the kinds of record people look for, by the names they use.
RECORDS = {
    "evaluation": ("Evaluations", "evaluation"),
    "plan": ("Evaluation plans", "evaluationplan"),
    "document": ("Evaluation documents", "evaluationdocument"),
    "response": ("Management responses", "managementresponse"),
    "recommendation": ("Recommendations", "recommendation"),
    "key-action": ("Key actions", "keyaction"),
    "progress": ("Progress updates", "actionupdate"),
    "deadline": ("Deadline revisions", "deadlinerevision"),
    "unit": ("Units", "unit"),
    "unit-alias": ("Other names of units", "unitalias"),
    "office": ("Offices", "office"),
    "role": ("Role assignments", "roleassignment"),
}


def history_list(request):
    _require(request, permissions.VIEW_INTERNAL)
    records = restrict(request.user, ChangeRecord)
    user = params.text(request.GET, "user", 150)
    action = params.text(request.GET, "action", 10)
    since, until = params.date(request.GET, "from"), params.date(request.GET, "to")
    record = params.choice(request.GET, "record", list(RECORDS))
    office = params.identifier(request.GET, "office")
    if user:
        records = records.filter(user_name__icontains=user)
    if action in ChangeRecord.Action.values:
        records = records.filter(action=action)
    if since or until:
        # Whole days in the reader's time zone.
        tz = timezone.get_current_timezone()
        if since:
            records = records.filter(time__gte=dt.datetime.combine(since, dt.time.min, tz))
        if until:
            records = records.filter(time__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tz))
    if record:
        records = records.filter(content_type__app_label="tracking", content_type__model=RECORDS[record][1])
    if office:
        records = records.filter(evaluation__office_id=office)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        return _export(records, fmt, "history")
    page = Paginator(records.select_related("content_type").order_by("-time", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/history.html",
        {
            "page": page, "user_filter": user, "action_filter": action, "actions": ChangeRecord.Action.choices,
            "since": since, "until": until, "record_filter": record, "records": [(k, label) for k, (label, _m) in RECORDS.items()],
            "office_filter": office, "offices": Office.objects.order_by("name").values_list("pk", "name"), "nav": "history",
        },
    )
