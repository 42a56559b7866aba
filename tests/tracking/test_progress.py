"""Progress updates: the rules, optimistic locking on the key action's version, and the history they write."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ActionUpdate, ChangeRecord, KeyAction, Role, RoleAssignment, Unit
from tracking.services import progress
from tracking.services.errors import ConflictError
from tracking.services.progress import record_progress

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def setting():
    office = make_office("Office P")
    unit = Unit.objects.create(office=office, name="Unit P")
    action = make_action(make_recommendation(make_evaluation(office, status="Approved")), status="Initiated", units=[unit])
    person = User.objects.create(username="unit-fp")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=unit)
    return action, Actor(user=person)


def nothing_written(action: KeyAction, version: int = 1, status: str = "Initiated"):
    action.refresh_from_db()
    assert (action.version, action.status) == (version, status)
    assert not ActionUpdate.objects.exists()
    assert not ChangeRecord.objects.exists()


def test_a_progress_update_moves_the_status_and_writes_history(setting):
    action, actor = setting
    update = record_progress(actor, action, version=1, status="Completed", comment="  All done.  ", evidence_url="https://example.org/proof.pdf")
    action.refresh_from_db()
    assert (action.status, action.version) == ("Completed", 2)
    assert (update.status_before, update.status_after, update.comment) == ("Initiated", "Completed", "All done.")
    assert (update.author, update.author_name, update.source) == (actor.user, "unit-fp", "web")
    created, changed = ChangeRecord.objects.order_by("id")
    assert (created.action, created.content_type.model, created.object_id) == ("create", "actionupdate", update.pk)
    assert created.after["status_after"] == "Completed" and created.after["comment"] == "All done."
    assert created.after["key_action"] == action.pk and created.before is None
    assert (changed.action, changed.content_type.model, changed.object_id) == ("update", "keyaction", action.pk)
    assert (changed.before, changed.after) == (
        {"status": "Initiated", "verification": "", "completed_on": None},
        {"status": "Completed", "verification": "awaiting", "completed_on": timezone.localdate().isoformat()},
    )
    assert KeyAction.objects.get(pk=action.pk).awaits_verification
    for record in (created, changed):
        assert record.user == actor.user and record.user_name == "unit-fp" and record.source == "web"
        assert record.request_id == actor.request_id and record.evaluation_id == action.evaluation_id


def test_an_update_without_a_new_status_is_a_dated_comment(setting):
    action, actor = setting
    record_progress(actor, action, version=1, status="Initiated", comment="Still going.")
    action.refresh_from_db()
    assert (action.status, action.version) == ("Initiated", 2)  # the version moves: someone reported
    assert list(ChangeRecord.objects.values_list("action", "content_type__model")) == [("create", "actionupdate")]


def test_updates_follow_one_another_by_version(setting):
    action, actor = setting
    record_progress(actor, action, version=1, status="Initiated", comment="Started.")
    record_progress(actor, action, version=2, status="Completed", comment="Finished.", evidence_url="https://example.org/proof.pdf")
    action.refresh_from_db()
    assert action.version == 3
    assert list(action.updates.values_list("status_before", "status_after")) == [
        ("Initiated", "Initiated"),
        ("Initiated", "Completed"),
    ]


@pytest.mark.parametrize(
    "status,comment,field",
    [
        ("Completed", "", "comment"),
        ("Completed", "   \n ", "comment"),
        ("Completed", "Done, but no evidence.", "evidence_url"),
        ("No Longer Applicable", "", "comment"),
        ("Done-ish", "whatever", "status"),
        ("", "whatever", "status"),
    ],
)
def test_the_rules_of_a_progress_update(setting, status, comment, field):
    action, actor = setting
    with pytest.raises(ValidationError) as exc:
        record_progress(actor, action, version=1, status=status, comment=comment)
    assert field in exc.value.message_dict
    nothing_written(action)


def test_no_longer_applicable_with_a_reason_is_accepted(setting):
    action, actor = setting
    record_progress(actor, action, version=1, status="No Longer Applicable", comment="The programme closed.")
    assert KeyAction.objects.get(pk=action.pk).status == "No Longer Applicable"


@pytest.mark.parametrize("url", ["ftp://example.org/report.pdf", "example", "javascript:alert(1)", "https://"])
def test_an_evidence_link_must_be_a_web_address(setting, url):
    action, actor = setting
    with pytest.raises(ValidationError) as exc:
        record_progress(actor, action, version=1, status="Initiated", comment="", evidence_url=url)
    assert "evidence_url" in exc.value.message_dict
    nothing_written(action)


def test_an_evidence_link_is_kept(setting):
    action, actor = setting
    update = record_progress(actor, action, version=1, status="Initiated", comment="", evidence_url="https://example.org/r.pdf")
    assert ActionUpdate.objects.get(pk=update.pk).evidence_url == "https://example.org/r.pdf"


@pytest.mark.parametrize("name", ["payload.exe", "script.js", "noextension", "report.pdf.html"])
def test_evidence_files_of_other_types_are_refused(setting, media, name):
    action, actor = setting
    upload = SimpleUploadedFile(name, b"data")
    with pytest.raises(ValidationError) as exc:
        record_progress(actor, action, version=1, status="Initiated", comment="", evidence_file=upload)
    assert "evidence_file" in exc.value.message_dict
    nothing_written(action)
    assert not list(media.rglob("*.*"))


def test_an_evidence_file_too_large_is_refused(setting, media, monkeypatch):
    action, actor = setting
    monkeypatch.setattr(progress, "MAX_EVIDENCE_BYTES", 10)
    with pytest.raises(ValidationError, match="larger than"):
        record_progress(actor, action, version=1, status="Initiated", comment="", evidence_file=SimpleUploadedFile("r.pdf", b"x" * 11))
    nothing_written(action)
    # At the limit it is accepted (upper-case extensions too).
    update = record_progress(actor, action, version=1, status="Initiated", comment="", evidence_file=SimpleUploadedFile("R.PDF", b"x" * 10))
    assert update.evidence_file.name.startswith("evidence/") and update.evidence_file.read() == b"x" * 10
    assert (media / update.evidence_file.name).exists()
    assert ChangeRecord.objects.get(action="create").after["evidence_file"] == update.evidence_file.name


def test_a_stale_version_is_refused_and_the_attempt_kept(setting):
    action, actor = setting
    record_progress(actor, action, version=1, status="Initiated", comment="First.")
    other = Actor(user=User.objects.create(username="office-fp"))
    RoleAssignment.objects.create(user=other.user, role=Role.OFFICE_FOCAL_POINT, office=action.evaluation.office)
    with pytest.raises(ConflictError) as exc:
        record_progress(other, action, version=1, status="Completed", comment="My version of events.", evidence_url="https://example.org/x")
    assert exc.value.current.version == 2 and exc.value.current.status == "Initiated"
    assert "Nothing was saved" in str(exc.value)
    action.refresh_from_db()
    assert (action.version, action.status) == (2, "Initiated")
    assert action.updates.count() == 1
    refused = ChangeRecord.objects.get(action=ChangeRecord.Action.REFUSED)
    assert refused.user == other.user and refused.object_id == action.pk and refused.content_type.model == "keyaction"
    assert refused.after == {
        "status": "Completed",
        "comment": "My version of events.",
        "evidence_url": "https://example.org/x",
        "based_on_version": 1,
    }
    assert refused.evaluation_id == action.evaluation_id and "refused" in refused.message


def test_a_version_from_the_future_is_refused_too(setting):
    action, actor = setting
    with pytest.raises(ConflictError):
        record_progress(actor, action, version=7, status="Initiated", comment="")
    assert ChangeRecord.objects.get().action == "refused"
    assert not ActionUpdate.objects.exists()


def test_someone_without_the_right_writes_nothing_not_even_a_refusal(setting):
    action, _ = setting
    viewer = User.objects.create(username="viewer")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    for actor in (Actor(user=viewer), Actor(user=None)):
        with pytest.raises(PermissionDenied):
            record_progress(actor, action, version=1, status="Completed", comment="Sneaky.", evidence_url="https://example.org/proof.pdf")
    nothing_written(action)


def test_a_unit_focal_point_may_not_update_another_units_action(setting):
    action, actor = setting
    elsewhere = make_action(make_recommendation(make_evaluation(make_office("Office Q"))), status="Initiated")
    with pytest.raises(PermissionDenied):
        record_progress(actor, elsewhere, version=1, status="Completed", comment="Not mine.", evidence_url="https://example.org/proof.pdf")
    nothing_written(elsewhere)


def test_permission_is_decided_on_the_record_as_it_is_now(setting):
    """Unlinking the unit after the page was opened: the save is refused."""
    action, actor = setting
    stale_copy = KeyAction.objects.get(pk=action.pk)
    action.units.clear()
    with pytest.raises(PermissionDenied):
        record_progress(actor, stale_copy, version=1, status="Completed", comment="Done.", evidence_url="https://example.org/proof.pdf")
    nothing_written(action)


def test_the_system_records_progress_in_its_own_name(setting):
    action, _ = setting
    update = record_progress(Actor.system(), action, version=1, status="Completed", comment="Imported.", evidence_url="https://example.org/proof.pdf")
    assert (update.author, update.author_name, update.source) == (None, "system (command)", "command")
    assert set(ChangeRecord.objects.values_list("user_name", "source")) == {("system (command)", "command")}


def test_an_unknown_door_is_recorded_as_web(setting):
    action, actor = setting
    update = record_progress(Actor(user=actor.user, source="carrier-pigeon"), action, version=1, status="Initiated", comment="")
    assert update.source == "web"
    assert ChangeRecord.objects.get().source == "carrier-pigeon"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("www.example.org/report.pdf", "https://www.example.org/report.pdf"),
        ("example.org", "https://example.org"),
        ("example.org:8080/r.pdf", "https://example.org:8080/r.pdf"),
        ("//example.org/r.pdf", "https://example.org/r.pdf"),
        ("  http://example.org/r.pdf  ", "http://example.org/r.pdf"),
        ("HTTPS://example.org/", "HTTPS://example.org/"),
    ],
)
def test_an_evidence_link_without_a_scheme_is_completed_with_https(setting, typed, stored):
    action, actor = setting
    update = record_progress(actor, action, version=1, status="Initiated", comment="", evidence_url=typed)
    assert ActionUpdate.objects.get(pk=update.pk).evidence_url == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("javascript:alert(1)", "“javascript:”"),
        ("JaVaScRiPt:alert(1)", "“JaVaScRiPt:”"),
        ("data:text/html,<script>alert(1)</script>", "“data:”"),
        ("vbscript:msgbox(1)", "“vbscript:”"),
        ("mailto:someone@example.org", "“mailto:”"),
        ("java\tscript:alert(1)", "spaces, line breaks or control characters"),
        ("\x01javascript:alert(1)", "spaces, line breaks or control characters"),
        ("https://example.org/" + "x" * 500, "longer than 500 characters"),
    ],
)
def test_an_evidence_link_that_is_no_web_address_is_refused_with_a_clear_message(setting, typed, says):
    action, actor = setting
    with pytest.raises(ValidationError) as exc:
        record_progress(actor, action, version=1, status="Initiated", comment="", evidence_url=typed)
    assert says in " ".join(exc.value.message_dict["evidence_url"])
    nothing_written(action)
