"""Outcome follow-up: the evaluation office schedules a later question on a completed action; the unit answers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tracking import permissions
from tracking.models import KeyAction, OutcomeQuestion
from tracking.models.responses import today
from tracking.permissions import restrict
from tracking.services import outcomes

from ..forms import OutcomeAnswerForm, OutcomeScheduleForm, apply_errors


def panel(request, action: KeyAction, schedule_form=None, answer_form=None) -> dict:
    """The outcome question on the key action's page, and the form each side may use."""
    question = restrict(request.user, OutcomeQuestion).filter(key_action=action).first()
    may_schedule = permissions.can(request.actor, permissions.SCHEDULE_OUTCOME, action) and not (question and question.answered)
    may_answer = question is not None and question.ask_on <= today() and permissions.can(request.actor, permissions.ANSWER_OUTCOME, action)
    if may_schedule and schedule_form is None:
        schedule_form = OutcomeScheduleForm(initial={"ask_on": question.ask_on if question else None,
                                                     "question": question.question if question else ""})
    if may_answer and answer_form is None:
        answer_form = OutcomeAnswerForm()
    return {"outcome": question, "schedule_form": schedule_form if may_schedule or schedule_form else None,
            "answer_form": answer_form if may_answer or answer_form else None}


@login_required
@require_POST
def outcome_schedule(request, pk: int):
    from .workspace import _visible_action, action_detail

    action = _visible_action(request, pk)
    form = OutcomeScheduleForm(request.POST)
    if form.is_valid():
        try:
            outcomes.schedule_outcome(request.actor, action, ask_on=form.cleaned_data["ask_on"], question=form.cleaned_data["question"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Outcome question on key action {action.code} scheduled.")
            return redirect("web:action", pk=pk)
    return action_detail(request, pk, outcome_forms={"schedule_form": form}, status=400)


@login_required
@require_POST
def outcome_answer(request, pk: int):
    from .workspace import _visible_action, action_detail

    action = _visible_action(request, pk)
    form = OutcomeAnswerForm(request.POST)
    if form.is_valid():
        try:
            outcomes.answer_outcome(request.actor, action, confirmed=form.cleaned_data["confirmed"], answer=form.cleaned_data["answer"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Outcome of key action {action.code} recorded.")
            return redirect("web:action", pk=pk)
    return action_detail(request, pk, outcome_forms={"answer_form": form}, status=400)
