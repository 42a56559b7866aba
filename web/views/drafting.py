"""Drafting a management response by hand, and its review.

Each view is a thin door onto `tracking.services.drafting`: the service checks
the permission (so a guessed URL or a tampered form meets the same refusal as
a missing button), applies the change and writes the history. Records are
found through `restrict`: a draft its reader may not read is not found (404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracking import permissions
from tracking.models import (
    Evaluation,
    KeyAction,
    ManagementResponse,
    Office,
    Recommendation,
    RecommendationTerm,
    Term,
)
from tracking.permissions import restrict
from tracking.services import drafting
from tracking.services.errors import ConflictError

from ..forms import (
    EvaluationEditForm,
    EvaluationForm,
    KeyActionForm,
    RecommendationForm,
    ResponseHeaderForm,
    ReturnForm,
    apply_errors,
)


def _require(request, permission, obj=None):
    if not permissions.can(request.actor, permission, obj):
        raise PermissionDenied(f"You may not {permission.replace('_', ' ')} here.")


def _response(request, pk: int) -> ManagementResponse:
    return get_object_or_404(
        restrict(request.user, ManagementResponse).select_related("evaluation__office__type", "evaluation__plan"), pk=pk
    )


# --- evaluations ---------------------------------------------------------------------------


@login_required
def evaluation_create(request):
    _require(request, permissions.MANAGE_EVALUATIONS)
    access = permissions.Access.of(request.user)
    offices = Office.objects.filter(access.review_scope(None)).select_related("type").order_by("name")
    # From a plan's page: its office and period filled in.
    initial = {k: request.GET[k] for k in ("office", "start_year", "end_year") if request.GET.get(k, "").isdigit()}
    form = EvaluationForm(request.POST or None, offices=offices, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            evaluation = drafting.create_evaluation(request.actor, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Evaluation created, with an empty draft response for its office to write.")
            return redirect(evaluation.get_absolute_url())
    return render(request, "web/evaluation_form.html", {"form": form, "nav": "workspace"}, status=400 if form.errors else 200)


def _managed_evaluation(request, pk: int) -> Evaluation:
    evaluation = get_object_or_404(restrict(request.user, Evaluation).select_related("office", "plan", "joint_lead__office"), pk=pk)
    _require(request, permissions.MANAGE_EVALUATIONS, evaluation)
    return evaluation


@login_required
def evaluation_edit(request, pk: int):
    evaluation = _managed_evaluation(request, pk)
    access = permissions.Access.of(request.user)
    offices = Office.objects.filter(access.review_scope(None)).select_related("type").order_by("name")
    initial = {
        "office": evaluation.office,
        "start_year": evaluation.plan.start_year,
        "end_year": evaluation.plan.end_year,
        **{k: getattr(evaluation, k) for k in ("title", "year", "type", "status", "completion_date", "cancellation_reason", "version")},
    }
    form = EvaluationEditForm(request.POST or None, initial=initial, offices=offices)
    if request.method == "POST" and form.is_valid():
        try:
            drafting.update_evaluation(request.actor, evaluation, version=form.cleaned_data["version"], **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError as exc:
            messages.error(request, str(exc))
            return redirect("web:evaluation_edit", pk=pk)
        else:
            messages.success(request, "Evaluation saved.")
            return redirect(evaluation.get_absolute_url())
    return render(
        request, "web/evaluation_form.html",
        {"form": form, "evaluation": evaluation, "nav": "workspace", "partner_offices": offices,
         "partners": restrict(request.user, Evaluation).filter(joint_lead=evaluation).select_related("office", "management_response").order_by("office__name")},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def evaluation_delete(request, pk: int):
    evaluation = _managed_evaluation(request, pk)
    office = evaluation.office
    try:
        drafting.delete_evaluation(request.actor, evaluation, version=int(request.POST.get("version", 0) or 0))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(evaluation.get_absolute_url())
    except ConflictError as exc:
        messages.error(request, str(exc))
        return redirect(evaluation.get_absolute_url())
    messages.success(request, f"Evaluation “{evaluation}” deleted (kept in the history).")
    return redirect("web:office", slug=office.slug)


# --- the drafting page ----------------------------------------------------------------------


@login_required
def response_edit(request, pk: int):
    response = _response(request, pk)
    _require(request, permissions.EDIT_RESPONSE, response)
    recommendations = list(
        response.recommendations.order_by("position").prefetch_related(
            Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
            Prefetch("key_actions", queryset=KeyAction.objects.order_by("position").prefetch_related("units")),
        )
    )
    header = ResponseHeaderForm(
        initial={"version": response.version, "overall_response": response.overall_response, "units": response.units.all()},
        office=response.evaluation.office,
    )
    return render(
        request,
        "web/response_edit.html",
        {
            "response": response,
            "evaluation": response.evaluation,
            "recommendations": recommendations,
            "header": header,
            "may_submit": permissions.can(request.actor, permissions.SUBMIT_RESPONSE, response),
            "checks": drafting.submission_checks(response, recommendations),
            "nav": "workspace",
        },
    )


@login_required
@require_POST
def response_header(request, pk: int):
    response = _response(request, pk)
    form = ResponseHeaderForm(request.POST, office=response.evaluation.office)
    if form.is_valid():
        try:
            drafting.update_response(
                request.actor,
                response,
                version=form.cleaned_data["version"],
                overall_response=form.cleaned_data["overall_response"],
                units=list(form.cleaned_data["units"]),
            )
        except ConflictError as exc:
            messages.error(request, str(exc))
            return _conflict_page(request, exc, form, "the response header", response.evaluation)
        messages.success(request, "Response saved.")
    else:
        messages.error(request, "The response was not saved: " + "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("web:response_edit", pk=pk)


SHOWN_FIELDS = {
    "recommendation": ("number", "text", "response_text", "description", "category"),
    "keyaction": ("number", "text", "responsible", "deadline", "status", "comments"),
    "managementresponse": ("status", "overall_response", "units_as_written"),
}


def _conflict_page(request, exc: ConflictError, form, what: str, evaluation):
    """The current record beside the person's entry, which is kept and now based on the current version."""
    current = exc.current
    data = form.data.copy()
    data["version"] = str(current.version)
    form.data = data
    form._errors = None
    form.is_valid()
    names = SHOWN_FIELDS.get(current._meta.model_name, ())
    current_fields = [(current._meta.get_field(n).verbose_name, getattr(current, n)) for n in names]
    return render(
        request,
        "web/conflict.html",
        {"conflict": str(exc), "form": form, "what": what, "current": current, "current_fields": current_fields, "evaluation": evaluation},
        status=409,
    )


# --- recommendations --------------------------------------------------------------------------


def _recommendation_initial(rec: Recommendation) -> dict:
    initial = {k: getattr(rec, k) for k in ("number", "text", "response_text", "description", "category")}
    initial["version"] = rec.version
    tags = list(rec.tags.select_related("term"))
    for field, kind in zip(RecommendationForm.TAG_FIELDS, Term.Kind.values):
        initial[field] = [t.term for t in tags if t.term.kind == kind]
    return initial


@login_required
def recommendation_add(request, pk: int):
    response = _response(request, pk)
    _require(request, permissions.EDIT_RESPONSE, response)
    next_number = str(response.recommendations.count() + 1)
    form = RecommendationForm(request.POST or None, initial={"number": next_number})
    if request.method == "POST" and form.is_valid():
        try:
            drafting.add_recommendation(request.actor, response, fields=form.values(), terms=form.terms())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Recommendation added.")
            return redirect("web:response_edit", pk=pk)
    return render(
        request,
        "web/recommendation_form.html",
        {"form": form, "response": response, "evaluation": response.evaluation, "nav": "workspace"},
        status=400 if form.errors else 200,
    )


@login_required
def recommendation_edit(request, pk: int):
    rec = get_object_or_404(restrict(request.user, Recommendation).select_related("management_response__evaluation__office"), pk=pk)
    response = rec.management_response
    _require(request, permissions.EDIT_RESPONSE, response)
    data = request.POST or None
    accepted = _accepted_suggestion(request)
    if accepted is not None:
        # A suggested tag accepted: the same form again with the tag chosen, nothing saved yet.
        data = request.POST.copy()
        field = RecommendationForm.FIELD_OF_KIND[accepted.kind]
        data.setlist(field, [*data.getlist(field), str(accepted.pk)])
    form = RecommendationForm(data, initial=_recommendation_initial(rec))
    if accepted is not None:
        form.is_valid()
        messages.info(request, f"“{accepted.name}” added to the tags: save to keep it.")
    elif request.method == "POST" and form.is_valid():
        try:
            drafting.update_recommendation(
                request.actor, rec, version=form.cleaned_data["version"] or 0, fields=form.values(), terms=form.terms()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError as exc:
            return _conflict_page(request, exc, form, f"recommendation {rec.number}", response.evaluation)
        else:
            messages.success(request, f"Recommendation {form.cleaned_data['number']} saved.")
            return redirect("web:response_edit", pk=response.pk)
    return render(
        request,
        "web/recommendation_form.html",
        {
            "form": form, "response": response, "evaluation": response.evaluation, "recommendation": rec, "nav": "workspace",
            "suggestions": _suggestions(request, rec, form),
        },
        status=400 if form.errors and accepted is None else 200,
    )


def _accepted_suggestion(request) -> Term | None:
    """The tag a person accepted with one click among the suggestions (a button of the form)."""
    value = request.POST.get("accept_term", "") if request.method == "POST" else ""
    return Term.objects.filter(pk=int(value), active=True).first() if value.isdigit() and len(value) < 12 else None


def _suggestions(request, rec, form) -> list:
    """(vocabulary label, [suggestions]) for the tags not chosen yet on the form."""
    from search.suggest import suggest_terms

    chosen = set()
    for name in RecommendationForm.TAG_FIELDS:
        value = form[name].value() or []
        chosen.update(int(v) for v in value if str(v).isdigit())
    found = suggest_terms(request.user, rec, chosen)
    return [(label, found[kind]) for kind, label in Term.Kind.choices if found.get(kind)]


@login_required
@require_POST
def recommendation_delete(request, pk: int):
    rec = get_object_or_404(restrict(request.user, Recommendation).select_related("management_response"), pk=pk)
    try:
        drafting.delete_recommendation(request.actor, rec, version=int(request.POST.get("version", 0) or 0))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Recommendation {rec.number} deleted (kept in the history).")
    return redirect("web:response_edit", pk=rec.management_response_id)


@login_required
@require_POST
def recommendation_move(request, pk: int):
    rec = get_object_or_404(restrict(request.user, Recommendation), pk=pk)
    drafting.move_recommendation(request.actor, rec, -1 if request.POST.get("direction") == "up" else 1)
    return redirect(f"{_edit_url(rec.management_response_id)}#recommendation-{rec.pk}")


def _edit_url(response_id: int) -> str:
    from django.urls import reverse

    return reverse("web:response_edit", args=[response_id])


# --- key actions (while drafting) -------------------------------------------------------------


@login_required
def action_add(request, pk: int):
    rec = get_object_or_404(restrict(request.user, Recommendation).select_related("management_response__evaluation__office"), pk=pk)
    response = rec.management_response
    _require(request, permissions.EDIT_RESPONSE, response)
    number = f"{rec.number}.{rec.key_actions.count() + 1}"
    form = KeyActionForm(request.POST or None, initial={"number": number}, office=response.evaluation.office)
    if request.method == "POST" and form.is_valid():
        try:
            drafting.add_action(request.actor, rec, fields=form.values(), units=list(form.cleaned_data["units"]))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Key action added.")
            return redirect(f"{_edit_url(response.pk)}#recommendation-{rec.pk}")
    return render(
        request,
        "web/action_form.html",
        {"form": form, "recommendation": rec, "response": response, "evaluation": response.evaluation, "nav": "workspace"},
        status=400 if form.errors else 200,
    )


@login_required
def action_edit(request, pk: int):
    action = get_object_or_404(
        restrict(request.user, KeyAction).select_related("recommendation__management_response__evaluation__office"), pk=pk
    )
    rec = action.recommendation
    response = rec.management_response
    _require(request, permissions.EDIT_RESPONSE, response)
    initial = {k: getattr(action, k) for k in ("number", "text", "responsible", "deadline", "status", "comments")}
    initial.update(version=action.version, units=action.units.all())
    form = KeyActionForm(request.POST or None, initial=initial, office=response.evaluation.office)
    if request.method == "POST" and form.is_valid():
        try:
            drafting.update_action(
                request.actor, action, version=form.cleaned_data["version"] or 0, fields=form.values(), units=list(form.cleaned_data["units"])
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError as exc:
            return _conflict_page(request, exc, form, f"key action {action.code}", response.evaluation)
        else:
            messages.success(request, f"Key action {form.cleaned_data['number']} saved.")
            return redirect(f"{_edit_url(response.pk)}#recommendation-{rec.pk}")
    return render(
        request,
        "web/action_form.html",
        {"form": form, "recommendation": rec, "response": response, "evaluation": response.evaluation, "action": action, "nav": "workspace"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def action_delete(request, pk: int):
    action = get_object_or_404(restrict(request.user, KeyAction).select_related("recommendation"), pk=pk)
    response_id = action.recommendation.management_response_id
    try:
        drafting.delete_action(request.actor, action, version=int(request.POST.get("version", 0) or 0))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Key action {action.code} deleted (kept in the history).")
    return redirect(f"{_edit_url(response_id)}#recommendation-{action.recommendation_id}")


@login_required
@require_POST
def action_move(request, pk: int):
    action = get_object_or_404(restrict(request.user, KeyAction).select_related("recommendation"), pk=pk)
    drafting.move_action(request.actor, action, -1 if request.POST.get("direction") == "up" else 1)
    return redirect(f"{_edit_url(action.recommendation.management_response_id)}#recommendation-{action.recommendation_id}")


# --- submit, approve, return ----------------------------------------------------------------------


@login_required
@require_POST
def response_submit(request, pk: int):
    response = _response(request, pk)
    try:
        drafting.submit_response(request.actor, response, version=int(request.POST.get("version", 0) or 0))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:response_edit", pk=pk)
    except ConflictError as exc:
        messages.error(request, str(exc))
        return redirect("web:response_edit", pk=pk)
    messages.success(request, "Response submitted to the evaluation office for review.")
    return redirect(response.evaluation.get_absolute_url())


@login_required
@require_POST
def response_approve(request, pk: int):
    response = _response(request, pk)
    try:
        drafting.approve_response(request.actor, response, version=int(request.POST.get("version", 0) or 0))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Response approved: it is public now, and locked except for progress updates.")
    return redirect(response.evaluation.get_absolute_url())


@login_required
@require_POST
def response_return(request, pk: int):
    response = _response(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the response goes back for revision.")
        return redirect(response.evaluation.get_absolute_url())
    try:
        drafting.return_response(
            request.actor, response, version=form.cleaned_data["version"], reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Response returned to its office for revision.")
    return redirect(response.evaluation.get_absolute_url())
