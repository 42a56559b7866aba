"""Joint evaluations: the roll-up page, the evaluation office's partner management, a shared recommendation's text.

Thin doors onto `tracking.services.joint` (every permission check and history record there) and
`reports.joint` (the roll-up, read through `restrict`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from reports import joint as rollups
from tracking import permissions
from tracking.models import Evaluation, Office, Recommendation
from tracking.models.responses import today
from tracking.permissions import restrict
from tracking.services import joint
from tracking.services.errors import ConflictError

from ..forms import SharedRecommendationForm, apply_errors


def joint_rollup(request, pk: int):
    evaluation = get_object_or_404(restrict(request.user, Evaluation).select_related("office"), pk=pk)
    rollup = rollups.rollup(request.user, evaluation, today())
    if rollup is None:
        raise Http404("Not a joint evaluation, or only one of its records is public.")
    lead = rollup.lead
    may_manage = lead is not None and permissions.can(request.actor, permissions.MANAGE_EVALUATIONS, lead)
    return render(request, "web/joint.html", {
        "evaluation": evaluation, "rollup": rollup, "combined_rows": [rollup.combined],
        "may_manage": may_manage, "nav": "evaluations",
    })


def _lead_for_manager(request, pk: int) -> Evaluation:
    evaluation = get_object_or_404(restrict(request.user, Evaluation).select_related("office", "plan"), pk=pk)
    if not permissions.can(request.actor, permissions.MANAGE_EVALUATIONS, evaluation):
        raise PermissionDenied("Only the evaluation office manages a joint evaluation's partners.")
    return evaluation


@login_required
@require_POST
def joint_partners(request, pk: int):
    """Add a partner office (`office`), remove a partner (`remove`: its evaluation), or share new recommendations (`share`)."""
    lead = _lead_for_manager(request, pk)
    back = redirect("web:evaluation_edit", pk=pk)
    try:
        if request.POST.get("remove"):
            partner = get_object_or_404(restrict(request.user, Evaluation), pk=_int(request.POST["remove"]), joint_lead=lead)
            joint.remove_partner(request.actor, partner)
            messages.success(request, f"{partner.office} is no longer a partner; its evaluation is kept as its own.")
        elif request.POST.get("share"):
            n = joint.share_recommendations(request.actor, lead)
            messages.success(request, f"{n} shared recommendation{'s' if n != 1 else ''} copied to the partners' draft responses.")
        else:
            office = Office.objects.filter(pk=_int(request.POST.get("office", ""))).first()
            if office is None:
                messages.error(request, "Choose the partner office to add.")
                return back
            partner = joint.add_partner(request.actor, lead, office=office)
            messages.success(request, f"{office} is a partner: its draft response has the shared recommendations.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return back


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such record.") from None


@login_required
@require_http_methods(["GET", "POST"])
def shared_recommendation(request, pk: int):
    rec = get_object_or_404(restrict(request.user, Recommendation).select_related("shared_from", "evaluation__office"), pk=pk)
    source = joint.source_of(rec)
    if source.pk != rec.pk:
        return redirect("web:shared_recommendation", pk=source.pk)
    if not (rec.shared_copies.exists() and permissions.can(request.actor, permissions.MANAGE_EVALUATIONS, rec.evaluation)):
        raise PermissionDenied("Only the evaluation office changes a joint evaluation's shared recommendation.")
    form = SharedRecommendationForm(request.POST or None, initial={"version": rec.version, "number": rec.number, "text": rec.text})
    if request.method == "POST" and form.is_valid():
        try:
            joint.update_shared(request.actor, rec, version=form.cleaned_data["version"],
                                fields={k: form.cleaned_data[k] for k in ("number", "text")})
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError as exc:
            messages.error(request, str(exc))
            return redirect("web:shared_recommendation", pk=pk)
        else:
            messages.success(request, "Shared recommendation saved for every partner.")
            return redirect(reverse("web:joint", args=[rec.evaluation_id]))
    return render(request, "web/shared_recommendation.html", {"form": form, "recommendation": rec, "nav": "workspace"},
                  status=400 if form.errors else 200)
