"""Deadline revisions: a reason each time, the first deadline kept for ever, history; and what an import moves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from tests.conftest import sample_text
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ChangeRecord, DeadlineRevision, KeyAction, Role, RoleAssignment, Unit
from tracking.services.deadlines import revise_deadline
from tracking.services.errors import ConflictError
from tracking.services.importer import Importer

pytestmark = pytest.mark.django_db
User = get_user_model()
FIRST = dt.date(2025, 6, 1)


def person(name, role=None, **scope) -> Actor:
    user = User.objects.create(username=name)
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return Actor(user=user)


@pytest.fixture
def world():
    office = make_office("Office D")
    unit = Unit.objects.create(office=office, name="Unit D")
    action = make_action(make_recommendation(make_evaluation(office)), deadline=FIRST, units=[unit])
    return action, {
        "unit": person("unit.fp", Role.UNIT_FOCAL_POINT, unit=unit),
        "office": person("office.fp", Role.OFFICE_FOCAL_POINT, office=office),
        "eo": person("eo", Role.EVALUATION_OFFICE),
        "viewer": person("viewer", Role.VIEWER),
        "other_unit": person("other.fp", Role.UNIT_FOCAL_POINT, unit=Unit.objects.create(office=office, name="Unit E")),
    }


def test_revisions_keep_the_first_deadline_and_write_history(world):
    action, p = world
    first = revise_deadline(p["unit"], action, version=1, deadline=dt.date(2025, 12, 15), reason="  Funding arrived late. ")
    action.refresh_from_db()
    assert (action.deadline, action.first_deadline, action.version) == (dt.date(2025, 12, 1), FIRST, 2)
    assert (first.previous, first.deadline, first.reason, first.author_name) == (FIRST, dt.date(2025, 12, 1), "Funding arrived late.", "unit.fp")
    created, changed = ChangeRecord.objects.order_by("pk")
    assert (created.action, created.content_type.model, created.after["reason"]) == ("create", "deadlinerevision", "Funding arrived late.")
    assert (changed.action, changed.content_type.model) == ("update", "keyaction")
    assert changed.before == {"deadline": "2025-06-01", "first_deadline": None}
    assert changed.after == {"deadline": "2025-12-01", "first_deadline": "2025-06-01"}
    assert {r.user_id for r in (created, changed)} == {p["unit"].user.pk}

    revise_deadline(p["office"], action, version=2, deadline=dt.date(2026, 6, 1), reason="The partner changed.")
    action.refresh_from_db()
    assert (action.deadline, action.first_deadline) == (dt.date(2026, 6, 1), FIRST)  # still the first
    assert action.was_revised
    assert list(action.deadline_revisions.values_list("previous", "deadline")) == [
        (FIRST, dt.date(2025, 12, 1)), (dt.date(2025, 12, 1), dt.date(2026, 6, 1))
    ]
    assert ChangeRecord.objects.get(pk__gt=changed.pk, content_type__model="keyaction").before == {"deadline": "2025-12-01"}


@pytest.mark.parametrize(
    "deadline,reason,field",
    [
        (dt.date(2026, 1, 1), "", "reason"),
        (dt.date(2026, 1, 1), "  \n ", "reason"),
        (None, "A reason.", "deadline"),
        (FIRST, "Same month.", "deadline"),
        (dt.date(2025, 6, 20), "Same month, another day.", "deadline"),
    ],
)
def test_a_revision_without_a_reason_or_a_new_month_is_refused(world, deadline, reason, field):
    action, p = world
    with pytest.raises(ValidationError) as exc:
        revise_deadline(p["unit"], action, version=1, deadline=deadline, reason=reason)
    assert field in exc.value.message_dict
    action.refresh_from_db()
    assert (action.deadline, action.first_deadline, action.version) == (FIRST, None, 1)
    assert not DeadlineRevision.objects.exists() and not ChangeRecord.objects.exists()


@pytest.mark.parametrize("who", ["eo", "viewer", "other_unit"])
def test_only_who_reports_progress_revises_the_deadline(world, who):
    action, p = world
    with pytest.raises(PermissionDenied):
        revise_deadline(p[who], action, version=1, deadline=dt.date(2026, 1, 1), reason="Because.")
    with pytest.raises(PermissionDenied):
        revise_deadline(Actor(user=None), action, version=1, deadline=dt.date(2026, 1, 1), reason="Because.")
    assert KeyAction.objects.get(pk=action.pk).deadline == FIRST
    assert not DeadlineRevision.objects.exists() and not ChangeRecord.objects.exists()


def test_a_drafts_deadline_is_edited_not_revised(world):
    _, p = world
    draft = make_action(make_recommendation(make_evaluation(make_office("Office F"), status="Draft")), deadline=FIRST)
    fp = person("draft.fp", Role.OFFICE_FOCAL_POINT, office=draft.evaluation.office)
    with pytest.raises(PermissionDenied):
        revise_deadline(fp, draft, version=1, deadline=dt.date(2026, 1, 1), reason="Because.")


def test_a_stale_revision_is_refused_and_the_attempt_kept(world):
    action, p = world
    revise_deadline(p["unit"], action, version=1, deadline=dt.date(2026, 1, 1), reason="First move.")
    with pytest.raises(ConflictError):
        revise_deadline(p["office"], action, version=1, deadline=dt.date(2026, 3, 1), reason="Second move.")
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.after == {"deadline": "2026-03-01", "reason": "Second move.", "based_on_version": 1}
    assert KeyAction.objects.get(pk=action.pk).deadline == dt.date(2026, 1, 1)


def test_a_deadline_moved_by_a_reimport_is_a_recorded_revision():
    importer = Importer(Actor.system("import"))
    text = sample_text("002_543cb0e5625ab64b")
    first = importer.import_text(text, source="002.txt")
    action = KeyAction.objects.get(evaluation_id=first.evaluation_id, responsible__contains="Resilience Unit", deadline=dt.date(2026, 12, 1))
    moved = text.replace("Resilience Unit 2026/12 Initiated", "Resilience Unit 2027/09 Initiated")
    assert moved != text
    importer.import_text(moved, source="002-v2.txt")
    action.refresh_from_db()
    assert (action.deadline, action.first_deadline) == (dt.date(2027, 9, 1), dt.date(2026, 12, 1))
    revision = action.deadline_revisions.get()
    assert (revision.previous, revision.deadline, revision.author_name) == (dt.date(2026, 12, 1), dt.date(2027, 9, 1), "system (import)")
    assert "002-v2.txt" in revision.reason
    assert ChangeRecord.objects.filter(content_type__model="deadlinerevision", object_id=revision.pk, action="create").exists()
    # Imported again as it was: a second revision; the first deadline stays.
    importer.import_text(text, source="002-v3.txt")
    action.refresh_from_db()
    assert (action.deadline, action.first_deadline, action.deadline_revisions.count()) == (dt.date(2026, 12, 1), dt.date(2026, 12, 1), 2)


def test_days_late_of_a_completed_action(world):
    action, _ = world
    action.status, action.completed_on = "Completed", dt.date(2025, 6, 30)
    assert action.days_late == 0  # within the first deadline's month
    action.completed_on = dt.date(2025, 7, 10)
    assert action.days_late == 10
    action.first_deadline, action.deadline = FIRST, dt.date(2025, 9, 1)  # revised: still measured from June
    assert action.days_late == 10
    action.completed_on = None
    assert action.days_late is None


def test_the_migration_backfills_first_deadlines_of_approved_responses_and_completion_dates():
    """Run on the models as they are (the migration's own function): approved keep their deadline as the first,
    drafts stay free; a Completed action is dated by its last progress update to Completed."""
    import importlib

    from django.apps import apps

    from tracking.models import ActionUpdate

    backfill = importlib.import_module("tracking.migrations.0011_verify_deadlines").backfill
    office = make_office("Office M")
    approved = make_action(make_recommendation(make_evaluation(office)), deadline=FIRST, status="Completed")
    draft = make_action(make_recommendation(make_evaluation(office, status="Draft")), deadline=FIRST)
    undated = make_action(make_recommendation(make_evaluation(office)), deadline=None, status="Completed")
    for day in (dt.datetime(2025, 3, 2, 10, tzinfo=dt.UTC), dt.datetime(2025, 7, 9, 10, tzinfo=dt.UTC)):
        ActionUpdate.objects.create(key_action=approved, status_after="Completed", created_at=day)
    ActionUpdate.objects.create(key_action=approved, status_after="Initiated", created_at=dt.datetime(2025, 5, 1, tzinfo=dt.UTC))
    backfill(apps, None)
    rows = {a.pk: a for a in KeyAction.objects.all()}
    assert (rows[approved.pk].first_deadline, rows[approved.pk].completed_on) == (FIRST, dt.date(2025, 7, 9))
    assert (rows[draft.pk].first_deadline, rows[draft.pk].completed_on) == (None, None)
    assert (rows[undated.pk].first_deadline, rows[undated.pk].completed_on) == (None, None)
