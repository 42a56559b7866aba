"""Portal pages: thin views over `tracking.queries` (what may be seen) and templates."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from tracking import queries
from tracking.models import Office

PAGE_SIZE = 50


def evaluation_list(request):
    qs = queries.visible_evaluations(request.user).select_related("office__type", "plan", "management_response")
    q = request.GET.get("q", "").strip()
    office = request.GET.get("office", "")
    year = request.GET.get("year", "")
    if q:
        qs = qs.filter(queries.search_filter(q))
    if office.isdigit():
        qs = qs.filter(office_id=int(office))
    if year.isdigit():
        qs = qs.filter(year=int(year))
    qs = queries.with_counts(qs.order_by("-year", "title", "pk"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    offices = Office.objects.filter(evaluations__in=queries.visible_evaluations(request.user)).distinct().order_by("name")
    return render(
        request,
        "web/evaluation_list.html",
        {"page": page, "q": q, "office": office, "year": year, "offices": offices, "nav": "evaluations"},
    )


def evaluation_detail(request, pk: int):
    evaluation = get_object_or_404(queries.evaluation_page(queries.visible_evaluations(request.user)), pk=pk)
    return render(
        request,
        "web/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "response": getattr(evaluation, "management_response", None),
            "recommendations": evaluation.recommendations.all(),
            "today": queries.today(),
            "nav": "evaluations",
        },
    )
