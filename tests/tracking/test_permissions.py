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
from tracking.actor import Actor
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    EvaluationDocument,
    KeyAction,
    ManagementResponse,
    Office,
    Recommendation,
    RecommendationTerm,
    Region,
    Role,
    RoleAssignment,
    Term,
    Unit,
)
from tracking.permissions import (
    ALL_PERMISSIONS,
    ANSWER_OUTCOME,
    EDIT_RESPONSE,
    EVIDENCE,
    EXPORT_DOCUMENTS,
    IMPORT_DOCUMENTS,
    MANAGE_EVALUATIONS,
    MANAGE_REFERENCE,
    PUBLIC,
    RATE_ADOPTION,
    REVIEW_RESPONSE,
    REVISE_DEADLINE,
    SCHEDULE_OUTCOME,
    SUBMIT_RESPONSE,
    UPDATE,
    UPDATE_ACTION,
    VALIDATE_ADOPTION,
    VERIFY_ACTION,
    VIEW_INTERNAL,
    Access,
    Reader,
    can,
    reader_scope,
    require,
    restrict,
    update_scope,
)

pytestmark = pytest.mark.django_db
User = get_user_model()

PEOPLE = ("admin", "eo", "eo_b", "eo_r1", "fp_a", "ufp_ua", "viewer", "viewer_r2", "norole", "su")
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
        "viewer_r2": person("viewer_r2", Role.VIEWER, region=b.region),
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


EVERY_ROLE = {"admin", "eo", "eo_b", "eo_r1", "fp_a", "ufp_ua", "viewer", "viewer_r2", "su", "system"}
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
    # Verified completion, deadline revisions, adoption ratings, outcome follow-up (issue 20).
    (VERIFY_ACTION, None, EO_ANY),
    (VERIFY_ACTION, "action_a_approved", ONLY_SYSTEM),  # Initiated: no completion to verify
    (REVISE_DEADLINE, None, {"fp_a", "ufp_ua", "su", "system"}),
    (REVISE_DEADLINE, "action_a_approved", {"fp_a", "ufp_ua", "su", "system"}),
    (REVISE_DEADLINE, "action_b_ub", {"su", "system"}),
    (REVISE_DEADLINE, "action_a_draft", ONLY_SYSTEM),
    (RATE_ADOPTION, None, DRAFTER_A),
    (RATE_ADOPTION, "rec_a_approved", DRAFTER_A),
    (RATE_ADOPTION, "rec_a_draft", ONLY_SYSTEM),
    (VALIDATE_ADOPTION, None, EO_ANY),
    (VALIDATE_ADOPTION, "rec_a_approved", EO_A),
    (VALIDATE_ADOPTION, "rec_a_draft", ONLY_SYSTEM),
    (SCHEDULE_OUTCOME, None, EO_ANY),
    (SCHEDULE_OUTCOME, "action_a_approved", ONLY_SYSTEM),  # not Completed
    (ANSWER_OUTCOME, None, {"fp_a", "ufp_ua", "su", "system"}),
    (ANSWER_OUTCOME, "action_a_approved", ONLY_SYSTEM),  # nothing asked
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


# --- reading: restrict(who, Model) ------------------------------------------------------------------

ALL = {"A", "B", "C"}
# Whose drafts (Draft, Submitted, Returned) each reader reads; approved responses are read by all.
DRAFTS_OF = {
    "admin": ALL, "eo": ALL, "viewer": ALL, "su": ALL, "system": ALL,
    "eo_b": {"B"}, "eo_r1": {"A", "C"}, "fp_a": {"A"}, "ufp_ua": {"A"}, "viewer_r2": {"B"},
    "norole": set(), "inactive": set(), "anon_user": set(), "none": set(), "bare_actor": set(),
}
INTERNAL_READERS = EVERY_ROLE
READ_MODELS = {
    Evaluation: lambda e: e,
    ManagementResponse: lambda r: r.evaluation,
    Recommendation: lambda r: r.evaluation,
    RecommendationTerm: lambda t: t.recommendation.evaluation,
    KeyAction: lambda a: a.evaluation,
    ActionUpdate: lambda u: u.key_action.evaluation,
    EvaluationDocument: lambda d: d.evaluation,
}


def _read_world():
    w = build()
    term = Term.objects.create(kind=Term.Kind.THEMATIC_AREA, name="Term R")
    for ev in Evaluation.objects.all():
        rec = ev.recommendations.first() or make_recommendation(ev)
        RecommendationTerm.objects.create(recommendation=rec, term=term)
        action = rec.key_actions.first() or make_action(rec)
        ActionUpdate.objects.create(key_action=action, status_after="Initiated", evidence_url="https://example.org/p")
        ActionUpdate.objects.create(key_action=action, status_after="Initiated", evidence_url="https://example.org/i", evidence_internal=True)
        EvaluationDocument.objects.create(evaluation=ev, title=f"Report of {ev.title}", url="https://example.org/r")
    return w


def _reads(name: str, ev: Evaluation) -> bool:
    return ev.management_response.status == "Approved" or ev.title[0] in DRAFTS_OF[name]


@pytest.mark.parametrize("model", list(READ_MODELS), ids=lambda m: m.__name__)
def test_each_reader_reads_what_the_table_says_and_nothing_else(model):
    w = _read_world()
    evaluation_of = READ_MODELS[model]
    rows = list(model.objects.all())
    assert {evaluation_of(r).management_response.status for r in rows} == {"Draft", "Submitted", "Returned", "Approved"}
    for name in ACTORS:
        expected = {r.pk for r in rows if _reads(name, evaluation_of(r))}
        got = set(restrict(w.who[name], model).values_list("pk", flat=True))
        assert got == expected, name
        # The approval tested per row (the key-action list's page) reads the same rows.
        assert set(restrict(w.who[name], model, per_row=True).values_list("pk", flat=True)) == expected, name
        if name in PEOPLE:  # the same through an Actor, as the web passes it
            assert set(restrict(Actor(user=w.who[name]), model).values_list("pk", flat=True)) == expected, name


def test_internal_evidence_is_for_people_with_a_role():
    w = _read_world()
    for name in ACTORS:
        updates = restrict(w.who[name], ActionUpdate)
        openable = set(restrict(w.who[name], ActionUpdate, EVIDENCE).values_list("pk", flat=True))
        if name in INTERNAL_READERS:
            assert openable == set(updates.values_list("pk", flat=True)), name
        else:
            assert openable == set(updates.filter(evidence_internal=False).values_list("pk", flat=True)), name
            assert updates.filter(evidence_internal=True).exists()  # listed as updates, their evidence hidden
        reader = reader_scope(w.who[name])
        for u in updates:
            assert reader.sees_evidence(u) == (u.pk in openable)


def test_reference_data_is_public_and_unknown_models_and_actions_give_nothing():
    w = _read_world()
    for name in ("none", "norole", "fp_a"):
        assert restrict(w.who[name], Office).count() == Office.objects.count()
        assert not restrict(w.who[name], RoleAssignment).exists()
        assert not restrict(w.who[name], Evaluation, "delete").exists()
        assert not restrict(w.who[name], Evaluation, EVIDENCE).exists()
        assert not restrict(w.who[name], Evaluation, UPDATE).exists()
        assert not restrict(w.who[name], get_user_model()).exists()  # not named: nobody reads it through here
    assert restrict(w.who["admin"], RoleAssignment).count() == RoleAssignment.objects.count()


def test_the_history_holds_records_of_what_the_reader_reads_and_accounts_for_administrators_only():
    from django.contrib.contenttypes.models import ContentType

    w = _read_world()

    def record(obj, evaluation=None, **after):
        return ChangeRecord.objects.create(
            action="update", content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, object_repr=str(obj),
            evaluation_id=evaluation.pk if evaluation else None, after=after,
        ).pk

    per_evaluation = {ev.title: record(ev, ev) for ev in Evaluation.objects.all()}
    reference = record(w.obj["office_a"], name="Office A")
    account = record(w.who["fp_a"], email="fp_a@example.org")
    role = record(RoleAssignment.objects.first(), role="viewer")
    orphan = record(KeyAction.objects.first())  # a record of an action without its evaluation: who could tell?
    for name in ACTORS:
        got = set(restrict(w.who[name], ChangeRecord).values_list("pk", flat=True))
        if name not in INTERNAL_READERS:
            assert got == set(), name
            continue
        expected = {pk for title, pk in per_evaluation.items() if _reads(name, Evaluation.objects.get(title=title))}
        expected.add(reference)
        if name in ("admin", "su", "system"):
            expected |= {account, role, orphan}
        assert got == expected, name


def test_my_actions_are_the_ones_a_person_may_update():
    """`UpdateScope` states the rule twice (a filter, a test on a row): both give the same answers."""
    w = build()
    # (The system, running a command, passes every `can`, the workflow's locks included: not a person with actions.)
    for name in (*PEOPLE, *NOBODIES):
        mine = set(restrict(w.who[name], KeyAction, UPDATE).values_list("pk", flat=True))
        updatable = {a.pk for a in KeyAction.objects.all() if can(w.who[name], UPDATE_ACTION, a)}
        assert mine == updatable, name
        assert bool(mine) == can(w.who[name], UPDATE_ACTION), name
        scope = update_scope(w.who[name])
        for ev in Evaluation.objects.select_related("management_response"):
            assert scope.any_in(ev) == KeyAction.objects.filter(pk__in=mine, evaluation=ev).exists(), (name, ev.title)
    assert len(set(restrict(w.who["ufp_ua"], KeyAction, UPDATE))) == 1  # the approved response's
    assert restrict(w.who["fp_a"], KeyAction, UPDATE).count() == 2  # both of the approved response's
    assert not restrict(reader_scope(w.who["su"]), KeyAction, UPDATE).exists()  # reading says nothing of updating


def test_reader_keys_are_equal_exactly_when_readers_read_the_same():
    w = build()
    keys = {name: reader_scope(w.who[name]).key for name in ACTORS}
    for nobody in ("norole", "inactive", "anon_user", "none", "bare_actor"):
        assert keys[nobody] == PUBLIC.key
    assert keys["fp_a"] == keys["ufp_ua"]  # both read office A's drafts
    assert keys["eo"] == keys["viewer"]  # both read every draft
    assert keys["admin"] == keys["su"] == keys["system"] != keys["eo"]  # administrators also read accounts' history
    distinct = {keys[n] for n in ("none", "fp_a", "eo_b", "eo_r1", "eo", "admin")}
    assert len(distinct) == 6
    hash(keys["eo_r1"])
    assert reader_scope(reader_scope(w.who["eo_r1"])) == reader_scope(w.who["eo_r1"])
    assert Reader(internal=True, offices=frozenset({2, 1})).key == Reader(internal=True, offices=frozenset({1, 2})).key


def test_roles_add_up_for_reading():
    w = build()
    person = User.objects.create(username="two-hats")
    RoleAssignment.objects.create(user=person, role=Role.OFFICE_FOCAL_POINT, office=w.obj["office_b"])
    RoleAssignment.objects.create(user=person, role=Role.EVALUATION_OFFICE, region=w.obj["office_a"].region)
    titles = set(restrict(person, Evaluation).values_list("title", flat=True))
    assert titles == {"A Draft", "A Submitted", "A Approved", "A Returned", "B Draft", "B Submitted", "B Approved", "C Submitted"}
    loner = User.objects.create(username="loner")
    RoleAssignment.objects.create(user=loner, role=Role.VIEWER, office=w.obj["office_c"])
    assert set(restrict(loner, Evaluation).values_list("title", flat=True)) == {"A Approved", "B Approved", "C Submitted"}


@pytest.mark.parametrize(
    "role,scope",
    [
        (Role.ADMINISTRATOR, {"office": "A"}),
        (Role.VIEWER, {"unit": True}),
        (Role.VIEWER, {"office": "A", "region": True}),
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
        (Role.VIEWER, {"office": office}),
        (Role.VIEWER, {"region": office.region}),
    ):
        assignment = RoleAssignment(user=user, role=role, **scope)
        assignment.clean()
        assignment.save()
    assert RoleAssignment.objects.filter(user=user).count() == 9
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.VIEWER)  # the same role twice
