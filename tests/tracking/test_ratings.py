"""Ratings beside the status: management rates a recommendation's adoption, the evaluation office validates it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from tests.tracking.factories import make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ChangeRecord, Recommendation, Role, RoleAssignment
from tracking.services.errors import ConflictError
from tracking.services.ratings import EVALUATION_OFFICE, MANAGEMENT, label, rate_adoption

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(name, *roles) -> Actor:
    user = User.objects.create(username=name)
    for role, scope in roles:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return Actor(user=user)


@pytest.fixture
def world():
    office = make_office("Office G")
    rec = make_recommendation(make_evaluation(office))
    return rec, {
        "fp": person("fp", (Role.OFFICE_FOCAL_POINT, {"office": office})),
        "eo": person("eo", (Role.EVALUATION_OFFICE, {"office": office})),
        "eo_other": person("eo.other", (Role.EVALUATION_OFFICE, {"office": make_office("Office H")})),
        "eo_and_fp": person("both", (Role.EVALUATION_OFFICE, {}), (Role.OFFICE_FOCAL_POINT, {"office": office})),
        "viewer": person("viewer", (Role.VIEWER, {})),
        "admin": person("admin", (Role.ADMINISTRATOR, {})),
    }


def test_both_sides_rate_separately_with_history(world):
    rec, p = world
    rate_adoption(p["fp"], rec, version=1, side=MANAGEMENT, rating="substantial", note="  Policy adopted; rollout partial. ")
    rec = rate_adoption(p["eo"], Recommendation.objects.get(pk=rec.pk), version=2, side=EVALUATION_OFFICE, rating="partial")
    assert (rec.adoption_by_management, rec.adoption_by_management_note) == ("substantial", "Policy adopted; rollout partial.")
    assert (rec.adoption_validated, rec.adoption_validated_note, rec.version) == ("partial", "", 3)
    management, validation = ChangeRecord.objects.order_by("pk")
    assert (management.user_id, management.before, management.after) == (
        p["fp"].user.pk,
        {"adoption_by_management": "", "adoption_by_management_note": ""},
        {"adoption_by_management": "substantial", "adoption_by_management_note": "Policy adopted; rollout partial."},
    )
    assert (validation.user_id, validation.after) == (p["eo"].user.pk, {"adoption_validated": "partial"})
    assert "evaluation office" in validation.message and validation.evaluation_id == rec.evaluation_id
    # Cleared: both the rating and its note.
    rec = rate_adoption(p["fp"], rec, version=3, side=MANAGEMENT, rating="")
    assert (rec.adoption_by_management, rec.adoption_by_management_note, rec.adoption_validated) == ("", "", "partial")


def test_the_same_rating_again_changes_nothing(world):
    rec, p = world
    rate_adoption(p["fp"], rec, version=1, side=MANAGEMENT, rating="full")
    rate_adoption(p["fp"], Recommendation.objects.get(pk=rec.pk), version=2, side=MANAGEMENT, rating="full")
    assert Recommendation.objects.get(pk=rec.pk).version == 2 and ChangeRecord.objects.count() == 1


@pytest.mark.parametrize(
    "side,who",
    [
        (MANAGEMENT, "eo"), (MANAGEMENT, "viewer"), (MANAGEMENT, "admin"), (MANAGEMENT, "eo_other"),
        (EVALUATION_OFFICE, "fp"), (EVALUATION_OFFICE, "eo_other"), (EVALUATION_OFFICE, "viewer"),
        (EVALUATION_OFFICE, "eo_and_fp"),  # the office's own focal point does not validate its rating
    ],
)
def test_each_side_is_rated_only_by_its_own(world, side, who):
    rec, p = world
    with pytest.raises(PermissionDenied):
        rate_adoption(p[who], rec, version=1, side=side, rating="full")
    assert Recommendation.objects.get(pk=rec.pk).version == 1 and not ChangeRecord.objects.exists()


def test_only_approved_responses_are_rated(world):
    _, p = world
    draft = make_recommendation(make_evaluation(p["fp"].user.role_assignments.get().office, status="Draft"))
    with pytest.raises(PermissionDenied):
        rate_adoption(p["fp"], draft, version=1, side=MANAGEMENT, rating="full")


@pytest.mark.parametrize(
    "side,rating,note,field",
    [("management", "excellent", "", "rating"), ("board", "full", "", "side"), ("management", "", "A note alone.", "note")],
)
def test_bad_input_is_refused_naming_the_field(world, side, rating, note, field):
    rec, p = world
    with pytest.raises(ValidationError) as exc:
        rate_adoption(p["fp"], rec, version=1, side=side, rating=rating, note=note)
    assert field in exc.value.message_dict and not ChangeRecord.objects.exists()


def test_a_stale_rating_is_refused_and_kept_in_the_history(world):
    rec, p = world
    rate_adoption(p["fp"], rec, version=1, side=MANAGEMENT, rating="full")
    with pytest.raises(ConflictError):
        rate_adoption(p["eo"], rec, version=1, side=EVALUATION_OFFICE, rating="negligible")
    refused = ChangeRecord.objects.get(action="refused")
    assert refused.after == {"side": "evaluation_office", "rating": "negligible", "note": "", "based_on_version": 1}
    assert Recommendation.objects.get(pk=rec.pk).adoption_validated == ""


def test_the_scale_is_configurable(world, settings):
    rec, p = world
    settings.ADOPTION_SCALE = [("high", "High"), ("low", "Low")]
    with pytest.raises(ValidationError):
        rate_adoption(p["fp"], rec, version=1, side=MANAGEMENT, rating="full")
    rate_adoption(p["fp"], rec, version=1, side=MANAGEMENT, rating="high")
    assert (label("high"), label("full"), label("")) == ("High", "full", "")
