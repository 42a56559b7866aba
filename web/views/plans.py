"""Evaluation plans: each office's evaluations for a period, and how the plan was kept.

A plan is reference data (public); the evaluations listed in it and its
figures are those its reader reads (`restrict`). Changes go through
`tracking.services.plans`, which checks the permission and writes the history.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from reports import figures
from tracking import permissions, queries
from tracking.models import Evaluation, EvaluationPlan, Office
from tracking.permissions import restrict
from tracking.services import plans
from tracking.services.errors import ConflictError

from ..forms import PlanEditForm, PlanForm, apply_errors


def _plan(pk: int) -> EvaluationPlan:
    return get_object_or_404(EvaluationPlan.objects.select_related("office__region", "office__type"), pk=pk)


def _managed(request, pk: int) -> EvaluationPlan:
    plan = _plan(pk)
    if not permissions.can(request.actor, permissions.MANAGE_EVALUATIONS, plan):
        raise PermissionDenied("You may not manage this office's evaluation plans.")
    return plan


def plan_detail(request, pk: int):
    plan = _plan(pk)
    weeks = settings.RESPONSE_WEEKS
    evaluations = restrict(request.user, Evaluation).filter(plan=plan)
    listed = queries.with_counts(evaluations.select_related("management_response", "office").order_by("title", "pk"))
    compliance = figures.plan_compliance(evaluations, weeks)
    return render(
        request,
        "web/plan_detail.html",
        {
            "plan": plan,
            "evaluations": listed,
            "compliance": compliance[0] if compliance else None,
            "weeks": weeks,
            "may_manage": permissions.can(request.actor, permissions.MANAGE_EVALUATIONS, plan),
            "nav": "browse",
        },
    )


@login_required
def plan_create(request):
    if not permissions.can(request.actor, permissions.MANAGE_EVALUATIONS):
        raise PermissionDenied("You may not manage evaluation plans.")
    access = permissions.Access.of(request.user)
    offices = Office.objects.filter(access.review_scope(None)).select_related("type").order_by("name")
    initial = {"office": request.GET["office"]} if request.GET.get("office", "").isdigit() else {}
    form = PlanForm(request.POST or None, offices=offices, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plans.create_plan(request.actor, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Plan {plan.period} of {plan.office} made: add its evaluations.")
            return redirect("web:plan", pk=plan.pk)
    return render(request, "web/plan_form.html", {"form": form, "nav": "workspace"}, status=400 if form.errors else 200)


@login_required
def plan_edit(request, pk: int):
    plan = _managed(request, pk)
    initial = {"version": plan.version, "start_year": plan.start_year, "end_year": plan.end_year, "notes": plan.notes}
    form = PlanEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plans.update_plan(
                request.actor, plan, version=data["version"], start_year=data["start_year"], end_year=data["end_year"], notes=data["notes"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError as exc:
            messages.error(request, str(exc))
            return redirect("web:plan_edit", pk=pk)
        else:
            messages.success(request, "Plan saved.")
            return redirect("web:plan", pk=pk)
    return render(request, "web/plan_form.html", {"form": form, "plan": plan, "nav": "workspace"}, status=400 if form.errors else 200)


@login_required
@require_POST
def plan_close(request, pk: int):
    """Close the plan (action=close) or open it again (action=reopen)."""
    plan = _managed(request, pk)
    change = plans.reopen_plan if request.POST.get("action") == "reopen" else plans.close_plan
    try:
        plan = change(request.actor, plan, version=int(request.POST.get("version", 0) or 0))
    except (ValidationError, ConflictError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, f"Plan {plan.period} {'closed' if plan.closed else 'reopened'}.")
    return redirect("web:plan", pk=pk)
