"""The public portal: home, browsing by region and office, evaluations, key actions.

Anyone may read these; what they show comes from `tracking.queries`, so the
public sees approved responses only and people with a role see everything.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from tracking import permissions, queries
from tracking.models import Office, OfficeType, Recommendation, Region, Term
from tracking.models.responses import ActionStatus, Category, ResponseStatus, today

PAGE_SIZE = 50


def _choices(request) -> dict:
    """The values the filter forms offer."""
    return {
        "regions": Region.objects.order_by("position", "name"),
        "office_types": OfficeType.objects.order_by("position"),
        "categories": Category.values,
        "statuses": ActionStatus.values,
        "response_statuses": ResponseStatus.values,
        "thematic_areas": Term.objects.filter(kind=Term.Kind.THEMATIC_AREA).order_by("position", "name"),
        "internal": queries.is_internal(request.user),
    }


def home(request):
    evaluations = queries.visible_evaluations(request.user)
    actions = queries.visible_actions(request.user)
    figures = queries.status_figures(actions)
    updates = (
        queries.visible_updates(request.user)
        .select_related("key_action__evaluation__office", "key_action__evaluation__plan", "key_action__recommendation")
        .order_by("-created_at", "-id")[:10]
    )
    return render(
        request,
        "web/home.html",
        {
            "n_evaluations": evaluations.count(),
            "n_recommendations": Recommendation.objects.filter(evaluation__in=evaluations).count(),
            "figures": figures,
            "updates": updates,
            "nav": "home",
        },
    )


def region_list(request):
    return render(request, "web/region_list.html", {"regions": queries.regions_with_counts(request.user), "nav": "browse"})


def region_detail(request, slug: str):
    region = get_object_or_404(Region, slug=slug)
    offices = queries.offices_with_counts(request.user, region)
    return render(request, "web/region_detail.html", {"region": region, "offices": offices, "nav": "browse"})


def office_detail(request, slug: str):
    office = get_object_or_404(Office.objects.select_related("type", "region"), slug=slug)
    evaluations = queries.with_counts(
        queries.visible_evaluations(request.user)
        .filter(office=office)
        .select_related("office", "plan", "management_response")
        .order_by("-plan__start_year", "-plan__end_year", "title")
    )
    plans: dict = {}
    for ev in evaluations:
        plans.setdefault(ev.plan, []).append(ev)
    actions = queries.visible_actions(request.user).filter(evaluation__office=office)
    return render(
        request,
        "web/office_detail.html",
        {
            "office": office,
            "plans": plans,
            "figures": queries.status_figures(actions),
            "scope": {"office": office.pk},
            "nav": "browse",
        },
    )


def evaluation_list(request):
    filters = queries.Filters.from_query(request.GET)
    qs = filters.evaluations(queries.visible_evaluations(request.user))
    qs = queries.with_counts(
        qs.select_related("office__type", "plan", "management_response").order_by("-year", "title", "pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    offices = Office.objects.filter(pk__in=queries.visible_evaluations(request.user).values("office_id")).order_by("name")
    return render(
        request,
        "web/evaluation_list.html",
        {"page": page, "filters": filters, "offices": offices, "nav": "evaluations", **_choices(request)},
    )


def evaluation_detail(request, pk: int):
    evaluation = get_object_or_404(queries.evaluation_page(queries.visible_evaluations(request.user)), pk=pk)
    response = getattr(evaluation, "management_response", None)
    actor = request.actor
    return render(
        request,
        "web/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "response": response,
            "recommendations": evaluation.recommendations.all(),
            "today": today(),
            "may_edit": response is not None and permissions.can(actor, permissions.EDIT_RESPONSE, response),
            "may_review": response is not None and permissions.can(actor, permissions.REVIEW_RESPONSE, response),
            "may_view_history": permissions.can(actor, permissions.VIEW_INTERNAL),
            "access": permissions.Access.of(request.user),
            "nav": "evaluations",
        },
    )


def action_list(request):
    """Key actions across evaluations, filterable; every figure drills down to here."""
    filters = queries.Filters.from_query(request.GET)
    qs = filters.actions(queries.visible_actions(request.user))
    total = qs.count()
    rows, cursor = queries.seek(queries.action_list(qs), request.GET.get("after"), PAGE_SIZE)
    offices = Office.objects.filter(pk__in=queries.visible_evaluations(request.user).values("office_id")).order_by("name")
    return render(
        request,
        "web/action_list.html",
        {
            "actions": rows,
            "total": total,
            "cursor": cursor,
            "first_page": not request.GET.get("after"),
            "filters": filters,
            "offices": offices,
            "today": today(),
            "nav": "actions",
            **_choices(request),
        },
    )
