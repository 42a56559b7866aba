"""Drafting and review: the services' rules, versions, locks, and the history every change writes."""

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
    KeyAction,
    ManagementResponse,
    Recommendation,
    Role,
    RoleAssignment,
    Term,
    Unit,
)
from tracking.services import drafting
from tracking.services.errors import ConflictError
from tracking.services.progress import record_progress

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
def unit(office):
    return Unit.objects.create(office=office, name="Unit D")


@pytest.fixture
def focal(office):
    return person("focal", Role.OFFICE_FOCAL_POINT, office=office)


@pytest.fixture
def reviewer():
    return person("reviewer", Role.EVALUATION_OFFICE)


@pytest.fixture
def draft(office):
    return make_evaluation(office, title="Drafted", status="Draft").management_response


def written(draft):
    """The overall response written (without a new version): the submission checks ask for it."""
    ManagementResponse.objects.filter(pk=draft.pk).update(overall_response="We accept the evaluation.")
    draft.overall_response = "We accept the evaluation."


def records(**filters):
    return list(ChangeRecord.objects.filter(**filters).order_by("id"))


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def rec_fields(**extra):
    return {"number": "1", "text": "Do better.", "response_text": "We will.", "description": "", "category": "Accepted", **extra}


def action_fields(**extra):
    return {"number": "1.1", "text": "Train staff.", "responsible": "", "deadline": dt.date(2031, 5, 17), "status": "Not Initiated", "comments": "", **extra}


# --- evaluations ---------------------------------------------------------------------------------


def test_the_evaluation_office_creates_an_evaluation_with_an_empty_draft(office, reviewer):
    ev = drafting.create_evaluation(reviewer, office=office, start_year=2024, end_year=2025, title="  New one  ")
    assert (ev.title, ev.year, ev.plan.start_year, ev.plan.end_year) == ("New one", 2025, 2024, 2025)
    assert ev.management_response.status == "Draft" and ev.management_response.version == 1
    made = records()
    assert [(r.action, r.content_type.model) for r in made] == [("create", "evaluation"), ("create", "managementresponse")]
    assert made[0].after["title"] == "New one" and made[0].after["office"] == office.pk
    assert {r.evaluation_id for r in made} == {ev.pk} and {r.user for r in made} == {reviewer.user}
    # The same plan is reused for the next evaluation of the period.
    drafting.create_evaluation(reviewer, office=office, start_year=2024, end_year=2025, title="Another")
    assert EvaluationPlan.objects.filter(office=office).count() == 1


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"title": "   "}, "title"),
        ({"title": "Backwards", "start_year": 2026, "end_year": 2025}, "end_year"),
    ],
)
def test_an_evaluation_needs_a_title_and_a_sensible_period(office, reviewer, kwargs, field):
    args = {"office": office, "start_year": 2024, "end_year": 2025, **kwargs}
    with pytest.raises(ValidationError) as exc:
        drafting.create_evaluation(reviewer, **args)
    assert field in exc.value.message_dict
    assert not Evaluation.objects.exists() and not ChangeRecord.objects.exists()


def test_a_plan_holds_one_evaluation_of_a_title(office, reviewer):
    drafting.create_evaluation(reviewer, office=office, start_year=2024, end_year=2025, title="Twice")
    with pytest.raises(ValidationError, match="already has"):
        drafting.create_evaluation(reviewer, office=office, start_year=2024, end_year=2025, title="Twice")
    assert Evaluation.objects.count() == 1 and ChangeRecord.objects.count() == 2


def test_only_the_evaluation_office_in_scope_creates_evaluations(office, focal):
    other = make_office("Office E", region="Region E")
    scoped = person("scoped", Role.EVALUATION_OFFICE, office=other)
    for actor in (focal, scoped, person("admin", Role.ADMINISTRATOR), Actor(user=None)):
        with pytest.raises(PermissionDenied):
            drafting.create_evaluation(actor, office=office, start_year=2024, end_year=2025, title="Nope")
    assert not Evaluation.objects.exists() and not EvaluationPlan.objects.exists() and not ChangeRecord.objects.exists()
    drafting.create_evaluation(scoped, office=other, start_year=2024, end_year=2025, title="Mine")


# --- the response header -------------------------------------------------------------------------------


def test_the_response_header_records_its_units_and_text(draft, focal, unit):
    result = drafting.update_response(focal, draft, version=1, overall_response="  Overall.  ", units=[unit])
    assert (result.overall_response, result.version, result.units_as_written) == ("Overall.", 2, ["Unit D"])
    assert list(fresh(draft).units.all()) == [unit]
    (change,) = records()
    assert change.action == "update" and change.content_type.model == "managementresponse"
    assert change.before == {"overall_response": "", "units_as_written": [], "units": []}
    assert change.after == {"overall_response": "Overall.", "units_as_written": ["Unit D"], "units": [unit.pk]}


def test_a_stale_header_is_refused_and_kept(draft, focal):
    drafting.update_response(focal, draft, version=1, overall_response="First.", units=[])
    with pytest.raises(ConflictError):
        drafting.update_response(focal, draft, version=1, overall_response="Second.", units=[])
    assert fresh(draft).overall_response == "First."
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.after == {"overall_response": "Second.", "based_on_version": 1}


# --- recommendations -----------------------------------------------------------------------------------


def test_adding_recommendations_numbers_them_in_order_and_moves_the_response_version(draft, focal):
    term = Term.objects.create(kind=Term.Kind.THEMATIC_AREA, name="Drafting test area")
    first = drafting.add_recommendation(focal, draft, fields=rec_fields(), terms=[term])
    second = drafting.add_recommendation(focal, draft, fields=rec_fields(number="2", text="Also this."))
    assert (first.position, second.position) == (1, 2)
    assert [t.term for t in first.tags.all()] == [term]
    assert fresh(draft).version == 3
    created = records(action="create", content_type__model="recommendation")
    assert [r.object_id for r in created] == [first.pk, second.pk]
    assert created[0].after["text"] == "Do better." and created[0].after["tags"] == [term.pk]
    assert created[0].after["management_response"] == draft.pk


@pytest.mark.parametrize(
    "fields,field",
    [
        (rec_fields(text="  "), "text"),
        (rec_fields(number=""), "number"),
        (rec_fields(category="Mostly accepted"), "category"),
    ],
)
def test_a_recommendation_needs_a_number_a_text_and_a_known_category(draft, focal, fields, field):
    with pytest.raises(ValidationError) as exc:
        drafting.add_recommendation(focal, draft, fields=fields)
    assert field in exc.value.message_dict
    assert not Recommendation.objects.exists() and fresh(draft).version == 1 and not ChangeRecord.objects.exists()


def test_editing_a_recommendation_records_only_what_changed(draft, focal):
    rec = drafting.add_recommendation(focal, draft, fields=rec_fields())
    term = Term.objects.create(kind=Term.Kind.UNEG_CRITERION, name="Drafting test criterion")
    edited = drafting.update_recommendation(focal, rec, version=1, fields=rec_fields(text="Do much better."), terms=[term])
    assert (edited.text, edited.version) == ("Do much better.", 2)
    text_change, tag_change = records(action="update", content_type__model="recommendation")
    assert (text_change.before, text_change.after) == ({"text": "Do better."}, {"text": "Do much better."})
    assert (tag_change.before, tag_change.after) == ({"tags": []}, {"tags": [term.pk]})
    # Saving the same values again changes nothing and records nothing.
    drafting.update_recommendation(focal, edited, version=2, fields=rec_fields(text="Do much better."), terms=[term])
    assert fresh(rec).version == 2
    assert len(records(action="update", content_type__model="recommendation")) == 2


def test_a_stale_recommendation_edit_is_refused_and_the_attempt_is_kept(draft, focal):
    rec = drafting.add_recommendation(focal, draft, fields=rec_fields())
    drafting.update_recommendation(focal, rec, version=1, fields=rec_fields(text="Theirs."))
    with pytest.raises(ConflictError) as exc:
        drafting.update_recommendation(focal, rec, version=1, fields=rec_fields(text="Mine."))
    assert exc.value.current.text == "Theirs." and exc.value.current.version == 2
    assert fresh(rec).text == "Theirs."
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.object_id == rec.pk and refused.after["text"] == "Mine." and refused.after["based_on_version"] == 1
    assert refused.user == focal.user and refused.evaluation_id == draft.evaluation_id


def test_deleting_a_recommendation_keeps_a_full_snapshot_and_renumbers(draft, focal, unit):
    recs = [drafting.add_recommendation(focal, draft, fields=rec_fields(number=str(i), text=f"Rec {i}.")) for i in (1, 2, 3)]
    action = drafting.add_action(focal, recs[0], fields=action_fields(), units=[unit])
    # A draft's actions get no progress updates through the web (progress starts on approval),
    # but an import of an earlier version of the response can leave some: they must not be lost.
    ActionUpdate.objects.create(
        key_action=action, status_before="Not Initiated", status_after="Initiated",
        comment="Begun before deletion.", author=focal.user, author_name="focal", source="import",
    )
    drafting.delete_recommendation(focal, recs[0], version=1)
    assert not Recommendation.objects.filter(pk=recs[0].pk).exists()
    assert not KeyAction.objects.filter(pk=action.pk).exists() and not ActionUpdate.objects.exists()
    assert list(draft.recommendations.order_by("position").values_list("text", "position")) == [("Rec 2.", 1), ("Rec 3.", 2)]
    renumbered = records(action="update", content_type__model="recommendation")
    assert {(r.object_repr, r.before["position"], r.after["position"]) for r in renumbered} == {
        ("Recommendation 2", 2, 1), ("Recommendation 3", 3, 2)}
    gone_action, gone_rec = records(action="delete")
    assert gone_rec.content_type.model == "recommendation" and gone_rec.before["text"] == "Rec 1." and gone_rec.after is None
    assert gone_action.content_type.model == "keyaction" and gone_action.before["text"] == "Train staff."
    (update,) = gone_action.before["updates"]
    assert (update["status_after"], update["comment"], update["author"]) == ("Initiated", "Begun before deletion.", focal.user.pk)
    assert {r.request_id for r in (gone_action, gone_rec)} == {focal.request_id}


def test_a_stale_recommendation_deletion_is_refused(draft, focal):
    rec = drafting.add_recommendation(focal, draft, fields=rec_fields())
    drafting.update_recommendation(focal, rec, version=1, fields=rec_fields(text="Changed."))
    with pytest.raises(ConflictError):
        drafting.delete_recommendation(focal, rec, version=1)
    assert Recommendation.objects.filter(pk=rec.pk).exists()
    assert ChangeRecord.objects.get(action="refused").after == {"delete": True, "based_on_version": 1}


def test_moving_recommendations(draft, focal):
    a, b, c = (drafting.add_recommendation(focal, draft, fields=rec_fields(number=n, text=n)) for n in "abc")
    version = fresh(draft).version
    drafting.move_recommendation(focal, c, -1)
    assert list(draft.recommendations.order_by("position").values_list("text", flat=True)) == ["a", "c", "b"]
    # The row moved, and the one it changed places with: every position change is in the history.
    moves = {(r.object_id, r.before["position"], r.after["position"]) for r in records(action="update", content_type__model="recommendation")}
    assert moves == {(c.pk, 3, 2), (b.pk, 2, 3)}
    assert fresh(draft).version == version + 1
    # Past either end nothing moves and nothing is recorded.
    drafting.move_recommendation(focal, a, -1)
    drafting.move_recommendation(focal, fresh(b), +1)
    assert list(draft.recommendations.order_by("position").values_list("text", flat=True)) == ["a", "c", "b"]
    assert len(records(action="update", content_type__model="recommendation")) == 2


# --- key actions --------------------------------------------------------------------------------------------


def test_adding_a_key_action(draft, focal, unit):
    rec = drafting.add_recommendation(focal, draft, fields=rec_fields())
    action = drafting.add_action(focal, rec, fields=action_fields(), units=[unit])
    second = drafting.add_action(focal, rec, fields=action_fields(number="1.2", responsible="Someone else"))
    assert (action.position, second.position) == (1, 2)
    assert action.deadline == dt.date(2031, 5, 1)  # month precision
    assert action.responsible == "Unit D" and second.responsible == "Someone else"
    assert list(action.units.all()) == [unit] and action.evaluation_id == draft.evaluation_id
    created = records(action="create", content_type__model="keyaction")
    assert created[0].after["units"] == [unit.pk] and created[0].after["deadline"] == "2031-05-01"


@pytest.mark.parametrize(
    "fields,field",
    [
        (action_fields(text=""), "text"),
        (action_fields(number=" "), "number"),
        (action_fields(status="Ongoing"), "status"),
        (action_fields(deadline="2031-05"), "deadline"),
    ],
)
def test_a_key_action_needs_its_fields(draft, focal, fields, field):
    rec = make_recommendation(draft.evaluation)
    with pytest.raises(ValidationError) as exc:
        drafting.add_action(focal, rec, fields=fields)
    assert field in exc.value.message_dict
    assert not KeyAction.objects.exists() and not ChangeRecord.objects.exists()


def test_editing_a_key_action_and_its_units(draft, focal, unit):
    rec = make_recommendation(draft.evaluation)
    action = drafting.add_action(focal, rec, fields=action_fields())
    other = Unit.objects.create(office=draft.evaluation.office, name="Unit D2")
    edited = drafting.update_action(focal, action, version=1, fields=action_fields(status="Initiated", deadline=dt.date(2032, 1, 9)), units=[unit, other])
    assert (edited.status, edited.deadline, edited.version) == ("Initiated", dt.date(2032, 1, 1), 2)
    fields_change, units_change = records(action="update", content_type__model="keyaction")
    assert fields_change.before == {"deadline": "2031-05-01", "status": "Not Initiated"}
    assert fields_change.after == {"deadline": "2032-01-01", "status": "Initiated"}
    assert (units_change.before, units_change.after) == ({"units": []}, {"units": sorted([unit.pk, other.pk])})


def test_a_stale_key_action_edit_is_refused_and_the_attempt_is_kept(draft, focal):
    action = drafting.add_action(focal, make_recommendation(draft.evaluation), fields=action_fields())
    drafting.update_action(focal, action, version=1, fields=action_fields(text="Theirs."))
    with pytest.raises(ConflictError):
        drafting.update_action(focal, action, version=1, fields=action_fields(text="Mine."))
    assert fresh(action).text == "Theirs."
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.object_id == action.pk and refused.after["text"] == "Mine." and refused.after["deadline"] == "2031-05-01"


def test_deleting_a_key_action_keeps_its_progress_in_the_history(draft, focal):
    rec = make_recommendation(draft.evaluation)
    first, second, third = (drafting.add_action(focal, rec, fields=action_fields(number=f"1.{i}", text=f"A{i}")) for i in (1, 2, 3))
    # Progress left by an import (a draft gets none through the web) goes into the deletion record.
    drafting.update_action(focal, second, version=1, fields={**action_fields(number="1.2", text="A2"), "status": "Completed"})
    ActionUpdate.objects.create(
        key_action=second, status_before="Not Initiated", status_after="Completed",
        comment="Finished early.", author_name="import", source="import",
    )
    drafting.delete_action(focal, fresh(second), version=2)
    assert list(rec.key_actions.order_by("position").values_list("text", "position")) == [("A1", 1), ("A3", 2)]
    gone = ChangeRecord.objects.get(action="delete")
    assert gone.object_id == second.pk and gone.before["text"] == "A2" and gone.before["status"] == "Completed"
    assert [u["comment"] for u in gone.before["updates"]] == ["Finished early."]
    with pytest.raises(ConflictError):
        drafting.delete_action(focal, first, version=5)
    assert KeyAction.objects.filter(pk=first.pk).exists()


def test_moving_key_actions(draft, focal):
    rec = make_recommendation(draft.evaluation)
    a, b = (drafting.add_action(focal, rec, fields=action_fields(number=n, text=n)) for n in ("x", "y"))
    drafting.move_action(focal, a, +1)
    assert list(rec.key_actions.order_by("position").values_list("text", flat=True)) == ["y", "x"]
    moves = {(r.object_id, r.before["position"], r.after["position"]) for r in records(action="update", content_type__model="keyaction")}
    assert moves == {(a.pk, 1, 2), (b.pk, 2, 1)}


# --- the workflow --------------------------------------------------------------------------------------------


def test_a_response_needs_a_recommendation_before_it_is_submitted(draft, focal):
    with pytest.raises(ValidationError, match="at least one recommendation"):
        drafting.submit_response(focal, draft, version=1)
    assert fresh(draft).status == "Draft" and not ChangeRecord.objects.exists()


def test_submit_approve_and_the_lock_after(draft, focal, reviewer, unit):
    written(draft)
    rec = drafting.add_recommendation(focal, draft, fields=rec_fields())
    action = drafting.add_action(focal, rec, fields=action_fields(), units=[unit])
    version = fresh(draft).version
    submitted = drafting.submit_response(focal, draft, version=version)
    assert submitted.status == "Submitted" and submitted.submitted_at and submitted.version == version + 1
    change = ChangeRecord.objects.filter(action="update", content_type__model="managementresponse").latest("id")
    assert change.message == "response submitted"
    assert change.before["status"] == "Draft" and change.after["status"] == "Submitted"
    # Under review: the focal point may not change it any more.
    with pytest.raises(PermissionDenied):
        drafting.add_recommendation(focal, draft, fields=rec_fields(number="2"))
    approved = drafting.approve_response(reviewer, draft, version=submitted.version)
    assert approved.status == "Approved" and approved.approved_at
    assert ChangeRecord.objects.latest("id").message == "response approved"
    # Approved: locked for everybody, a superuser included ...
    su = Actor(user=User.objects.create(username="root", is_superuser=True))
    for actor in (focal, su):
        with pytest.raises(PermissionDenied):
            drafting.update_recommendation(actor, rec, version=1, fields=rec_fields(text="Rewritten."))
        with pytest.raises(PermissionDenied):
            drafting.update_action(actor, action, version=1, fields=action_fields(text="Rewritten."))
        with pytest.raises(PermissionDenied):
            drafting.delete_action(actor, action, version=1)
        with pytest.raises(PermissionDenied):
            drafting.move_recommendation(actor, rec, +1)
        with pytest.raises(PermissionDenied):
            drafting.update_response(actor, draft, version=approved.version, overall_response="Rewritten.", units=[])
        with pytest.raises(PermissionDenied):
            drafting.return_response(actor, draft, version=approved.version, reason="Again.")
    assert fresh(rec).text == "Do better." and fresh(action).text == "Train staff."
    assert not ChangeRecord.objects.filter(action="refused").exists()
    # ... except for progress updates.
    record_progress(focal, action, version=fresh(action).version, status="Completed", comment="Done.", evidence_url="https://example.org/proof")
    assert fresh(action).status == "Completed"


def test_approving_needs_a_submitted_response(draft, focal, reviewer):
    drafting.add_recommendation(focal, draft, fields=rec_fields())
    with pytest.raises(PermissionDenied):
        drafting.approve_response(reviewer, draft, version=fresh(draft).version)
    assert fresh(draft).status == "Draft"


def test_returning_needs_a_reason_and_reopens_the_draft(draft, focal, reviewer):
    written(draft)
    drafting.add_recommendation(focal, draft, fields=rec_fields(category="Rejected"))
    submitted = drafting.submit_response(focal, draft, version=fresh(draft).version)
    with pytest.raises(ValidationError) as exc:
        drafting.return_response(reviewer, draft, version=submitted.version, reason="   ")
    assert "reason" in exc.value.message_dict and fresh(draft).status == "Submitted"
    returned = drafting.return_response(reviewer, draft, version=submitted.version, reason=" Say more. ")
    assert (returned.status, returned.return_reason) == ("Returned", "Say more.")
    change = ChangeRecord.objects.latest("id")
    assert change.after == {"status": "Returned", "return_reason": "Say more."} and change.message == "response returned"
    # Back with the office: editable, and submitted again (which clears the reason).
    drafting.add_recommendation(focal, draft, fields=rec_fields(number="2", category="Rejected"))
    again = drafting.submit_response(focal, draft, version=fresh(draft).version)
    assert (again.status, again.return_reason) == ("Submitted", "")


def test_a_stale_review_is_refused_and_kept(draft, focal, reviewer):
    written(draft)
    drafting.add_recommendation(focal, draft, fields=rec_fields(category="Rejected"))
    submitted = drafting.submit_response(focal, draft, version=fresh(draft).version)
    with pytest.raises(ConflictError):
        drafting.approve_response(reviewer, draft, version=submitted.version - 1)
    assert fresh(draft).status == "Submitted"
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.after == {"status": "Approved", "based_on_version": submitted.version - 1}
    assert refused.user == reviewer.user


def test_a_scoped_reviewer_reviews_only_their_offices(draft, focal):
    written(draft)
    drafting.add_recommendation(focal, draft, fields=rec_fields(category="Rejected"))
    submitted = drafting.submit_response(focal, draft, version=fresh(draft).version)
    elsewhere = person("elsewhere", Role.EVALUATION_OFFICE, office=make_office("Office F"))
    in_region = person("in-region", Role.EVALUATION_OFFICE, region=draft.evaluation.office.region)
    with pytest.raises(PermissionDenied):
        drafting.approve_response(elsewhere, draft, version=submitted.version)
    drafting.approve_response(in_region, draft, version=submitted.version)
    assert fresh(draft).status == "Approved"


def test_another_office_cannot_draft(draft):
    other = person("other", Role.OFFICE_FOCAL_POINT, office=make_office("Office G"))
    unit_fp = person("unit-fp", Role.UNIT_FOCAL_POINT, unit=Unit.objects.create(office=draft.evaluation.office, name="U"))
    rec = make_recommendation(draft.evaluation)
    action = make_action(rec)
    for actor in (other, unit_fp, person("viewer", Role.VIEWER), person("eo", Role.EVALUATION_OFFICE)):
        with pytest.raises(PermissionDenied):
            drafting.add_recommendation(actor, draft, fields=rec_fields())
        with pytest.raises(PermissionDenied):
            drafting.update_recommendation(actor, rec, version=1, fields=rec_fields(text="x"))
        with pytest.raises(PermissionDenied):
            drafting.delete_recommendation(actor, rec, version=1)
        with pytest.raises(PermissionDenied):
            drafting.add_action(actor, rec, fields=action_fields())
        with pytest.raises(PermissionDenied):
            drafting.update_action(actor, action, version=1, fields=action_fields())
        with pytest.raises(PermissionDenied):
            drafting.move_action(actor, action, +1)
        with pytest.raises(PermissionDenied):
            drafting.submit_response(actor, draft, version=1)
    assert ManagementResponse.objects.get(pk=draft.pk).version == 1
    assert Recommendation.objects.count() == 1 and KeyAction.objects.count() == 1
    assert not ChangeRecord.objects.exists()


def test_every_change_inside_a_response_moves_its_version(draft, focal):
    written(draft)
    versions = [fresh(draft).version]
    rec = drafting.add_recommendation(focal, draft, fields=rec_fields(category="Rejected"))
    versions.append(fresh(draft).version)
    action = drafting.add_action(focal, rec, fields=action_fields())
    versions.append(fresh(draft).version)
    drafting.update_action(focal, action, version=1, fields=action_fields(text="Changed."))
    versions.append(fresh(draft).version)
    drafting.update_recommendation(focal, rec, version=1, fields=rec_fields(text="Changed.", category="Rejected"))
    versions.append(fresh(draft).version)
    drafting.delete_action(focal, action, version=2)
    versions.append(fresh(draft).version)
    assert versions == [1, 2, 3, 4, 5, 6]
    # So a reviewer approving an older version is refused.
    submitted = drafting.submit_response(focal, draft, version=6)
    assert submitted.version == 7


# --- the submission checks ---------------------------------------------------------------------------------


def test_an_empty_draft_is_told_everything_it_lacks_and_is_not_submitted(draft, focal):
    checks = drafting.submission_checks(draft)
    assert [(c.target, c.message) for c in checks.missing] == [
        ("header", "Write the overall management response."),
        ("add_recommendation", "Add at least one recommendation."),
    ]
    with pytest.raises(ValidationError) as exc:
        drafting.submit_response(focal, draft, version=1)
    assert exc.value.messages == ["The response is not ready to submit:", "Write the overall management response.", "Add at least one recommendation."]
    assert fresh(draft).status == "Draft" and not ChangeRecord.objects.exists()


def test_accepted_recommendations_need_key_actions_with_a_unit_and_a_deadline(draft, focal, unit):
    written(draft)
    accepted = drafting.add_recommendation(focal, draft, fields=rec_fields(number="1", category="Accepted"))
    partly = drafting.add_recommendation(focal, draft, fields=rec_fields(number="2", category="Partially Accepted"))
    drafting.add_recommendation(focal, draft, fields=rec_fields(number="3", category="Rejected"))  # needs none
    bare = drafting.add_action(focal, accepted, fields=action_fields(number="1.1", deadline=None))
    checks = drafting.submission_checks(fresh(draft))
    assert [(c.target, c.pk, c.message) for c in checks.missing] == [
        ("action", bare.pk, "Key action 1.1: choose its responsible unit."),
        ("action", bare.pk, "Key action 1.1: give its deadline."),
        ("add_action", partly.pk, "Recommendation 2 is partially accepted: add at least one key action."),
    ]
    with pytest.raises(ValidationError):
        drafting.submit_response(focal, draft, version=fresh(draft).version)
    drafting.update_action(focal, bare, version=1, fields=action_fields(number="1.1"), units=[unit])
    drafting.add_action(focal, partly, fields=action_fields(number="2.1"), units=[unit])
    assert drafting.submission_checks(fresh(draft)).ready
    assert drafting.submit_response(focal, draft, version=fresh(draft).version).status == "Submitted"


def test_warnings_for_deadlines_and_key_actions_without_a_deliverable_do_not_refuse(draft, focal, unit):
    written(draft)
    from tracking.models import Evaluation

    Evaluation.objects.filter(pk=draft.evaluation_id).update(completion_date=dt.date(2024, 6, 15))
    rec = drafting.add_recommendation(focal, draft, fields=rec_fields())
    before = drafting.add_action(focal, rec, fields=action_fields(number="1.1", deadline=dt.date(2024, 5, 1)), units=[unit])
    past = drafting.add_action(focal, rec, fields=action_fields(number="1.2", deadline=dt.date(2025, 1, 1)), units=[unit])
    vague = drafting.add_action(
        focal, rec, fields=action_fields(number="1.3", text="Strengthen coordination with partners across the region."), units=[unit]
    )
    short = drafting.add_action(focal, rec, fields=action_fields(number="1.4", text="Be better."), units=[unit])
    fine = drafting.add_action(focal, rec, fields=action_fields(number="1.5", text="Strengthen coordination through a joint work plan."), units=[unit])
    counted = drafting.add_action(focal, rec, fields=action_fields(number="1.6", text="Train 40 staff."), units=[unit])
    checks = drafting.submission_checks(fresh(draft), on=dt.date(2026, 3, 10))
    assert checks.ready
    found = {(c.pk, c.message) for c in checks.warnings}
    assert found == {
        (before.pk, "Key action 1.1: its deadline (2024/05) is before the evaluation was completed (2024/06)."),
        (past.pk, "Key action 1.2: its deadline (2025/01) has already passed."),
        (vague.pk, "Key action 1.3 may not say what will be delivered: it opens with “strengthen” and names no deliverable "
                   "(a plan, a guideline, a training, a number…)."),
        (short.pk, "Key action 1.4 may not say what will be delivered: it is 2 words long and names no deliverable."),
    }
    assert fine.pk not in {c.pk for c in checks.warnings} and counted.pk not in {c.pk for c in checks.warnings}
    assert drafting.submit_response(focal, draft, version=fresh(draft).version).status == "Submitted"


@pytest.mark.parametrize(
    "text,flagged",
    [
        ("Continue to support partners.", True),
        ("Ensure that gender is mainstreamed across all programming areas.", True),
        ("Develop a resource mobilization strategy for the region.", False),
        ("Ensure that 80% of programmes have gender markers.", False),
        ("Hold two regional workshops with national partners.", False),
        ("Revise the results framework and its indicators.", False),
        ("Do it.", True),
    ],
)
def test_the_signals_of_a_key_action_without_a_deliverable(text, flagged):
    assert bool(drafting.vague_action(text)) == flagged
