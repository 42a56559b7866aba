"""The evaluation office's own work: editing and deleting evaluations, plans and their compliance."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    EvaluationPlan,
    ManagementResponse,
    Role,
    RoleAssignment,
)
from tracking.services import drafting
from tracking.services.errors import ConflictError

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(name, role=None, **scope) -> Actor:
    user = User.objects.create(username=name)
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return Actor(user=user)


@pytest.fixture
def office():
    return make_office("Office D", region="Region D")


@pytest.fixture
def reviewer():
    return person("reviewer", Role.EVALUATION_OFFICE)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def edit_args(ev: Evaluation, **extra):
    args = {
        "version": ev.version,
        "office": ev.office,
        "start_year": ev.plan.start_year,
        "end_year": ev.plan.end_year,
        "title": ev.title,
        "year": ev.year,
        "type": ev.type,
        "status": ev.status,
        "completion_date": ev.completion_date,
    }
    args.update(extra)
    return args


# --- editing an evaluation ---------------------------------------------------------------------------


def test_every_field_of_the_creation_form_is_edited_and_recorded(office, reviewer):
    ev = drafting.create_evaluation(reviewer, office=office, start_year=2024, end_year=2025, title="First title")
    ChangeRecord.objects.all().delete()
    drafting.update_evaluation(
        reviewer, ev, **edit_args(ev, title=" Better title ", year=2024, type="thematic", status="ongoing", completion_date=dt.date(2025, 3, 31))
    )
    ev = fresh(ev)
    assert (ev.title, ev.year, ev.type, ev.status, ev.completion_date, ev.version) == (
        "Better title", 2024, "thematic", "ongoing", dt.date(2025, 3, 31), 2
    )
    [record] = ChangeRecord.objects.all()
    assert record.action == "update" and record.evaluation_id == ev.pk and record.user == reviewer.user
    assert record.before == {"title": "First title", "year": 2025, "type": "", "status": "completed", "completion_date": None}
    assert record.after["title"] == "Better title" and record.after["completion_date"] == "2025-03-31"


def test_saving_without_a_change_writes_nothing(office, reviewer):
    ev = make_evaluation(office, title="Same")
    drafting.update_evaluation(reviewer, ev, **edit_args(ev))
    assert fresh(ev).version == 1 and not ChangeRecord.objects.exists()


def test_moving_to_another_office_and_plan_keeps_the_evaluation_and_its_history(office, reviewer):
    ev = make_evaluation(office, title="Moving", status="Draft")
    rec = make_recommendation(ev)
    action = make_action(rec)
    old_plan = ev.plan
    ChangeRecord.objects.create(
        action="update", content_type_id=1, object_id=ev.pk, object_repr="earlier", evaluation=ev, user_name="x"
    )
    other = make_office("Office E", region="Region E")
    drafting.update_evaluation(reviewer, ev, **edit_args(ev, office=other, start_year=2026, end_year=2027))
    ev = fresh(ev)
    assert ev.office == other and (ev.plan.office, ev.plan.start_year, ev.plan.end_year) == (other, 2026, 2027)
    assert fresh(rec).evaluation_id == ev.pk and fresh(action).evaluation_id == ev.pk
    assert EvaluationPlan.objects.filter(pk=old_plan.pk).exists()  # the old plan stays, with its other evaluations
    moves = ChangeRecord.objects.filter(evaluation=ev).order_by("id")
    assert [r.object_repr for r in moves][0] == "earlier"  # the history is kept
    plan_made, moved = [r for r in ChangeRecord.objects.order_by("id") if r.object_repr != "earlier"]
    assert plan_made.action == "create" and plan_made.content_type.model == "evaluationplan"
    assert moved.before == {"plan": old_plan.pk, "office": office.pk} and moved.after == {"plan": ev.plan_id, "office": other.pk}


def test_moving_needs_the_evaluation_office_of_both_offices(office):
    other = make_office("Office E", region="Region E")
    ev = make_evaluation(office, title="Stays")
    scoped = person("scoped", Role.EVALUATION_OFFICE, office=office)
    with pytest.raises(PermissionDenied):
        drafting.update_evaluation(scoped, ev, **edit_args(ev, office=other))
    outsider = person("outsider", Role.EVALUATION_OFFICE, office=other)
    with pytest.raises(PermissionDenied):
        drafting.update_evaluation(outsider, ev, **edit_args(ev, office=other))
    for actor in (person("focal", Role.OFFICE_FOCAL_POINT, office=office), person("admin", Role.ADMINISTRATOR), Actor(user=None)):
        with pytest.raises(PermissionDenied):
            drafting.update_evaluation(actor, ev, **edit_args(ev, title="Nope"))
    assert fresh(ev).office == office and fresh(ev).title == "Stays" and not ChangeRecord.objects.exists()


def test_an_edit_is_checked_like_a_creation(office, reviewer):
    ev = make_evaluation(office, title="Checked")
    make_evaluation(office, title="Taken")  # same plan (2023 - 2024)
    cases = [
        ({"title": "  "}, "title"),
        ({"start_year": 2026, "end_year": 2025}, "end_year"),
        ({"title": "Taken"}, "title"),
        ({"status": "cancelled"}, "cancellation_reason"),
        ({"type": "made-up"}, "type"),
    ]
    for extra, field in cases:
        with pytest.raises(ValidationError) as exc:
            drafting.update_evaluation(reviewer, ev, **edit_args(ev, **extra))
        assert field in exc.value.message_dict, extra
    assert fresh(ev).title == "Checked" and not ChangeRecord.objects.exists()


def test_a_cancelled_evaluation_keeps_its_reason(office, reviewer):
    ev = make_evaluation(office, title="Cancelled one")
    drafting.update_evaluation(reviewer, ev, **edit_args(ev, status="cancelled"), cancellation_reason=" Funding withdrawn. ")
    assert (fresh(ev).status, fresh(ev).cancellation_reason) == ("cancelled", "Funding withdrawn.")


def test_a_stale_edit_is_refused_and_the_attempt_kept(office, reviewer):
    ev = make_evaluation(office, title="Stale")
    Evaluation.objects.filter(pk=ev.pk).update(version=2)
    with pytest.raises(ConflictError):
        drafting.update_evaluation(reviewer, ev, **edit_args(ev, version=1, title="Late"))
    assert fresh(ev).title == "Stale"
    [refusal] = ChangeRecord.objects.all()
    assert refusal.action == "refused" and refusal.after["title"] == "Late" and refusal.after["based_on_version"] == 1


def test_a_closed_plan_takes_no_new_evaluations(office, reviewer):
    plan = EvaluationPlan.objects.create(office=office, start_year=2030, end_year=2031, closed=True)
    with pytest.raises(ValidationError, match="closed"):
        drafting.create_evaluation(reviewer, office=office, start_year=2030, end_year=2031, title="Late")
    ev = make_evaluation(office, title="Elsewhere")
    with pytest.raises(ValidationError, match="closed"):
        drafting.update_evaluation(reviewer, ev, **edit_args(ev, start_year=2030, end_year=2031))
    assert not plan.evaluations.exists()


# --- deleting an evaluation ---------------------------------------------------------------------------


def test_an_empty_evaluation_is_deleted_with_its_response_and_the_history_kept(office, reviewer):
    ev = drafting.create_evaluation(reviewer, office=office, start_year=2024, end_year=2025, title="Mistake")
    response = ev.management_response
    drafting.delete_evaluation(reviewer, ev, version=ev.version)
    assert not Evaluation.objects.filter(pk=ev.pk).exists() and not ManagementResponse.objects.filter(pk=response.pk).exists()
    deletions = ChangeRecord.objects.filter(action="delete").order_by("id")
    assert [(r.content_type.model, r.evaluation_id) for r in deletions] == [("managementresponse", ev.pk), ("evaluation", ev.pk)]
    assert deletions[1].before["title"] == "Mistake"
    assert ChangeRecord.objects.filter(action="create", evaluation_id=ev.pk).count() == 2  # still there


@pytest.mark.parametrize("what,expected", [("recommendation", "1 recommendation"), ("action", "1 key action"), ("update", "1 progress update")])
def test_an_evaluation_with_something_in_it_is_not_deleted(office, reviewer, what, expected):
    ev = make_evaluation(office, title="Full")
    if what != "recommendation":
        action = make_action(make_recommendation(ev))
        if what == "update":
            ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment="Going.")
    else:
        make_recommendation(ev)
    with pytest.raises(ValidationError) as exc:
        drafting.delete_evaluation(reviewer, ev, version=ev.version)
    assert expected in exc.value.messages[0] and "cannot be deleted" in exc.value.messages[0]
    assert Evaluation.objects.filter(pk=ev.pk).exists() and not ChangeRecord.objects.exists()


def test_only_the_evaluation_office_in_scope_deletes(office):
    ev = make_evaluation(office, title="Kept")
    other = make_office("Office E", region="Region E")
    for actor in (person("scoped", Role.EVALUATION_OFFICE, office=other), person("focal", Role.OFFICE_FOCAL_POINT, office=office)):
        with pytest.raises(PermissionDenied):
            drafting.delete_evaluation(actor, ev, version=1)
    assert Evaluation.objects.filter(pk=ev.pk).exists()
    with pytest.raises(ConflictError):
        drafting.delete_evaluation(person("eo", Role.EVALUATION_OFFICE), ev, version=0)
    assert Evaluation.objects.filter(pk=ev.pk).exists()
