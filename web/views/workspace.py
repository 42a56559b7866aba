"""The workspace: my key actions, the responses my office must draft or submit, progress updates.

Progress updates work inline with htmx (the form opens in place and the
row comes back updated) and as plain pages without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from reminders.queries import last_reminded
from tracking import permissions, queries
from tracking.models import ActionUpdate, ChangeRecord, DeadlineRevision, KeyAction, ManagementResponse
from tracking.models.responses import ActionStatus, ResponseStatus, today
from tracking.permissions import EVIDENCE, UPDATE, restrict
from tracking.services import progress
from tracking.services.errors import ConflictError

from ..action_rows import my_action_rows
from ..caching import cached_page, public_page
from ..forms import ProgressForm, apply_errors

PAGE_SIZE = 50


@login_required
def workspace(request):
    access = permissions.Access.of(request.user)
    mine = restrict(request.actor, KeyAction, UPDATE)
    responses = restrict(request.user, ManagementResponse)
    to_draft = to_review = responses.none()
    if access.is_superuser:
        to_draft = responses.filter(status__in=permissions.EDITABLE_STATUSES)
    elif access.focal_office_ids:
        to_draft = responses.filter(status__in=permissions.EDITABLE_STATUSES, evaluation__office_id__in=access.focal_office_ids)
    if access.is_superuser or access.is_evaluation_office:
        to_review = responses.filter(status=ResponseStatus.SUBMITTED).filter(access.review_scope("evaluation__office"))
    on = today()
    return render(
        request,
        "web/workspace.html",
        {
            "access": access,
            "figures": queries.status_figures(mine, on),
            "overdue": queries.action_list(mine.overdue(on)).order_by("deadline", "pk")[:10],
            "to_draft": to_draft.select_related("evaluation__office", "evaluation__plan").order_by("evaluation__title")[:50],
            "to_review": to_review.select_related("evaluation__office", "evaluation__plan").order_by("submitted_at")[:50],
            "may_create_evaluation": permissions.can(request.actor, permissions.MANAGE_EVALUATIONS),
            "today": on,
            "nav": "workspace",
        },
    )


@login_required
def my_actions(request):
    """My key actions: overdue first, then by deadline; filterable. Rendered once per person and data version."""
    access = permissions.Access.of(request.user)
    held: dict[str, int] = {}

    def version():
        version = queries.actions_version(restrict(request.actor, KeyAction, UPDATE))
        held["n"] = version[2]  # how many key actions the person has: the unfiltered list's count
        return version

    def context():
        filters = queries.Filters.from_query(request.GET)
        on = today()
        qs = filters.actions(restrict(request.actor, KeyAction, UPDATE), on)
        qs = queries.action_list(qs).with_overdue(on).order_by(F("is_overdue_flag").desc(), "deadline", "pk")
        # The page's ids sorted first, on narrow rows, then those rows whole (sorting whole rows cost ~15 ms at L).
        # Unfiltered, the list is the version's key actions: counted there already. (A change between the two
        # reads leaves this one answer's count a row off; the next request has a new version, computed again.)
        count = None if filters.narrows else held.get("n")
        page = queries.page_of(qs, request.GET.get("page"), PAGE_SIZE, count=count)
        # The rows written in Python, for speed (web/action_rows.py); the page for its count and links.
        return {"page": page, "rows": my_action_rows(page, on), "filters": filters, "statuses": ActionStatus.values}

    roles = tuple(sorted((a.role, a.office_id, a.unit_id, a.region_id) for a in access.assignments))
    # Kept through the changes of other evaluations (a progress update elsewhere does not touch this list).
    return cached_page(
        request, "My key actions", "my-actions", "my-actions", (request.user.pk, roles), "web/my_actions_body.html", context,
        version=version,
    )


def _visible_action(request, pk: int) -> KeyAction:
    qs = restrict(request.user, KeyAction).select_related(
        "evaluation__office__type", "recommendation__management_response", "evaluation__management_response"
    ).prefetch_related(
        "units",
        Prefetch("updates", queryset=ActionUpdate.objects.select_related("author").order_by("-created_at", "-id")),
        Prefetch("deadline_revisions", queryset=DeadlineRevision.objects.order_by("-created_at", "-id")),
    )
    return get_object_or_404(qs, pk=pk)


@public_page
def action_detail(request, pk: int, verify_form=None, deadline_form=None, outcome_forms=None, status: int = 200):
    """The key action's page; a refused verification or deadline revision comes back here with its form and `status`."""
    from . import deadlines, outcomes, verification

    action = _visible_action(request, pk)
    may_update = permissions.can(request.actor, permissions.UPDATE_ACTION, action)
    changes = restrict(request.user, ChangeRecord).filter(content_type__model="keyaction", object_id=action.pk).order_by("-time", "-id")
    form = ProgressForm(initial={"version": action.version, "status": action.status}) if may_update else None
    # When a reminder last named this action: for people with a role (who was reminded is not public).
    reminded = last_reminded(action.pk) if permissions.can(request.actor, permissions.VIEW_INTERNAL) else None
    return render(
        request,
        "web/action_detail.html",
        {"action": action, "form": form, "may_update": may_update, "changes": changes, "today": today(), "nav": "actions",
         "reminded": reminded,
         **verification.panel(request, action, verify_form), **deadlines.panel(request, action, deadline_form),
         **outcomes.panel(request, action, **(outcome_forms or {}))},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def action_update(request, pk: int):
    """Record a progress update. htmx gets fragments; everyone else gets pages."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    action = _visible_action(request, pk)
    if not permissions.can(request.actor, permissions.UPDATE_ACTION, action):
        raise PermissionDenied("You may not update this key action.")
    partial = "web/includes/progress_form.html"
    if request.method == "GET":
        form = ProgressForm(initial={"version": action.version, "status": action.status})
        template = partial if request.htmx else "web/action_update.html"
        return render(request, template, {"action": action, "form": form})

    form = ProgressForm(request.POST, request.FILES)
    status = 200
    conflict = None
    if form.is_valid():
        try:
            progress.record_progress(
                request.actor,
                action,
                version=form.cleaned_data["version"],
                status=form.cleaned_data["status"],
                comment=form.cleaned_data["comment"],
                evidence_file=form.cleaned_data["evidence_file"],
                evidence_url=form.cleaned_data["evidence_url"],
                evidence_internal=form.cleaned_data["evidence_internal"],
                reopen_reason=form.cleaned_data["reopen_reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            status = 400
        except ConflictError as exc:
            conflict = str(exc)
            status = 409
        else:
            fresh = _visible_action(request, pk)
            if request.htmx:
                if request.POST.get("form_context") == "page":
                    fresh_form = ProgressForm(initial={"version": fresh.version, "status": fresh.status})
                    return render(
                        request, "web/includes/progress_saved_page.html", {"action": fresh, "form": fresh_form, "today": today()}
                    )
                return render(request, "web/includes/progress_saved_inline.html", {"action": fresh, "today": today()})
            messages.success(request, f"Progress on key action {fresh.code} recorded.")
            return redirect("web:action", pk=pk)
    else:
        status = 400
    fresh = _visible_action(request, pk)
    if conflict:
        # A fresh copy of the action, and the person's entry kept (with the new version) to resubmit.
        data = request.POST.copy()
        data["version"] = str(fresh.version)
        form = ProgressForm(data)
        form.is_valid()
        form.add_error(None, conflict)
    template = partial if request.htmx else "web/action_update.html"
    context = {"action": fresh, "form": form, "conflict": conflict, "form_context": request.POST.get("form_context", "inline")}
    return render(request, template, context, status=status)


def evidence(request, pk: int):
    """The evidence file of a progress update, for those who may see the update."""
    from django.http import FileResponse

    update = get_object_or_404(restrict(request.user, ActionUpdate, EVIDENCE), pk=pk)
    if not update.evidence_file:
        raise Http404("This update has no file.")
    return FileResponse(update.evidence_file.open("rb"), as_attachment=True, filename=update.evidence_label)
