"""tracking.permissions: every permission, for every role and scope, decided in one place.

The table below lists, for each permission and object, exactly who may; every
other actor must be refused (deny by default). Offices A and C are in region
One, office B in region Two, so an evaluation office scoped to region One
reviews A and C but not B.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking import queries
from tracking.actor import Actor
from tracking.models import KeyAction, Region, Role, RoleAssignment, Unit
from tracking.permissions import (
    ALL_PERMISSIONS,
    EDIT_RESPONSE,
    EXPORT_DOCUMENTS,
    IMPORT_DOCUMENTS,
    MANAGE_EVALUATIONS,
    MANAGE_REFERENCE,
    REVIEW_RESPONSE,
    SUBMIT_RESPONSE,
    UPDATE_ACTION,
    VIEW_INTERNAL,
    Access,
    can,
    require,
)

pytestmark = pytest.mark.django_db
User = get_user_model()

PEOPLE = ("admin", "eo", "eo_b", "eo_r1", "fp_a", "ufp_ua", "viewer", "norole", "su")
NOBODIES = ("anon_user", "none", "bare_actor", "inactive")
ACTORS = PEOPLE + NOBODIES + ("system",)
STATUSES = ("Draft", "Submitted", "Approved", "Returned")


def build():
    w = SimpleNamespace(obj={}, who={})
    a = make_office("Office A", region="Region One")
    b = make_office("Office B", region="Region Two")
    c = make_office("Office C", region="Region One")
    ua = Unit.objects.create(office=a, name="Unit UA")
    ub = Unit.objects.create(office=b, name="Unit UB")
    w.obj.update(office_a=a, office_b=b, office_c=c)
    for status in STATUSES:
        ev = make_evaluation(a, title=f"A {status}", status=status)
        rec = make_recommendation(ev)
        w.obj[f"resp_a_{status.lower()}"] = ev.management_response
        w.obj[f"eval_a_{status.lower()}"] = ev
        w.obj[f"rec_a_{status.lower()}"] = rec
        w.obj[f"action_a_{status.lower()}"] = make_action(rec, units=[ua])
    ev_b = make_evaluation(b, title="B Draft", status="Draft")
    w.obj["resp_b_draft"] = ev_b.management_response
    w.obj["resp_b_submitted"] = make_evaluation(b, title="B Submitted", status="Submitted").management_response
    w.obj["resp_c_submitted"] = make_evaluation(c, title="C Submitted", status="Submitted").management_response
    rec_a = w.obj["rec_a_approved"]
    w.obj["action_a_no_unit"] = make_action(rec_a)
    w.obj["action_b_ub"] = make_action(make_recommendation(make_evaluation(b, title="B Approved")), units=[ub])

    def person(name, role=None, **scope):
        u = User.objects.create(username=name)
        if role:
            RoleAssignment.objects.create(user=u, role=role, **scope)
        return u

    w.who = {
        "admin": person("admin", Role.ADMINISTRATOR),
        "eo": person("eo", Role.EVALUATION_OFFICE),
        "eo_b": person("eo_b", Role.EVALUATION_OFFICE, office=b),
        "eo_r1": person("eo_r1", Role.EVALUATION_OFFICE, region=a.region),
        "fp_a": person("fp_a", Role.OFFICE_FOCAL_POINT, office=a),
        "ufp_ua": person("ufp_ua", Role.UNIT_FOCAL_POINT, unit=ua),
        "viewer": person("viewer", Role.VIEWER),
        "norole": person("norole"),
        "su": User.objects.create(username="su", is_superuser=True, is_staff=True),
        "inactive": User.objects.create(username="inactive", is_superuser=True, is_active=False),
        "anon_user": AnonymousUser(),
        "none": None,
        "bare_actor": Actor(user=None),
        "system": Actor.system(),
    }
    RoleAssignment.objects.create(user=w.who["inactive"], role=Role.ADMINISTRATOR)
    return w


EVERY_ROLE = {"admin", "eo", "eo_b", "eo_r1", "fp_a", "ufp_ua", "viewer", "su", "system"}
EO_ANY = {"eo", "eo_b", "eo_r1", "su", "system"}
EO_A = {"eo", "eo_r1", "su", "system"}
EO_B = {"eo", "eo_b", "su", "system"}
DRAFTER_A = {"fp_a", "su", "system"}
ONLY_SYSTEM = {"system"}

# (permission, object key or None) -> who may. Everybody else may not.
TABLE = [
    (VIEW_INTERNAL, None, EVERY_ROLE),
    (MANAGE_REFERENCE, None, {"admin", "su", "system"}),
    (MANAGE_EVALUATIONS, None, EO_ANY),
    (MANAGE_EVALUATIONS, "office_a", EO_A),
    (MANAGE_EVALUATIONS, "office_b", EO_B),
    (MANAGE_EVALUATIONS, "office_c", EO_A),
    (MANAGE_EVALUATIONS, "eval_a_draft", EO_A),
    (IMPORT_DOCUMENTS, None, EO_ANY),
    (IMPORT_DOCUMENTS, "office_a", EO_A),
    (IMPORT_DOCUMENTS, "office_b", EO_B),
    (EXPORT_DOCUMENTS, None, EVERY_ROLE | {"norole"}),
    (EDIT_RESPONSE, None, DRAFTER_A),
    (EDIT_RESPONSE, "resp_a_draft", DRAFTER_A),
    (EDIT_RESPONSE, "resp_a_returned", DRAFTER_A),
    (EDIT_RESPONSE, "resp_a_submitted", ONLY_SYSTEM),
    (EDIT_RESPONSE, "resp_a_approved", ONLY_SYSTEM),
    (EDIT_RESPONSE, "rec_a_draft", DRAFTER_A),
    (EDIT_RESPONSE, "rec_a_approved", ONLY_SYSTEM),
    (EDIT_RESPONSE, "action_a_draft", DRAFTER_A),
    (EDIT_RESPONSE, "action_a_approved", ONLY_SYSTEM),
    (EDIT_RESPONSE, "eval_a_draft", DRAFTER_A),
    (EDIT_RESPONSE, "resp_b_draft", {"su", "system"}),
    (SUBMIT_RESPONSE, None, DRAFTER_A),
    (SUBMIT_RESPONSE, "resp_a_draft", DRAFTER_A),
    (SUBMIT_RESPONSE, "resp_a_returned", DRAFTER_A),
    (SUBMIT_RESPONSE, "resp_a_submitted", ONLY_SYSTEM),
    (SUBMIT_RESPONSE, "resp_a_approved", ONLY_SYSTEM),
    (SUBMIT_RESPONSE, "resp_b_draft", {"su", "system"}),
    (REVIEW_RESPONSE, None, EO_ANY),
    (REVIEW_RESPONSE, "resp_a_submitted", EO_A),
    (REVIEW_RESPONSE, "resp_b_submitted", EO_B),
    (REVIEW_RESPONSE, "resp_c_submitted", EO_A),
    (REVIEW_RESPONSE, "resp_a_draft", ONLY_SYSTEM),
    (REVIEW_RESPONSE, "resp_a_returned", ONLY_SYSTEM),
    (REVIEW_RESPONSE, "resp_a_approved", ONLY_SYSTEM),
    (UPDATE_ACTION, None, {"fp_a", "ufp_ua", "su", "system"}),
    (UPDATE_ACTION, "action_a_approved", {"fp_a", "ufp_ua", "su", "system"}),
    (UPDATE_ACTION, "action_a_no_unit", {"fp_a", "su", "system"}),
    (UPDATE_ACTION, "action_b_ub", {"su", "system"}),
    ("delete_everything", None, set()),
    ("delete_everything", "resp_a_draft", set()),
]


def test_the_table_names_every_permission():
    assert {p for p, _, _ in TABLE} >= set(ALL_PERMISSIONS)


@pytest.mark.parametrize(
    "permission,key,allowed", [pytest.param(p, k, a, id=f"{p}-{k or 'any'}") for p, k, a in TABLE]
)
def test_who_may(permission, key, allowed):
    w = build()
    obj = w.obj[key] if key else None
    granted = {name for name in ACTORS if can(w.who[name], permission, obj)}
    assert granted == allowed
    # The same answers through an Actor (as the web and the API pass them) as through a bare user.
    for name in PEOPLE:
        assert can(Actor(user=w.who[name]), permission, obj) == (name in allowed)


@pytest.mark.parametrize("permission", [*ALL_PERMISSIONS, "delete_everything"])
def test_require_raises_exactly_when_can_refuses(permission):
    w = build()
    for name in PEOPLE:
        actor = Actor(user=w.who[name])
        if can(actor, permission):
            require(actor, permission)
        else:
            with pytest.raises(PermissionDenied, match=f"{name} may not"):
                require(actor, permission)


def test_superuser_is_still_bound_by_the_workflow_locks():
    w = build()
    su = w.who["su"]
    assert can(su, EDIT_RESPONSE, w.obj["resp_a_draft"])
    for locked in ("resp_a_submitted", "resp_a_approved", "rec_a_approved", "action_a_approved"):
        assert not can(su, EDIT_RESPONSE, w.obj[locked]), locked
    assert not can(su, SUBMIT_RESPONSE, w.obj["resp_a_approved"])
    for unsubmitted in ("resp_a_draft", "resp_a_returned", "resp_a_approved"):
        assert not can(su, REVIEW_RESPONSE, w.obj[unsubmitted]), unsubmitted
    # Progress updates are what may change an approved response.
    assert can(su, UPDATE_ACTION, w.obj["action_a_approved"])


@pytest.mark.parametrize("who", [None, AnonymousUser(), Actor(user=None), Actor(user=AnonymousUser()), Actor(user=None, source="command")])
def test_anonymous_may_do_nothing(who):
    w = build()
    for permission in ALL_PERMISSIONS:
        assert not can(who, permission)
        for obj in w.obj.values():
            assert not can(who, permission, obj)


def test_an_inactive_account_may_do_nothing_whatever_its_roles():
    w = build()
    inactive = w.who["inactive"]
    assert inactive.is_superuser and inactive.role_assignments.exists()
    assert Access.of(inactive).user is None
    for permission in ALL_PERMISSIONS:
        assert not can(inactive, permission)
    assert not can(inactive, UPDATE_ACTION, w.obj["action_a_approved"])


def test_the_system_is_explicit_and_a_bare_actor_is_not_the_system():
    bare = Actor(user=None)
    assert not bare.is_system and not bare.is_authenticated and bare.name == "anonymous"
    assert not Actor(user=None, source="command").is_system
    system = Actor.system()
    assert system.is_system and system.user is None and system.name == "system (command)"
    assert Actor.system("import").name == "system (import)"
    for permission in ALL_PERMISSIONS:
        assert can(system, permission)
        assert not can(bare, permission)
    assert not can(system, "delete_everything")
    with pytest.raises(PermissionDenied, match="anonymous may not"):
        require(bare, MANAGE_REFERENCE)


def test_access_is_loaded_once_per_user_and_cached(django_assert_num_queries):
    w = build()
    fresh = User.objects.get(username="fp_a")
    with django_assert_num_queries(1):
        first = Access.of(fresh)
        assert Access.of(fresh) is first
        for permission in ALL_PERMISSIONS:
            can(fresh, permission)
        can(Actor(user=fresh), EDIT_RESPONSE, w.obj["resp_a_draft"])
    assert first.focal_office_ids == {w.obj["office_a"].pk}
    # Another instance of the same account loads its own (one query).
    other = User.objects.get(username="fp_a")
    with django_assert_num_queries(1):
        assert Access.of(other) is not first


def test_an_update_permission_uses_prefetched_units(django_assert_num_queries):
    w = build()
    unit_fp = User.objects.get(username="ufp_ua")
    Access.of(unit_fp)
    actions = list(KeyAction.objects.prefetch_related("units").select_related("evaluation__management_response"))
    with django_assert_num_queries(0):
        allowed = [a.pk for a in actions if can(unit_fp, UPDATE_ACTION, a)]
    # Of the unit's actions in responses of every status, only the approved response's take progress.
    assert set(allowed) == {w.obj["action_a_approved"].pk}


def test_roles_add_up():
    w = build()
    person = User.objects.create(username="both")
    RoleAssignment.objects.create(user=person, role=Role.UNIT_FOCAL_POINT, unit=Unit.objects.get(name="Unit UB"))
    RoleAssignment.objects.create(user=person, role=Role.VIEWER)
    assert can(person, UPDATE_ACTION, w.obj["action_b_ub"])
    assert not can(person, UPDATE_ACTION, w.obj["action_a_approved"])
    assert can(person, VIEW_INTERNAL) and not can(person, EDIT_RESPONSE)


def test_region_scope_reviews_offices_of_that_region_only():
    w = build()
    access = Access.of(w.who["eo_r1"])
    assert access.reviews_office(w.obj["office_a"]) and access.reviews_office(w.obj["office_c"])
    assert not access.reviews_office(w.obj["office_b"])
    no_region = make_office("Office nowhere", region=None)
    assert not access.reviews_office(no_region)
    assert Access.of(w.who["eo"]).reviews_office(no_region)
    from tracking.models import ManagementResponse, Office

    in_scope = set(ManagementResponse.objects.filter(access.review_scope("evaluation__office")).values_list("evaluation__office__name", flat=True))
    assert in_scope == {"Office A", "Office C"}
    assert set(Office.objects.filter(access.review_scope(None)).values_list("name", flat=True)) == {"Office A", "Office C"}
    scoped_b = Access.of(w.who["eo_b"])
    assert set(Office.objects.filter(scoped_b.review_scope(None)).values_list("name", flat=True)) == {"Office B"}
    nobody = Access.of(w.who["viewer"])
    assert not Office.objects.filter(nobody.review_scope(None)).exists()


def test_visible_records_public_and_internal():
    w = build()
    approved = {e.pk for e in [w.obj["eval_a_approved"]]} | {w.obj["action_b_ub"].evaluation_id}
    for who in (None, AnonymousUser(), w.who["norole"], w.who["inactive"]):
        assert set(queries.visible_evaluations(who).values_list("pk", flat=True)) == approved
        assert not queries.visible_actions(who).exclude(evaluation__management_response__status="Approved").exists()
    everything = set(queries.visible_evaluations(w.who["viewer"]).values_list("pk", flat=True))
    assert len(everything) == 8 and everything > approved


def test_my_actions_are_the_ones_a_person_may_update():
    w = build()
    for name in ("admin", "eo", "eo_b", "eo_r1", "fp_a", "ufp_ua", "viewer", "norole", "su", "inactive", "anon_user"):
        access = Access.of(w.who[name])
        mine = set(queries.my_actions(access).values_list("pk", flat=True))
        updatable = {a.pk for a in KeyAction.objects.all() if can(w.who[name], UPDATE_ACTION, a)}
        assert mine == updatable, name
    assert len(set(queries.my_actions(Access.of(w.who["ufp_ua"])))) == 1  # the approved response's


@pytest.mark.parametrize(
    "role,scope",
    [
        (Role.ADMINISTRATOR, {"office": "A"}),
        (Role.VIEWER, {"region": True}),
        (Role.OFFICE_FOCAL_POINT, {}),
        (Role.OFFICE_FOCAL_POINT, {"office": "A", "unit": True}),
        (Role.UNIT_FOCAL_POINT, {"office": "A"}),
        (Role.EVALUATION_OFFICE, {"office": "A", "region": True}),
        (Role.EVALUATION_OFFICE, {"unit": True}),
    ],
)
def test_a_role_names_exactly_its_scope(role, scope):
    office = make_office("Office S", region="Region S")
    unit = Unit.objects.create(office=office, name="Unit S")
    values = {
        "office": office if "office" in scope else None,
        "unit": unit if "unit" in scope else None,
        "region": Region.objects.get(name="Region S") if "region" in scope else None,
    }
    user = User.objects.create(username="scoped")
    assignment = RoleAssignment(user=user, role=role, **values)
    with pytest.raises(ValidationError):
        assignment.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        assignment.save()


def test_valid_scopes_are_accepted():
    office = make_office("Office S", region="Region S")
    unit = Unit.objects.create(office=office, name="Unit S")
    user = User.objects.create(username="scoped")
    for role, scope in (
        (Role.ADMINISTRATOR, {}),
        (Role.VIEWER, {}),
        (Role.OFFICE_FOCAL_POINT, {"office": office}),
        (Role.UNIT_FOCAL_POINT, {"unit": unit}),
        (Role.EVALUATION_OFFICE, {}),
        (Role.EVALUATION_OFFICE, {"office": office}),
        (Role.EVALUATION_OFFICE, {"region": office.region}),
    ):
        assignment = RoleAssignment(user=user, role=role, **scope)
        assignment.clean()
        assignment.save()
    assert RoleAssignment.objects.filter(user=user).count() == 7
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.VIEWER)  # the same role twice
