"""The evaluation office's curation of the portfolio: the quality rating of each report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from tracking.models import Evaluation
from tracking.permissions import restrict
from tracking.services import quality


@login_required
@require_POST
def evaluation_quality(request, pk: int):
    evaluation = get_object_or_404(restrict(request.user, Evaluation).select_related("office"), pk=pk)
    try:
        rated = quality.rate_report(request.actor, evaluation, request.POST.get("quality", "")[:40])
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"Report quality: {rated.get_quality_display() or 'not rated'}.")
    return redirect("web:evaluation", pk=evaluation.pk)
