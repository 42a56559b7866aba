"""Dashboards, the annual report and exports: thin views over `reports` and `tracking.queries`.

Every figure and export starts from `tracking.permissions.restrict`: the
public's are on approved responses, each role's on what it reads. Every
figure links to the key actions behind it.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from reports import annual, charts, exports, figures, pdf, tables
from tracking import params, queries
from tracking.models import (
    ActionUpdate,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Office,
    OfficeType,
    Recommendation,
    Region,
    Term,
)
from tracking.models.responses import today
from tracking.permissions import reader_scope, restrict

from .. import caching, throttle
from ..caching import cached_page, public_page

CHART_ROWS = 12
SCOPE_PARAMS = ("region", "office", "office_type", "year", "category", "thematic_area", "term", "response_status")


def _scope(request) -> dict[str, str]:
    """The filters that define the scope of the figures (kept in every drill-down link)."""
    return {k: request.GET[k] for k in SCOPE_PARAMS if request.GET.get(k, "").strip()}


def _weeks(request) -> int:
    from django.conf import settings

    return params.integer(request.GET, "weeks", low=1, high=104) or settings.RESPONSE_WEEKS


def _scope_label(filters: queries.Filters) -> str:
    parts = []
    if filters.region:
        parts.append(Region.objects.filter(pk=filters.region).values_list("name", flat=True).first() or "")
    if filters.office:
        parts.append(Office.objects.filter(pk=filters.office).values_list("name", flat=True).first() or "")
    if filters.office_type:
        parts.append(f"office type {filters.office_type}")
    return ", ".join(p for p in parts if p) or "All offices"


def _filter_choices(request) -> dict:
    return {
        "regions": Region.objects.order_by("position", "name"),
        "offices": queries.offices_read(request.user),
        "office_types": OfficeType.objects.order_by("position"),
        "thematic_areas": Term.objects.filter(kind=Term.Kind.THEMATIC_AREA).order_by("position", "name"),
    }


@public_page
def dashboard(request):
    # Kept until anything changes: besides the kept counts it shows what they do not follow
    # (verification, first deadlines, outcomes, plans).
    return cached_page(
        request, "Dashboard", "dashboard", "dashboard", (_weeks(request),), "web/dashboard_body.html", lambda: _dashboard(request),
        slow=True,
    )


def _dashboard(request) -> dict:
    filters = queries.Filters.from_query(request.GET)
    on = today()
    actions = filters.actions(restrict(request.user, KeyAction), on)
    readable = restrict(request.user, Evaluation)
    evaluations = filters.evaluations(readable)
    weeks = _weeks(request)
    source = figures.Source.of(request.user, filters, actions)
    if source.tallied:
        # Every figure from the kept counts: no pass over the key actions.
        total = source.totals(on)
        closure = source.closure(on.year)
        completed = {"completed": total.by_status.get(figures.COMPLETED, 0)}
    else:
        # Counted from the key actions, every figure they give in one pass (the outcome questions apart,
        # `figures.outcomes`).
        scan = (
            figures.Scan(actions)
            .add("totals", source.row_aggregates(on))
            .add("closure", figures.closure_aggregates(on.year))
            .add("outcomes", figures.outcome_aggregates())
        )
        total = source.totals(on, row=scan["totals"])
        closure = figures.Closure(year=on.year, **scan["closure"])
        completed = scan["outcomes"]
    sections = []
    tables = source.breakdowns(list(figures.BREAKDOWNS), on)
    for key, b in figures.BREAKDOWNS.items():
        if key == "year":
            continue
        rows = tables[key]
        top = rows[:CHART_ROWS]
        sections.append(
            {
                "breakdown": b,
                "rows": rows,
                "status_chart": charts.stacked_bars(
                    [(f.label, f.status_segments()) for f in top], f"Key actions by status and {b.label.lower()}"
                ),
                "rate_chart": charts.bar_chart(
                    [(f.label, f.rate_due) for f in top], f"Implementation rate (due) by {b.label.lower()}", percent=True
                ),
                "more": len(rows) - len(top),
            }
        )
    years = tables["year"]
    trend = {
        "rows": years,
        "breakdown": figures.BREAKDOWNS["year"],
        "line": charts.line_chart(
            [
                charts.Series("Implementation rate (due)", [(f.key, f.rate_due) for f in years if f.key]),
                charts.Series("Implementation rate (all)", [(f.key, f.rate_all) for f in years if f.key]),
            ],
            "Implementation rates by evaluation year",
        ),
        "bars": charts.stacked_bars([(f.label, f.status_segments()) for f in years], "Key actions by status and evaluation year"),
    }
    responses = restrict(request.user, ManagementResponse)
    if evaluations is not readable:
        # Narrowed by a filter of the evaluations. Else the responses read are those of the evaluations read already
        # (a response is read through its evaluation's rules): asking again cost half the count's time (L: 26 -> 16 ms).
        responses = responses.filter(evaluation__in=evaluations)
    plan_year = filters.year or on.year
    return (
        {
            "filters": filters,
            "scope": _scope(request),
            "scope_label": _scope_label(filters),
            "total": total,
            "status_chart": charts.bar_chart(
                [(s, n) for s, n in total.status_segments()], "Key actions by status"
            ),
            "sections": sections,
            "trend": trend,
            "timeliness": figures.timeliness(responses, weeks),
            # The plans running in the year shown (each office's earlier plans are on its page): at L the
            # offices have thousands of plans between them, too many for one page.
            "plans": figures.plan_compliance(evaluations.filter(plan__start_year__lte=plan_year, plan__end_year__gte=plan_year), weeks),
            "plan_year": plan_year,
            "closure": closure,
            "outcomes": figures.outcomes(actions, request.user, row=completed),
            "weeks": weeks,
            "today": on,
            **_filter_choices(request),
        }
    )


def annual_report(request):
    on = today()
    year = params.integer(request.GET, "year", low=1990, high=2100, expected="a year from 1990 to 2100") or on.year - 1
    filters = queries.Filters.from_query(request.GET)
    filters.year = None  # the report's year is not an evaluation-year filter on its actions

    def context() -> dict:
        actions = filters.actions(restrict(request.user, KeyAction), on)
        evaluations = filters.evaluations(restrict(request.user, Evaluation))
        report = annual.build(
            year, evaluations, figures.Source.of(request.user, filters, actions), reader=reader_scope(request.user),
            scope=_scope_label(filters), on=on, weeks=_weeks(request),
            listed=filters.actions(restrict(request.user, KeyAction, per_row=True), on),
        )
        return {"report": report, "charts": report.charts(), "today": on}

    if request.GET.get("format") == "pdf":
        parts = (request.get_full_path(), reader_scope(request.user).key, on, queries.data_version())

        def render() -> bytes:
            # Figures over every key action, planned for the year and scope asked, as the slow page's (web/caching.py).
            with queries.planned_for_their_values():
                return pdf.render_pdf("reports/annual_pdf.html", context())

        return _pdf_response(request, parts, render, f"annual-report-{year}-{slugify(_scope_label(filters))}.pdf")
    scope = _scope(request)
    scope.pop("year", None)

    def page() -> dict:
        return {**context(), "year": year, "filters": filters, "scope": scope, **_filter_choices(request)}

    # Seconds to compute at L, as the dashboard: kept per data version, shown with its time while a
    # job worker computes the new one after a change.
    return cached_page(
        request, f"Annual report {year}", "dashboard", "annual", (_weeks(request),), "web/annual_report_body.html", page, slow=True,
    )


# --- exports of lists --------------------------------------------------------------------------


def _table(kind: str, request) -> tables.Table:
    filters = queries.Filters.from_query(request.GET)
    on = today()
    if kind == "evaluations":
        return tables.evaluations_table(filters.evaluations(restrict(request.user, Evaluation)))
    if kind == "recommendations":
        evaluations = filters.evaluations(restrict(request.user, Evaluation))
        recs = restrict(request.user, Recommendation).filter(evaluation__in=evaluations)
        if filters.category:
            recs = recs.filter(category=filters.category)
        return tables.recommendations_table(recs)
    if kind == "key-actions":
        return tables.key_actions_table(filters.actions(restrict(request.user, KeyAction), on), on)
    if kind == "updates":
        actions = filters.actions(restrict(request.user, KeyAction), on)
        updates = restrict(request.user, ActionUpdate).filter(key_action__in=actions)
        return tables.updates_table(updates, internal=reader_scope(request.user).internal)
    raise Http404("Nothing to export by that name.")


def export_list(request, kind: str, fmt: str):
    table = _table(kind, request)
    name = f"{table.name}-{dt.date.today().isoformat()}"
    if fmt == "csv":
        response = StreamingHttpResponse(tables.csv_lines(table), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = StreamingHttpResponse(tables.json_lines(table), content_type="application/json")
    elif fmt == "xlsx":
        # Spooled: small files stay in memory, big ones go to disk, never all rows in memory.
        out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
        tables.write_xlsx(table, out)
        out.seek(0)
        response = FileResponse(
            out, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        raise Http404("Unknown format.")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def export_evaluation(request, pk: int, fmt: str):
    """A whole evaluation: GATE text, JSON (the samples' shape) or PDF."""
    evaluation = get_object_or_404(queries.evaluation_page(restrict(request.user, Evaluation)), pk=pk)
    name = f"evaluation-{evaluation.pk}"
    if fmt == "txt":
        response = HttpResponse(exports.gate_text(evaluation), content_type="text/plain; charset=utf-8")
    elif fmt == "json":
        from reports.documents import to_document

        data = exports.document_json(evaluation, to_document(evaluation))
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json")
    elif fmt == "pdf":
        on = today()
        parts = (evaluation.pk, queries.evaluation_version(evaluation.pk), reader_scope(request.user).key, on)
        return _pdf_response(
            request,
            parts,
            lambda: pdf.render_pdf(
                "reports/evaluation_pdf.html",
                {
                    "evaluation": evaluation,
                    "response": getattr(evaluation, "management_response", None),
                    "recommendations": evaluation.recommendations.all(),
                    "today": on,
                },
            ),
            f"{name}.pdf",
        )
    else:
        raise Http404("Unknown format.")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _pdf_response(request, parts: tuple, render, filename: str) -> HttpResponse:
    """A PDF laid out once per data version and reader scope; renders throttled per address, bounded in time.

    A document in the cache costs nothing and is never throttled; laying one
    out costs seconds of CPU, so each address may ask for PDF_RENDERS_PER_MINUTE
    of them a minute (429 with Retry-After past it).
    """
    data = caching.lookup("pdf", parts)
    if data is None:
        seconds = throttle.wait(request, "pdf", throttle.pdf_limit(), throttle.pdf_window())
        if seconds:
            return throttle.too_many(seconds, "printed documents")
        try:
            data = render()
        except pdf.PdfTooSlow:
            response = HttpResponse(
                "This document takes too long to print: export it as GATE text or JSON instead.\n",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = "600"
            return response
        caching.store("pdf", parts, data)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
