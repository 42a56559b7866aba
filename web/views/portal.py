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
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import mark_safe

from reports import figures
from reports.joint import group_ids
from tracking import permissions, queries
from tracking.models import (
    ActionUpdate,
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

from ..action_rows import VERIFICATION_BADGES, action_list_rows, evaluation_row
from ..caching import cached, public_page
from ..caching import cached_page as _page
from ..forms import DocumentForm
from ..paths import path_of as _path_of
from ..templatetags.followthrough import action_status_class
from . import evaluation_tables as tables

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


@public_page
def home(request):
    def context():
        # A joint evaluation is one evaluation, and its shared recommendations one each, however many
        # partners' records it has (each partner's key actions still count in its own office).
        n_evaluations, n_recommendations = queries.home_counts(request.user)
        return {
            "n_evaluations": n_evaluations,
            "n_recommendations": n_recommendations,
            "figures": queries.counted_status_figures(request.user),
            "updates": queries.recent_updates(request.user, 10),
        }

    # Kept counts and the latest updates: milliseconds, computed in the request after a change (not a slow page's
    # previous figures while a worker computes the new ones): a reader sees their update at once.
    return _page(request, "Home", "home", "home", (), "web/home_body.html", context)


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
        # Every plan of the office (plans are public), with the evaluations its reader reads.
        office_plans = list(EvaluationPlan.objects.filter(office=office).order_by("-start_year", "-end_year"))
        plan_of = {plan.pk: plan for plan in office_plans}
        evaluations = queries.with_counts(
            restrict(request.user, Evaluation)
            .filter(office=office)
            .select_related("management_response")
            # Only the columns the rows show: ~180 rows of every column of four tables (their dates converted one by
            # one) were most of the page's time in the ORM. The office and plans are this page's own, read once.
            .only("title", "plan_id", "office_id", "management_response__status")
            .order_by("-plan__start_year", "-plan__end_year", "title")
        )
        office_field, plan_field = Evaluation._meta.get_field("office"), Evaluation._meta.get_field("plan")
        by_plan: dict = {}
        for ev in evaluations:
            office_field.set_cached_value(ev, office)  # str() of an untitled evaluation names them
            plan_field.set_cached_value(ev, plan_of[ev.plan_id])
            by_plan.setdefault(ev.plan_id, []).append(ev)
        weeks = settings.RESPONSE_WEEKS
        compliance = {c.plan_id: c for c in figures.plan_compliance(restrict(request.user, Evaluation).filter(office=office), weeks)}
        evaluation_path, plan_path = _path_of("web:evaluation"), _path_of("web:plan")
        plans = tables.plan_sections(
            (
                plan,
                plan_path(plan.pk),
                tables.office_rows(by_plan.get(plan.pk, ()), evaluation_path),
                tables.plan_compliance(compliance[plan.pk], weeks) if plan.pk in compliance else "",
            )
            for plan in office_plans
        )
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
            # Only the columns the rows show: every column of four tables, their dates converted, cost more than the rows.
            .only("title", "year", "plan__start_year", "plan__end_year", "office__name", "office__type__code", "management_response__status")
        )
        # Ids first: sorted whole, every evaluation's three counts were computed before the sort kept 50 (24 ms at L).
        page = queries.page_of(qs, request.GET.get("page"), PAGE_SIZE)
        offices = queries.offices_read(request.user)
        rows = tables.list_rows(page, _path_of("web:evaluation"), reverse("web:actions"))
        return {"page": page, "rows": rows, "filters": filters, "offices": offices, **_choices(request)}

    return _page(request, "Evaluations", "evaluations", "evaluations", (), "web/evaluation_list_body.html", context)


def evaluation_body_html(request, pk: int, on, access, internal: bool) -> str:
    """The recommendations and key actions of an evaluation page (`access`: to offer the progress form, or None).

    ~40 key actions and ~120 updates at L: what each row shows is worked out here once, in plain Python, and the
    template only writes it out (a filter, an include or a {% url %} per row cost more than the SQL of the page).
    """
    full = queries.evaluation_page(restrict(request.user, Evaluation).filter(pk=pk), page=True, units=access is not None).get()
    action_path = _path_of("web:action")
    update_path = _path_of("web:action_update") if access is not None else None
    similar_path = _path_of("web:similar")
    evidence_path = _path_of("web:evidence")
    evaluation_field = KeyAction._meta.get_field("evaluation")
    recommendations = full.page_recommendations
    timelines = _timelines(request.user, [a.pk for rec in recommendations for a in rec.page_actions], internal)
    for rec in recommendations:
        kinds: dict[str, list] = {}
        for tag in rec.page_tags:
            kinds.setdefault(tag.term.kind, []).append(tag.term)
        rec.page_terms = [
            (label, kinds.get(kind, ()))
            for label, kind in (
                ("Operating principles", Term.Kind.OPERATING_PRINCIPLE),
                ("Organizational priorities", Term.Kind.ORGANIZATIONAL_PRIORITY),
                ("UNEG criteria", Term.Kind.UNEG_CRITERION),
            )
        ]
        rec.page_areas = kinds.get(Term.Kind.THEMATIC_AREA, ())
        rec.page_similar_url = similar_path(rec.pk)
        rows = []
        for a in rec.page_actions:
            evaluation_field.set_cached_value(a, full)  # the permission check reads it: no copy per row
            outcome = a.outcome_or_none if a.status == ActionStatus.COMPLETED else None
            updates = timelines.get(a.pk, ())
            rows.append({
                "pk": str(a.pk),
                "url": action_path(a.pk),
                "code": a.code,
                "archived": a.archived_at is not None,
                "text": a.text,
                "responsible": a.responsible,
                "deadline": a.deadline_label,
                "overdue": a.is_overdue(on),
                "status": a.status,
                "status_class": action_status_class(a.status),
                "verification": VERIFICATION_BADGES.get(a.verification),
                "comments": a.comments,
                "updates": updates,
                "outcome": outcome if outcome is not None and outcome.answered else None,
                "update_url": update_path(a.pk) if update_path and permissions.can(access.user, permissions.UPDATE_ACTION, a) else "",
            })
        rec.page_rows_html = mark_safe("".join(evaluation_row(row, internal, evidence_path) for row in rows))
    return render_to_string(
        "web/includes/evaluation_body.html",
        {"evaluation": full, "recommendations": recommendations, "internal": internal},
        request,
    )


def _timelines(who, action_ids: list[int], internal: bool) -> dict[int, list[dict]]:
    """Each key action's progress updates, newest first, as the timeline writes them (web/includes/timeline.html).

    Read as rows, not model instances: ~150 of them a page, each only written out.
    """
    months: dict[int, str] = {}
    sources = {value: str(label).lower() for value, label in ActionUpdate.Source.choices}
    timelines: dict[int, list[dict]] = {}
    rows = (
        restrict(who, ActionUpdate).filter(key_action__in=action_ids)
        .order_by("-created_at", "-id")
        .values_list(
            "pk", "key_action_id", "created_at", "status_before", "status_after", "comment", "reopen_reason", "author_name",
            "source", "evidence_url", "evidence_file", "evidence_name", "evidence_internal",
        )
    )
    for pk, action_id, created_at, before, after, comment, reopen_reason, author, source, url, file, file_name, private in rows:
        when = timezone.localtime(created_at)
        if when.month not in months:
            months[when.month] = str(MONTHS_3[when.month]).title()
        changed = bool(before) and before != after
        evidence = internal or not private
        timelines.setdefault(action_id, []).append({
            "pk": str(pk),  # written as is: an int goes through number formatting, ~200 times a page
            "iso": when.isoformat(),
            "when": f"{when.day} {months[when.month]} {when.year}, {when:%H:%M}",
            "author": author,
            "before": before if changed else "",
            "before_class": action_status_class(before) if changed else "",
            "after": after,
            "after_class": action_status_class(after),
            "source": "" if source == ActionUpdate.Source.WEB else sources.get(source, source.lower()),
            "comment": comment,
            "long": len(comment) > 400,
            # The rarer parts behind one test: most updates have none of them.
            "more": bool(reopen_reason or (evidence and (url or file))),
            "reopen_reason": reopen_reason,
            "evidence": evidence,
            "evidence_internal": private,
            "evidence_url": url,
            "evidence_file": bool(file),
            # As ActionUpdate.evidence_label: the file by its own name (as sent), else the stored file's last part.
            "evidence_label": (file_name or file.rsplit("/", 1)[-1]) if file else "",
        })
    return timelines


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
        return evaluation_body_html(request, evaluation.pk, on, access if personal else None, internal)

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
        total, more = capped_count(filters.actions(restrict(request.user, KeyAction)))
        # Past the count's cap the rows are many: the page walks the deadline index, finding its rows early, the
        # approval tested per row (see `restrict`). Fewer, or a year's (whose deadlines come late in the index):
        # sorted, from the narrowest filter.
        walk = more and not filters.year
        rows = filters.actions(restrict(request.user, KeyAction, per_row=walk))
        actions, cursor = queries.seek(queries.action_list(rows), request.GET.get("after"), PAGE_SIZE, walk=walk)
        offices = queries.offices_read(request.user)
        return {
            "rows": action_list_rows(actions, today()),  # written in Python: web/action_rows.py
            "total": total,
            "more_than_total": more,
            "cursor": cursor,
            "first_page": not request.GET.get("after"),
            "filters": filters,
            "offices": offices,
            **_choices(request),
        }

    return _page(request, "Key actions", "actions", "actions", (), "web/action_list_body.html", context)
