"""Verified completion: the list of completions awaiting verification, and the evaluation office's decision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tracking import permissions
from tracking.models import ActionUpdate, KeyAction, Verification
from tracking.models.accountability import VerificationState
from tracking.models.responses import ActionStatus, today
from tracking.permissions import restrict
from tracking.services import verification
from tracking.services.errors import ConflictError

from ..forms import VerifyForm, apply_errors

PAGE_SIZE = 50


def panel(request, action: KeyAction, form: VerifyForm | None = None) -> dict:
    """What the key action's page shows of verification: past decisions, and the form for a verifier."""
    may_verify = permissions.can(request.actor, permissions.VERIFY_ACTION, action)
    if may_verify and form is None:
        form = VerifyForm(initial={"version": action.version})
    decisions = restrict(request.user, Verification).filter(key_action=action).order_by("created_at", "pk")
    # A refused decision comes back with its errors even when the action can no longer be verified.
    return {"may_verify": may_verify, "verify_form": form, "verifications": decisions}


@login_required
def verification_list(request):
    """Completions awaiting verification that this person reads; a link to decide on those they may verify."""
    rows = (
        restrict(request.user, KeyAction)
        .filter(status=ActionStatus.COMPLETED, verification=VerificationState.AWAITING)
        .select_related("evaluation__office", "recommendation__management_response", "evaluation__management_response")
        .prefetch_related(
            "units",
            Prefetch(
                "updates",
                queryset=ActionUpdate.objects.filter(status_after=ActionStatus.COMPLETED).order_by("-created_at", "-id"),
                to_attr="claims",
            ),
        )
        .order_by("updated_at", "pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for a in page:
        a.claim = a.claims[0] if a.claims else None
        a.may_verify = permissions.can(request.actor, permissions.VERIFY_ACTION, a)
    return render(request, "web/verification_list.html", {"page": page, "today": today(), "nav": "workspace"})


@login_required
@require_POST
def action_verify(request, pk: int):
    """Accept or send back a completion; refusals come back on the key action's page."""
    from .workspace import _visible_action, action_detail

    action = _visible_action(request, pk)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return action_detail(request, pk, verify_form=form, status=400)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        verification.verify_completion(
            request.actor, action, version=form.cleaned_data["version"], accept=accept, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return action_detail(request, pk, verify_form=form, status=400)
    except ConflictError as exc:
        form.add_error(None, str(exc))
        return action_detail(request, pk, verify_form=form, status=409)
    verdict = "verified" if accept else "sent back: the key action is open again"
    messages.success(request, f"Completion of key action {action.code} {verdict}.")
    if request.POST.get("next") == "list":
        return redirect("web:verification")
    return redirect("web:action", pk=pk)

