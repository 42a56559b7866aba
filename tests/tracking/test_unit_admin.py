"""Administrators merge a junk unit into the right one and rename units; nothing is lost, everything recorded."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ChangeRecord, Role, RoleAssignment, Unit, UnitAlias
from tracking.services.unit_admin import mark_reviewed, merge_units, rename_unit
from tracking.services.units import UnitDirectory

pytestmark = pytest.mark.django_db
User = get_user_model()


def admin() -> Actor:
    user, made = User.objects.get_or_create(username="admin-u")
    if made:
        RoleAssignment.objects.create(user=user, role=Role.ADMINISTRATOR)
    return Actor(user=user)


@pytest.fixture
def junk():
    office = make_office("Country Office U")
    right = Unit.objects.create(office=office, name="Division of Management and Administration", acronym="DMA")
    wrong = Unit.objects.create(office=office, name="DM A", auto_created=True)
    UnitAlias.objects.create(unit=wrong, name="D M A")
    ev = make_evaluation(office)
    rec = make_recommendation(ev)
    both = make_action(rec, units=[wrong, right])
    only_junk = make_action(rec, units=[wrong])
    ev.management_response.units.set([wrong])
    holder = User.objects.create(username="unit-person")
    moved = RoleAssignment.objects.create(user=holder, role=Role.UNIT_FOCAL_POINT, unit=wrong)
    twice = User.objects.create(username="twice")
    RoleAssignment.objects.create(user=twice, role=Role.UNIT_FOCAL_POINT, unit=wrong)
    RoleAssignment.objects.create(user=twice, role=Role.UNIT_FOCAL_POINT, unit=right)
    return {"office": office, "right": right, "wrong": wrong, "both": both, "only_junk": only_junk, "ev": ev,
            "moved": moved, "twice": twice}


def test_merge_moves_everything_keeps_the_names_and_records_each_change(junk):
    right, wrong = junk["right"], junk["wrong"]
    wrong_pk = wrong.pk
    merge_units(admin(), wrong, right)
    assert not Unit.objects.filter(pk=wrong_pk).exists()
    assert list(junk["both"].units.all()) == [right]
    assert list(junk["only_junk"].units.all()) == [right]
    assert list(junk["ev"].management_response.units.all()) == [right]
    junk["moved"].refresh_from_db()
    assert junk["moved"].unit == right
    assert RoleAssignment.objects.filter(user=junk["twice"]).count() == 1
    assert {a.name for a in right.aliases.all()} == {"DM A", "D M A"}
    # History: each key action and response changed, the assignments, the aliases, the deleted unit.
    records = ChangeRecord.objects.filter(message__contains="merged into")
    by_model = {}
    for r in records:
        by_model.setdefault(r.content_type.model, []).append(r)
    assert len(by_model["keyaction"]) == 2 and len(by_model["managementresponse"]) == 1
    assert {r.action for r in by_model["roleassignment"]} == {"update", "delete"}
    assert len(by_model["unitalias"]) == 2
    deleted = by_model["unit"][0]
    assert deleted.action == "delete" and deleted.object_id == wrong_pk and deleted.before["name"] == "DM A"
    only = next(r for r in by_model["keyaction"] if r.object_id == junk["only_junk"].pk)
    assert (only.before, only.after, only.evaluation_id) == ({"units": [wrong_pk]}, {"units": [right.pk]}, junk["ev"].pk)


def test_the_importer_then_finds_the_right_unit_by_the_junk_name(junk):
    merge_units(admin(), junk["wrong"], junk["right"])
    units, created = UnitDirectory().resolve("DM A / D M A", junk["office"])
    assert units == [junk["right"]] and created == []


def test_the_importer_matches_aliases_before_making_a_unit():
    office = make_office("Country Office V")
    unit = Unit.objects.create(office=office, name="Programme Section")
    UnitAlias.objects.create(unit=unit, name="Programmes Sectn")
    units, created = UnitDirectory().resolve("Programmes Sectn", office)
    assert units == [unit] and not created


def test_merge_refuses_itself_and_non_administrators(junk):
    with pytest.raises(ValidationError):
        merge_units(admin(), junk["right"], junk["right"])
    focal = User.objects.create(username="focal-u")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=junk["office"])
    with pytest.raises(PermissionDenied):
        merge_units(Actor(user=focal), junk["wrong"], junk["right"])
    assert Unit.objects.filter(pk=junk["wrong"].pk).exists()
    assert not ChangeRecord.objects.exists()


def test_rename_keeps_the_old_name_as_an_alias_and_marks_it_reviewed(junk):
    wrong = junk["wrong"]
    renamed = rename_unit(admin(), wrong, name="  Management   Section ", acronym="MS")
    assert (renamed.name, renamed.acronym, renamed.auto_created) == ("Management Section", "MS", False)
    assert "DM A" in {a.name for a in renamed.aliases.all()}
    record = ChangeRecord.objects.get(content_type=ContentType.objects.get_for_model(Unit), action="update")
    assert record.before["name"] == "DM A" and record.after["name"] == "Management Section"
    assert UnitDirectory().resolve("DM A", junk["office"])[0] == [renamed]


def test_rename_refuses_an_empty_or_taken_name(junk):
    actor = admin()
    with pytest.raises(ValidationError) as empty:
        rename_unit(actor, junk["wrong"], name="  ")
    assert "name" in empty.value.message_dict
    with pytest.raises(ValidationError) as taken:
        rename_unit(actor, junk["wrong"], name="Division of Management and Administration")
    assert "merge into it instead" in taken.value.message_dict["name"][0]


def test_mark_reviewed(junk):
    assert mark_reviewed(admin(), junk["wrong"]).auto_created is False
    assert ChangeRecord.objects.get().after == {"auto_created": False}
