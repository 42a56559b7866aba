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


# --- plans ------------------------------------------------------------------------------------------

from tracking.services import plans  # noqa: E402


def test_the_evaluation_office_makes_edits_closes_and_reopens_a_plan(office, reviewer):
    plan = plans.create_plan(reviewer, office=office, start_year=2026, end_year=2029, notes=" Strategic plan. ")
    assert (plan.office, plan.period, plan.notes, plan.closed) == (office, "2026 - 2029", "Strategic plan.", False)
    ev = drafting.create_evaluation(reviewer, office=office, start_year=2026, end_year=2029, title="In the plan")
    assert ev.plan == plan
    plan = plans.update_plan(reviewer, plan, version=1, start_year=2026, end_year=2030, notes="Extended.")
    assert (fresh(ev).plan.period, plan.version) == ("2026 - 2030", 2)
    plan = plans.close_plan(reviewer, plan, version=2)
    assert plan.closed and plan.closed_on is not None
    with pytest.raises(ValidationError, match="already closed"):
        plans.close_plan(reviewer, plan, version=3)
    plan = plans.reopen_plan(reviewer, plan, version=3)
    assert not plan.closed and plan.closed_on is None
    made = ChangeRecord.objects.filter(content_type__model="evaluationplan", object_id=plan.pk).order_by("id")
    assert [(r.action, r.message) for r in made] == [
        ("create", ""), ("update", "plan edited"), ("update", "plan closed"), ("update", "plan reopened")
    ]
    assert made[1].before == {"end_year": 2029, "notes": "Strategic plan."} and made[2].after["closed"] is True
    assert all(r.evaluation_id is None and r.user == reviewer.user for r in made)


def test_a_plan_is_checked_and_unique_per_office_and_period(office, reviewer):
    plans.create_plan(reviewer, office=office, start_year=2026, end_year=2027)
    for kwargs, field in (({"start_year": 2026, "end_year": 2027}, "start_year"), ({"start_year": 2028, "end_year": 2027}, "end_year"),
                          ({"start_year": 1200, "end_year": 2027}, "start_year")):
        with pytest.raises(ValidationError) as exc:
            plans.create_plan(reviewer, office=office, **kwargs)
        assert field in exc.value.message_dict
    other = plans.create_plan(reviewer, office=office, start_year=2028, end_year=2029)
    with pytest.raises(ValidationError, match="already has a plan"):
        plans.update_plan(reviewer, other, version=1, start_year=2026, end_year=2027)
    assert EvaluationPlan.objects.filter(office=office).count() == 2


def test_only_the_evaluation_office_in_scope_manages_plans(office, reviewer):
    plan = plans.create_plan(reviewer, office=office, start_year=2026, end_year=2027)
    other = make_office("Office E", region="Region E")
    outsiders = (person("scoped", Role.EVALUATION_OFFICE, office=other), person("focal", Role.OFFICE_FOCAL_POINT, office=office),
                 person("viewer", Role.VIEWER), Actor(user=None))
    for actor in outsiders:
        with pytest.raises(PermissionDenied):
            plans.create_plan(actor, office=office, start_year=2030, end_year=2031)
        with pytest.raises(PermissionDenied):
            plans.close_plan(actor, plan, version=1)
    assert not fresh(plan).closed and EvaluationPlan.objects.count() == 1


def test_a_stale_plan_change_is_refused_and_kept(office, reviewer):
    plan = plans.create_plan(reviewer, office=office, start_year=2026, end_year=2027)
    plans.update_plan(reviewer, plan, version=1, start_year=2026, end_year=2028)
    with pytest.raises(ConflictError):
        plans.close_plan(reviewer, plan, version=1)
    assert not fresh(plan).closed
    assert ChangeRecord.objects.filter(action="refused", object_id=plan.pk).count() == 1


# --- plan compliance -----------------------------------------------------------------------------------


def test_plan_compliance_counts_planned_completed_cancelled_and_responses_in_time(office, reviewer, settings):
    from django.utils import timezone

    from reports.figures import plan_compliance

    plan = plans.create_plan(reviewer, office=office, start_year=2026, end_year=2027)
    done = dt.date(2026, 3, 31)

    def evaluation(title, status="completed", completion=done, response="Draft", approved=None, reason=""):
        ev = Evaluation.objects.create(plan=plan, office=office, title=title, year=2026, status=status,
                                       completion_date=completion, cancellation_reason=reason)
        at = timezone.make_aware(dt.datetime.combine(approved, dt.time(23, 0))) if approved else None
        ManagementResponse.objects.create(evaluation=ev, status=response, approved_at=at)

    evaluation("On time", response="Approved", approved=done + dt.timedelta(weeks=6))  # the last day counts
    evaluation("Late", response="Approved", approved=done + dt.timedelta(weeks=6, days=1))
    evaluation("Waiting", response="Submitted")
    evaluation("Undated", completion=None)
    evaluation("Dropped", status="cancelled", completion=None, reason="The programme closed.")
    evaluation("Going", status="ongoing", completion=None)
    evaluation("Later", status="planned", completion=None)
    Evaluation.objects.create(plan=make_evaluation(office).plan, office=office, title="Other plan", year=2024)

    [c] = plan_compliance(Evaluation.objects.filter(plan=plan), weeks=6)
    assert (c.plan_id, c.office, c.period, c.closed) == (plan.pk, "Office D", "2026 - 2027", False)
    assert (c.planned, c.completed, c.cancelled, c.in_progress) == (7, 4, 1, 2)
    assert (c.within, c.late, c.pending, c.unknown) == (1, 1, 1, 1)
    assert c.cancellations == [("Dropped", "The programme closed.")]
    assert c.completion_rate == 4 / 6 and c.timely_share == 1 / 3
    # Another number of weeks moves the late one in.
    [c] = plan_compliance(Evaluation.objects.filter(plan=plan), weeks=7)
    assert (c.within, c.late) == (2, 0)
    assert len(plan_compliance(Evaluation.objects.filter(office=office))) == 2
