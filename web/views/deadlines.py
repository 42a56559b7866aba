"""Deadline revisions: the form on the key action's page, and its POST-only door."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tracking import permissions
from tracking.models import KeyAction
from tracking.services import deadlines
from tracking.services.errors import ConflictError

from ..forms import DeadlineForm, apply_errors


def panel(request, action: KeyAction, form: DeadlineForm | None = None) -> dict:
    """The revision form, for those who may revise the deadline (or a refused one, with its errors)."""
    may_revise = permissions.can(request.actor, permissions.REVISE_DEADLINE, action)
    if may_revise and form is None:
        form = DeadlineForm(initial={"version": action.version, "deadline": action.deadline})
    return {"may_revise_deadline": may_revise, "deadline_form": form}


@login_required
@require_POST
def action_deadline(request, pk: int):
    from .workspace import _visible_action, action_detail

    action = _visible_action(request, pk)
    form = DeadlineForm(request.POST)
    if not form.is_valid():
        return action_detail(request, pk, deadline_form=form, status=400)
    try:
        revision = deadlines.revise_deadline(
            request.actor,
            action,
            version=form.cleaned_data["version"],
            deadline=form.cleaned_data["deadline"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return action_detail(request, pk, deadline_form=form, status=400)
    except ConflictError as exc:
        form.add_error(None, str(exc))
        return action_detail(request, pk, deadline_form=form, status=409)
    messages.success(request, f"Deadline of key action {action.code} revised to {revision.deadline:%Y/%m}.")
    return redirect("web:action", pk=pk)
