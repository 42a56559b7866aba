"""The public portal: home, browsing by region and office, evaluations, key actions.

Anyone may read these; what they show starts from `tracking.permissions.restrict`,
so the public reads approved responses only and each person with a role what
their roles read (see the table there).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from reports import figures
from reports.joint import group_ids
from tracking import permissions, queries
from tracking.models import (
    Evaluation,
    EvaluationDocument,
    EvaluationPlan,
    KeyAction,
    Office,
    OfficeType,
    Region,
    Term,
)
from tracking.models.responses import ActionStatus, Category, ResponseStatus, today
from tracking.permissions import reader_scope, restrict

from ..caching import cached, public_page
from ..caching import cached_page as _page
from ..forms import DocumentForm

PAGE_SIZE = 50
COUNT_LIMIT = 10_000


def capped_count(qs, limit: int = COUNT_LIMIT) -> tuple[int, bool]:
    """How many rows, counting no further than `limit` (past it, the exact number costs more than it tells)."""
    n = qs.order_by().values("pk")[: limit + 1].count()
    return min(n, limit), n > limit


def _choices(request) -> dict:
    """The values the filter forms offer."""
    return {
        "regions": Region.objects.order_by("position", "name"),
        "office_types": OfficeType.objects.order_by("position"),
        "categories": Category.values,
        "statuses": ActionStatus.values,
        "response_statuses": ResponseStatus.values,
        "thematic_areas": Term.objects.filter(kind=Term.Kind.THEMATIC_AREA).order_by("position", "name"),
        "evaluation_types": Evaluation.Type.choices,
        "qualities": Evaluation.Quality.choices,
        "internal": reader_scope(request.user).internal,
    }


def _offices_read(who):
    """The offices with an evaluation `who` reads (a filter's choices): for each office, the first such evaluation
    found in the office's index ends the look (listing every readable evaluation's office first cost 5 ms at L)."""
    return Office.objects.filter(Exists(restrict(who, Evaluation).filter(office=OuterRef("pk")))).order_by("name")


@public_page
def home(request):
    def context():
        return {
            # A joint evaluation is one evaluation, and its shared recommendations one each, however many
            # partners' records it has (each partner's key actions still count in its own office).
            "n_evaluations": queries.count_evaluations(request.user),
            "n_recommendations": queries.count_recommendations(request.user),
            "figures": queries.counted_status_figures(request.user),
            "updates": queries.recent_updates(request.user, 10),
        }

    return _page(request, "Home", "home", "home", (), "web/home_body.html", context, slow=True)


@public_page
def region_list(request):
    """Browse as GATE does: by region and headquarters unit, and more: by type and by report quality."""
    return _page(
        request, "Browse", "browse", "regions", (), "web/region_list_body.html",
        lambda: {
            "regions": list(queries.regions_with_counts(request.user)),
            "headquarters": list(queries.headquarters_with_counts(request.user)),
            "types": queries.evaluations_by(request.user, "type", Evaluation.Type.choices),
            "qualities": queries.evaluations_by(request.user, "quality", Evaluation.Quality.choices),
        },
    )


@public_page
def region_detail(request, slug: str):
    region = get_object_or_404(Region, slug=slug)
    return _page(
        request, region.name, "browse", "region", (region.pk,), "web/region_detail_body.html",
        lambda: {"region": region, "offices": list(queries.offices_with_counts(request.user, region))},
    )


def _office_version(request, slug: str):
    office_id = Office.objects.filter(slug=slug).values_list("pk", flat=True).first()
    return queries.office_version(office_id) if office_id else queries.data_version()


@public_page(version=_office_version)
def office_detail(request, slug: str):
    office = get_object_or_404(Office.objects.select_related("type", "region"), slug=slug)

    def context():
        evaluations = queries.with_counts(
            restrict(request.user, Evaluation)
            .filter(office=office)
            .select_related("plan", "management_response", "office")
            .order_by("-plan__start_year", "-plan__end_year", "title")
        )
        by_plan: dict = {}
        for ev in evaluations:
            by_plan.setdefault(ev.plan_id, []).append(ev)
        weeks = settings.RESPONSE_WEEKS
        compliance = {c.plan_id: c for c in figures.plan_compliance(restrict(request.user, Evaluation).filter(office=office), weeks)}
        # Every plan of the office (plans are public), with the evaluations its reader reads.
        plans = [
            (plan, by_plan.get(plan.pk, []), compliance.get(plan.pk))
            for plan in EvaluationPlan.objects.filter(office=office).order_by("-start_year", "-end_year")
        ]
        return {
            "office": office, "plans": plans, "weeks": weeks, "figures": queries.counted_status_figures(request.user, office), "scope": {"office": office.pk},
        }

    return _page(
        request, office.name, "browse", "office", (office.pk, settings.RESPONSE_WEEKS), "web/office_detail_body.html", context,
        version=lambda: queries.office_version(office.pk),
    )


@public_page
def evaluation_list(request):
    def context():
        filters = queries.Filters.from_query(request.GET)
        qs = queries.with_counts(
            filters.evaluations(restrict(request.user, Evaluation))
            .select_related("office__type", "plan", "management_response").order_by("-year", "title", "pk")
        )
        # Ids first: sorted whole, every evaluation's three counts were computed before the sort kept 50 (24 ms at L).
        page = queries.page_of(qs, request.GET.get("page"), PAGE_SIZE)
        offices = _offices_read(request.user)
        return {"page": page, "filters": filters, "offices": offices, **_choices(request)}

    return _page(request, "Evaluations", "evaluations", "evaluations", (), "web/evaluation_list_body.html", context)


@public_page(version=lambda request, pk: queries.evaluation_version(pk))
def evaluation_detail(request, pk: int):
    evaluation = get_object_or_404(
        restrict(request.user, Evaluation).select_related(
            "office__type", "office__region", "plan__office", "management_response"
        )
        # Whether it leads a joint evaluation, in the same query: most are not, and cost nothing more.
        .annotate(leads_partners=Exists(restrict(request.user, Evaluation).filter(joint_lead=OuterRef("pk")))),
        pk=pk,
    )
    response = getattr(evaluation, "management_response", None)
    actor = request.actor
    access = permissions.Access.of(request.user)
    reader = reader_scope(request.user)
    internal = reader.internal
    on = today()
    # Someone with progress to report here sees their own links: their body is theirs.
    personal = permissions.update_scope(actor).any_in(evaluation)

    def body() -> str:
        full = queries.evaluation_page(restrict(request.user, Evaluation).filter(pk=evaluation.pk)).get()
        return render_to_string(
            "web/includes/evaluation_body.html",
            {
                "evaluation": full,
                "recommendations": full.recommendations.all(),
                "today": on,
                "access": access if personal else None,
                "internal": internal,
            },
            request,
        )

    may_manage = permissions.can(actor, permissions.MANAGE_EVALUATIONS, evaluation)
    html = body() if personal else cached("evaluation", (evaluation.pk, queries.evaluation_version(evaluation.pk), on, reader.key), body)
    return render(
        request,
        "web/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "response": response,
            "body": html,
            "today": on,
            "may_edit": response is not None and permissions.can(actor, permissions.EDIT_RESPONSE, response),
            "may_review": response is not None and permissions.can(actor, permissions.REVIEW_RESPONSE, response),
            "may_view_history": permissions.can(actor, permissions.VIEW_INTERNAL),
            "may_rate": permissions.can(actor, permissions.MANAGE_EVALUATIONS, evaluation),
            "qualities": Evaluation.Quality.choices,
            "may_manage": may_manage,
            "documents": restrict(request.user, EvaluationDocument).filter(evaluation=evaluation).order_by("kind", "title", "pk"),
            # The other records of its joint evaluation that this reader reads (the public: approved ones).
            "joint_records": restrict(request.user, Evaluation).filter(group_ids(evaluation)).exclude(pk=evaluation.pk)
            .select_related("office", "management_response").order_by("office__name")
            if evaluation.joint_lead_id or evaluation.leads_partners else (),
            "document_form": DocumentForm() if may_manage else None,
            "document_max_mb": settings.DOCUMENT_MAX_MB,
            "nav": "evaluations",
        },
    )


@public_page
def action_list(request):
    """Key actions across evaluations, filterable; every figure drills down to here."""

    def context():
        filters = queries.Filters.from_query(request.GET)
        qs = filters.actions(restrict(request.user, KeyAction))
        total, more = capped_count(qs)
        rows, cursor = queries.seek(queries.action_list(qs), request.GET.get("after"), PAGE_SIZE)
        offices = _offices_read(request.user)
        return {
            "actions": rows,
            "total": total,
            "more_than_total": more,
            "cursor": cursor,
            "first_page": not request.GET.get("after"),
            "filters": filters,
            "offices": offices,
            "today": today(),
            **_choices(request),
        }

    return _page(request, "Key actions", "actions", "actions", (), "web/action_list_body.html", context)
