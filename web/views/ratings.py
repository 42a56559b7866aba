"""Ratings beside the status: the page where management rates a recommendation's adoption and the
evaluation office validates it, each on its own form, both ratings shown side by side."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from tracking import permissions
from tracking.models import Recommendation
from tracking.permissions import restrict
from tracking.services import ratings
from tracking.services.errors import ConflictError

from ..forms import AdoptionForm, apply_errors

SIDES = [
    (ratings.MANAGEMENT, "Management's rating", permissions.RATE_ADOPTION),
    (ratings.EVALUATION_OFFICE, "The evaluation office's validation", permissions.VALIDATE_ADOPTION),
]


def _forms(request, rec: Recommendation, bound: AdoptionForm | None = None) -> list[dict]:
    out = []
    for side, title, permission in SIDES:
        rating_field, note_field, _ = ratings.SIDES[side]
        may = permissions.can(request.actor, permission, rec)
        if bound is not None and bound.data.get("side") == side:
            form = bound
        else:
            form = AdoptionForm(
                initial={"version": rec.version, "side": side, "rating": getattr(rec, rating_field), "note": getattr(rec, note_field)},
                auto_id=f"{side}-%s",  # two forms on the page: ids of their own
            )
        out.append({"side": side, "title": title, "may": may, "form": form, "rating": ratings.label(getattr(rec, rating_field)),
                    "note": getattr(rec, note_field)})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def adoption(request, pk: int):
    rec = get_object_or_404(restrict(request.user, Recommendation).select_related("evaluation__office", "management_response"), pk=pk)
    if not any(permissions.can(request.actor, p, rec) for _, _, p in SIDES):
        raise PermissionDenied("You may not rate the adoption of this recommendation.")
    status = 200
    bound = None
    if request.method == "POST":
        side = request.POST.get("side", "")
        bound = AdoptionForm(request.POST, auto_id=f"{side}-%s" if side in ratings.SIDES else "id_%s")
        if bound.is_valid():
            try:
                ratings.rate_adoption(
                    request.actor,
                    rec,
                    version=bound.cleaned_data["version"],
                    side=bound.cleaned_data["side"],
                    rating=bound.cleaned_data["rating"],
                    note=bound.cleaned_data["note"],
                )
            except ValidationError as exc:
                apply_errors(bound, exc)
                status = 400
            except ConflictError as exc:
                bound.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, f"Adoption of recommendation {rec.number} rated.")
                return redirect(f"{rec.evaluation.get_absolute_url()}#recommendation-{rec.pk}")
        else:
            status = 400
        rec = get_object_or_404(restrict(request.user, Recommendation).select_related("evaluation__office", "management_response"), pk=pk)
        if status == 409:
            bound = None  # the current ratings, freshly read, with the refusal as a message
            messages.error(request, "Someone rated this recommendation after you opened it. Nothing was saved: here are the current ratings.")
    return render(request, "web/adoption.html", {"rec": rec, "sides": _forms(request, rec, bound), "nav": "workspace"}, status=status)
