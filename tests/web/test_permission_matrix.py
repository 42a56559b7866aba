"""Every view and form, for every role and for anonymous visitors: a generated matrix.

One fixture world (built once per module, each test rolled back to it):
office A (region One) with unit UA, office B (region Two) with unit UB; in
each office one evaluation per response status (Draft, Submitted, Approved,
Returned), each with two recommendations, the first with two key actions
(key action 1 is linked to the office's unit, key action 2 to none).

The table below declares, per URL and method, the outcome for each role:

    200      the page                   302    done, redirected to a result page
    login    redirected to sign-in      403    refused
    404      not visible to this role   405    wrong method
    400      the form refused the data  409    refused: someone changed the record first

What each role reads (and so what is a 404 to it) is tested on its own, for
every page, list, figure and export, in tests/web/test_read_matrix.py.

Every refused POST leaves the database exactly as it was (counts, versions,
statuses, positions, texts, the audit trail). Every allowed POST makes its
intended change and writes its audit record, attributed to the person.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import get_resolver, reverse

from reminders.send import unsubscribe_token
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    DeadlineRevision,
    Evaluation,
    EvaluationDocument,
    EvaluationPlan,
    KeyAction,
    ManagementResponse,
    Office,
    OutcomeQuestion,
    PersonSetting,
    Recommendation,
    RecommendationTerm,
    Region,
    Role,
    RoleAssignment,
    Unit,
    Verification,
)

User = get_user_model()

ROLES = ("anon", "admin", "eo", "eo_b", "fp_a", "ufp_ua", "viewer", "norole", "su")
STATUSES = ("Draft", "Submitted", "Approved", "Returned")
LOGIN_PATH = "/accounts/login/"


# --- the fixture world ----------------------------------------------------------------------------


@dataclass
class World:
    offices: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)  # office key -> region slug
    office_slugs: dict[str, str] = field(default_factory=dict)
    ev: dict[tuple[str, str], int] = field(default_factory=dict)
    resp: dict[tuple[str, str], int] = field(default_factory=dict)
    rec: dict[tuple[str, str, int], int] = field(default_factory=dict)
    act: dict[tuple[str, str, int], int] = field(default_factory=dict)  # key action 3: Completed, awaiting verification
    update_with_file: dict[tuple[str, str], int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    record: int = 0  # one ChangeRecord, for the admin pages
    theme: int = 0  # a recurring theme of the two offices' drafts: internal only
    sessions: dict[str, str] = field(default_factory=dict)  # role -> session key, signed in once


def build_world() -> World:
    w = World()
    for key, region in (("A", "Region One"), ("B", "Region Two")):
        office = make_office(f"Office {key}", region=region)
        unit = Unit.objects.create(office=office, name=f"Unit U{key}")
        other_unit = Unit.objects.create(office=office, name=f"Unit U{key}2")
        w.offices[key], w.units[key] = office.pk, unit.pk
        w.regions[key], w.office_slugs[key] = office.region.slug, office.slug
        for status in STATUSES:
            ev = make_evaluation(office, title=f"{key} {status} evaluation", status=status)
            # Complete, so that it can be submitted: an overall response; every key action with a unit and a deadline.
            ManagementResponse.objects.filter(evaluation=ev).update(overall_response="Overall.")
            rec1 = make_recommendation(ev)
            rec2 = make_recommendation(ev, category="Rejected")
            act1 = make_action(rec1, units=[unit], status="Initiated")
            act2 = make_action(rec1, units=[other_unit], status="Initiated")
            w.ev[key, status] = ev.pk
            w.resp[key, status] = ev.management_response.pk
            w.rec[key, status, 1], w.rec[key, status, 2] = rec1.pk, rec2.pk
            w.act[key, status, 1], w.act[key, status, 2] = act1.pk, act2.pk
            # Key action 1 has been changed once already: a version below it is stale.
            KeyAction.objects.filter(pk=act1.pk).update(version=2)
            update = ActionUpdate.objects.create(
                key_action=act1, status_before="Not Initiated", status_after="Initiated", comment="Started.", author_name="someone"
            )
            update.evidence_file.save("proof.pdf", ContentFile(b"%PDF-1.4 proof"), save=True)
            w.update_with_file[key, status] = update.pk
            # Key action 3 (of recommendation 2): its unit reported it Completed; it awaits verification.
            act3 = make_action(rec2, units=[unit], status="Completed")
            KeyAction.objects.filter(pk=act3.pk).update(verification="awaiting")
            ActionUpdate.objects.create(
                key_action=act3, status_before="Initiated", status_after="Completed", comment="Done.",
                evidence_url="https://example.org/claim", author_name="someone",
            )
            w.act[key, status, 3] = act3.pk

    from search.models import Theme
    from tests.search.factories import put_in_theme

    theme = Theme.objects.create(label="drafted theme", public_label="", method="tfidf")
    put_in_theme(theme, [w.rec[key, "Draft", 1] for key in ("A", "B")], closeness=1.0)
    w.theme = theme.pk

    def user(name, **extra):
        u = User.objects.create(username=name, email=f"{name}@example.org", **extra)
        w.users[name] = u.pk
        return u

    RoleAssignment.objects.create(user=user("admin"), role=Role.ADMINISTRATOR)
    RoleAssignment.objects.create(user=user("eo"), role=Role.EVALUATION_OFFICE)
    RoleAssignment.objects.create(user=user("eo_b"), role=Role.EVALUATION_OFFICE, office_id=w.offices["B"])
    RoleAssignment.objects.create(user=user("fp_a"), role=Role.OFFICE_FOCAL_POINT, office_id=w.offices["A"])
    RoleAssignment.objects.create(user=user("ufp_ua"), role=Role.UNIT_FOCAL_POINT, unit_id=w.units["A"])
    RoleAssignment.objects.create(user=user("viewer"), role=Role.VIEWER)
    user("norole")
    user("su", is_superuser=True, is_staff=True)
    for role, pk in w.users.items():
        client = Client()
        client.force_login(User.objects.get(pk=pk))
        w.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    w.record = ChangeRecord.objects.create(
        action=ChangeRecord.Action.UPDATE,
        content_type=ContentType.objects.get_for_model(KeyAction),
        object_id=w.act["A", "Approved", 1],
        object_repr="Key action 1.1",
        user_name="someone",
        before={"status": "Not Initiated"},
        after={"status": "Initiated"},
    ).pk
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once per module inside a transaction rolled back at the end (like setUpTestData)."""
    media = tmp_path_factory.mktemp("media")
    # Hundreds of expected 403s: their logged tracebacks would cost more than the requests.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        yield from _world(django_db_blocker, media)
    finally:
        request_log.setLevel(level)


def _world(django_db_blocker, media):
    with override_settings(MEDIA_ROOT=str(media)), django_db_blocker.unblock():
        with transaction.atomic():
            w = build_world()
            yield w
            transaction.set_rollback(True)


STATE_MODELS = (
    Evaluation,
    EvaluationDocument,
    EvaluationPlan,
    ManagementResponse,
    Recommendation,
    RecommendationTerm,
    KeyAction,
    ActionUpdate,
    Verification,
    DeadlineRevision,
    OutcomeQuestion,
    ChangeRecord,
    Office,
    Unit,
    Region,
    RoleAssignment,
    User,
    LogEntry,
)


def _rows(model, *columns, order="id") -> list[tuple]:
    names = ", ".join(model._meta.get_field(c).column for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {model._meta.db_table} ORDER BY {order}")
        return [tuple(r) for r in cursor.fetchall()]


def db_state() -> dict:
    """Everything a write could touch, compared before and after a request (plain SQL: it runs twice a test)."""
    counts_sql = ", ".join(f"(SELECT COUNT(*) FROM {m._meta.db_table})" for m in STATE_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts_sql}")
        counts = dict(zip((m.__name__ for m in STATE_MODELS), cursor.fetchone()))
    through = KeyAction.units.through
    return {
        "counts": counts,
        "responses": _rows(ManagementResponse, "id", "status", "version", "overall_response", "return_reason"),
        "recommendations": _rows(
            Recommendation, "id", "version", "position", "number", "text", "category", "adoption_by_management", "adoption_validated"
        ),
        "actions": _rows(KeyAction, "id", "version", "position", "status", "verification", "text", "deadline", "first_deadline"),
        "action_units": _rows(through, "keyaction", "unit", order="keyaction_id, unit_id"),
        "users": _rows(User, "id", "password", "is_superuser", "is_staff", "is_active"),
        "records": _rows(ChangeRecord, "id", "action", "object_id", "object_repr", "before", "after"),
    }


# --- the table -------------------------------------------------------------------------------------


def row(spec: str) -> dict[str, str]:
    """One line of the table: outcomes in the order of ROLES."""
    outcomes = spec.split()
    assert len(outcomes) == len(ROLES), spec
    return dict(zip(ROLES, outcomes))


# A draft (Draft, Submitted, Returned) of office A is read by A's focal points, the evaluation
# offices and viewers scoped to it (or to everything), administrators; office B's drafts likewise.
#                       anon   admin eo   eo_b fp_a ufp  view nor  su
EVERYONE = row("        200    200   200  200  200  200  200  200  200")
INTERNAL_A = row("      404    200   200  404  200  200  200  404  200")
INTERNAL_B = row("      404    200   200  200  404  404  200  404  200")
INTERNAL_AB = row("     404    200   200  200  200  200  200  404  200")  # drafts of both offices
HISTORY = row("         403    200   200  200  200  200  200  403  200")
HISTORY_A = row("       403    200   200  404  200  200  200  403  200")
SIGNED_IN = row("       login  200   200  200  200  200  200  200  200")
DRAFTER_A = row("       login  403   403  404  200  403  403  404  200")
DRAFTER_B = row("       login  403   403  403  404  404  403  404  200")
LOCKED = row("          login  403   403  403  403  403  403  403  403")
LOCKED_A = row("        login  403   403  404  403  403  403  404  403")
POST_ONLY = row("       login  405   405  405  405  405  405  405  405")
ADMIN = row("           login  200   login login login login login login 200")
ADMIN_403 = row("       login  403   login login login login login login 403")
CREATE_EVAL = row("     login  403   200  200  403  403  403  403  200")
UPDATE_A_UA = row("     login  403   403  403  200  200  403  403  200")
UPDATE_A = row("        login  403   403  403  200  403  403  403  200")
UPDATE_B = row("        login  403   403  403  403  403  403  403  200")
# Progress is reported on approved responses only: a draft's actions are edited instead, by anyone.
UPDATE_DRAFT_A_UA = row("login  403   403  404  403  403  403  404  403")

#                       anon   admin eo   eo_b fp_a ufp  view nor  su
P_CREATE_EVAL_A = row(" login  403   302  400  403  403  403  403  302")
P_CREATE_EVAL_B = row(" login  403   302  302  403  403  403  403  302")
P_UPDATE_A_UA = row("   login  403   403  403  302  302  403  403  302")
P_UPDATE_A = row("      login  403   403  403  302  403  403  403  302")
P_UPDATE_B = row("      login  403   403  403  403  403  403  403  302")
P_STALE_A_UA = row("    login  403   403  403  409  409  403  403  409")
P_DRAFTER_A = row("     login  403   403  404  302  403  403  404  302")
P_DRAFTER_B = row("     login  403   403  403  404  404  403  404  302")
P_LOCKED = row("        login  403   403  403  403  403  403  403  403")
P_LOCKED_A = row("      login  403   403  404  403  403  403  404  403")
P_BAD_UNIT = row("      login  403   403  404  400  403  403  404  400")
P_REVIEW_A = row("      login  403   302  404  403  403  403  404  302")
P_REVIEW_B = row("      login  403   302  302  404  404  403  404  302")
# Managing an evaluation: the evaluation office in scope (a reader who may not read a draft: 404).
MANAGE_EVAL_A = row("   login  403   200  404  403  403  403  404  200")
MANAGE_EVAL_B = row("   login  403   200  200  403  403  403  403  200")
P_MANAGE_EVAL_A = row(" login  403   302  404  403  403  403  404  302")
P_MANAGE_EVAL_B = row(" login  403   302  302  403  403  403  403  302")
P_MANAGE_DRAFT_B = row("login  403   302  302  404  404  403  404  302")
# Plans are public; managing them is the evaluation office's, in scope.
MANAGE_PLAN_A = row("   login  403   200  403  403  403  403  403  200")
P_MANAGE_PLAN_A = row(" login  403   302  403  403  403  403  403  302")
# A spreadsheet upload is its uploader's own (eo's, in these cases): anyone else's is not found.
OWN_UPLOAD = row("      login  403   200  404  403  403  403  403  404")
P_OWN_UPLOAD = row("    login  403   302  404  403  403  403  403  404")
P_ADMIN = row("         login  302   login login login login login login 302")
# Units to review (web/views/units.py): administrators only, in the site itself.
UNITS_ADMIN = row("     login  200   403  403  403  403  403  403  200")
P_UNITS_ADMIN = row("   login  302   403  403  403  403  403  403  302")
# One's own time zone (web/views/notifications.py): anyone signed in.
P_SIGNED_IN = row("     login  302   302  302  302  302  302  302  302")
P_ADMIN_403 = row("     login  403   login login login login login login 403")


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    url: Callable[[World], str]
    expect: dict[str, str]
    data: Callable[[World], dict] | None = None
    # For allowed POSTs: the intended change (world, user pk, http response) and how many audit records it writes.
    check: Callable[[World, int, object], None] | None = None
    records: int = 1
    audit: str = "changerecord"  # or "logentry" (the admin site's own log)
    stale: bool = False  # the allowed outcome is a refusal: only the refused attempt is recorded
    name: str = ""  # the URL name this case covers


def url(name, *args, query=""):
    return lambda w: reverse(name, args=[a(w) if callable(a) else a for a in args]) + query


def ev(office, status):
    return lambda w: w.ev[office, status]


def resp(office, status):
    return lambda w: w.resp[office, status]


def rec(office, status, n=1):
    return lambda w: w.rec[office, status, n]


def act(office, status, n=1):
    return lambda w: w.act[office, status, n]


def get_case(id, name, *args, expect, query=""):
    return Case(id=id, method="GET", url=url(name, *args, query=query), expect=expect, name=name)


def post_case(id, name, *args, expect, data, check=None, records=1, audit="changerecord", stale=False):
    return Case(
        id=id, method="POST", url=url(name, *args), expect=expect, data=data, check=check, records=records,
        audit=audit, stale=stale, name=name,
    )


# --- data for the forms, and the change each allowed POST must make ----------------------------------------------


def eval_data(office):
    return lambda w: {
        "office": w.offices[office],
        "title": "Matrix evaluation",
        "start_year": 2024,
        "end_year": 2025,
        "year": "",
        "type": "",
        "status": "completed",
        "completion_date": "",
    }


def verify_data(decision, reason=""):
    def data(w):
        a = KeyAction.objects.get(pk=w.act["A", "Approved", 3])
        return {"version": a.version, "decision": decision, "reason": reason}

    return data


def check_verified(accepted: bool):
    def check(w, user, r):
        a = KeyAction.objects.get(pk=w.act["A", "Approved", 3])
        assert (a.status, a.verification) == (("Completed", "verified") if accepted else ("Initiated", "sent_back"))
        v = Verification.objects.get(key_action=a)
        assert (v.decision, v.author_id) == ("accepted" if accepted else "sent_back", user)
        assert r["Location"] == reverse("web:action", args=[a.pk])

    return check


def deadline_data(office, status):
    def data(w):
        a = KeyAction.objects.get(pk=w.act[office, status, 1])
        return {"version": a.version, "deadline": "2031-03", "reason": "Moved by the matrix."}

    return data


def check_revised(office, status):
    def check(w, user, r):
        a = KeyAction.objects.get(pk=w.act[office, status, 1])
        assert (a.deadline, a.first_deadline, a.version) == (dt.date(2031, 3, 1), dt.date(2030, 1, 1), 3)
        revision = a.deadline_revisions.get()
        assert (revision.previous, revision.reason, revision.author_id) == (dt.date(2030, 1, 1), "Moved by the matrix.", user)
        assert r["Location"] == reverse("web:action", args=[a.pk])

    return check


def adoption_data(side, rating="substantial"):
    def data(w):
        r = Recommendation.objects.get(pk=w.rec["A", "Approved", 1])
        return {"version": r.version, "side": side, "rating": rating, "note": ""}

    return data


def check_adoption(field):
    def check(w, user, r):
        rec = Recommendation.objects.get(pk=w.rec["A", "Approved", 1])
        assert getattr(rec, field) == "substantial" and rec.version == 2
        assert r["Location"] == reverse("web:evaluation", args=[w.ev["A", "Approved"]]) + f"#recommendation-{rec.pk}"

    return check


def check_outcome_scheduled(w, user, r):
    a = KeyAction.objects.get(pk=w.act["A", "Approved", 3])
    q = OutcomeQuestion.objects.get(key_action=a)
    assert (q.ask_on, q.asked_by_id, q.answered) == (dt.date(2030, 6, 1), user, False)
    assert r["Location"] == reverse("web:action", args=[a.pk])


def check_rated(office, status):
    def check(w, user, r):
        assert Evaluation.objects.get(pk=w.ev[office, status]).quality == "good"
        assert r["Location"] == reverse("web:evaluation", args=[w.ev[office, status]])

    return check


def check_eval_created(office):
    def check(w, user, r):
        ev = Evaluation.objects.select_related("management_response").get(title="Matrix evaluation")
        assert ev.office_id == w.offices[office] and ev.year == 2025
        assert ev.management_response.status == "Draft"
        assert r["Location"] == ev.get_absolute_url()

    return check


def eval_edit_data(office, status, to_office=None):
    def data(w):
        e = Evaluation.objects.select_related("plan").get(pk=w.ev[office, status])
        return {
            "version": e.version, "office": w.offices[to_office or office], "title": "Edited by the matrix",
            "start_year": e.plan.start_year, "end_year": e.plan.end_year, "year": e.year, "type": "thematic",
            "status": "ongoing", "completion_date": "2024-06-30", "cancellation_reason": "",
        }

    return data


def check_eval_edited(office, status, to_office=None):
    def check(w, user, r):
        e = Evaluation.objects.get(pk=w.ev[office, status])
        assert (e.title, e.type, e.status, e.completion_date, e.version) == ("Edited by the matrix", "thematic", "ongoing", dt.date(2024, 6, 30), 2)
        assert e.office_id == w.offices[to_office or office] and e.plan.office_id == e.office_id
        assert r["Location"] == e.get_absolute_url()

    return check


def empty_evaluation(office):
    """An evaluation with nothing in it yet (made for the test; rolled back with it)."""

    def pk(w):
        office_row = Office.objects.get(pk=w.offices[office])
        return make_evaluation(office_row, title=f"Empty {office} evaluation", status="Draft").pk

    return pk


def check_eval_deleted(office):
    def check(w, user, r):
        assert not Evaluation.objects.filter(title=f"Empty {office} evaluation").exists()
        assert r["Location"] == reverse("web:office", args=[w.office_slugs[office]])

    return check


def eo_upload(w):
    """A spreadsheet uploaded by eo (kept on the server for its preview): it renames key action 1.1 of A's approved response."""
    from tracking.actor import Actor
    from tracking.services import sheets

    a = KeyAction.objects.select_related("recommendation").get(pk=w.act["A", "Approved", 1])
    data = (
        "Key action id,Evaluation id,Recommendation,Number,Key action\n"
        f"{a.pk},{a.evaluation_id},{a.recommendation.number},{a.number},Renamed by a spreadsheet.\n"
    ).encode()
    return sheets.keep_upload(Actor(user=User.objects.get(pk=w.users["eo"])), data, "matrix.csv").token


def sheet_upload_data(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile("matrix.csv", b"Key action id,Recommendation,Number,Key action\n1,1,1.1,x\n")}


def check_sheet_uploaded(w, user, r):
    assert r["Location"].startswith("/imports/sheet/")


def check_sheet_imported(w, user, r):
    assert KeyAction.objects.get(pk=w.act["A", "Approved", 1]).text == "Renamed by a spreadsheet."
    assert r["Location"].startswith("/imports/sheet/")


def plan_of(office):
    return lambda w: EvaluationPlan.objects.get(office_id=w.offices[office]).pk


def plan_create_data(office):
    return lambda w: {"office": w.offices[office], "start_year": 2030, "end_year": 2033, "notes": "From the matrix."}


def check_plan_created(office):
    def check(w, user, r):
        plan = EvaluationPlan.objects.get(office_id=w.offices[office], start_year=2030)
        assert (plan.end_year, plan.notes) == (2033, "From the matrix.")
        assert r["Location"] == reverse("web:plan", args=[plan.pk])

    return check


def plan_edit_data(office):
    def data(w):
        plan = EvaluationPlan.objects.get(office_id=w.offices[office])
        return {"version": plan.version, "start_year": plan.start_year, "end_year": plan.end_year + 1, "notes": "Edited."}

    return data


def check_plan_edited(office):
    def check(w, user, r):
        plan = EvaluationPlan.objects.get(office_id=w.offices[office])
        assert (plan.end_year, plan.notes, plan.version) == (2025, "Edited.", 2)

    return check


def plan_close_data(office):
    return lambda w: {"version": EvaluationPlan.objects.get(office_id=w.offices[office]).version, "action": "close"}


def check_plan_closed(office):
    def check(w, user, r):
        plan = EvaluationPlan.objects.get(office_id=w.offices[office])
        assert plan.closed and plan.closed_on is not None

    return check


def check_time_zone(w, user, r):
    assert PersonSetting.objects.get(user_id=user).time_zone == "Africa/Nairobi"


def unit_rename_data(office):
    return lambda w: {"op": "rename", "unit": Unit.objects.get(office_id=w.offices[office], name=f"Unit U{office}2").pk,
                      "name": f"Unit U{office} renamed"}


def check_unit_renamed(office):
    def check(w, user, r):
        unit = Unit.objects.get(office_id=w.offices[office], name=f"Unit U{office} renamed")
        assert [a.name for a in unit.aliases.all()] == [f"Unit U{office}2"]

    return check


def document_of(office, status, internal=False):
    """A document of that evaluation (made for the test; rolled back with it)."""

    def pk(w):
        doc = EvaluationDocument(evaluation_id=w.ev[office, status], title=f"Matrix document {office} {status}", internal=internal,
                                 original_name="matrix.pdf", content_type="application/pdf")
        doc.file.save("matrix.pdf", ContentFile(b"%PDF-1.4 matrix"), save=True)
        return doc.pk

    return pk


def document_add_data(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.tracking.factories import make_pdf

    return {"file": SimpleUploadedFile("Matrix report.pdf", make_pdf("Matrix report text."), "application/pdf"),
            "url": "", "kind": "report", "title": "", "language": "en"}


def check_document_added(office, status):
    def check(w, user, r):
        doc = EvaluationDocument.objects.get(evaluation_id=w.ev[office, status])
        assert (doc.original_name, doc.title, doc.internal) == ("Matrix report.pdf", "Matrix report.pdf", False)
        assert "Matrix report text." in doc.text

    return check


def check_document_deleted(office, status):
    def check(w, user, r):
        assert not EvaluationDocument.objects.filter(evaluation_id=w.ev[office, status]).exists()

    return check


def no_data(w):
    return {}


def empty_version(w):
    return {"version": 1}


def progress_data(office, status, n=1, stale=False):
    def data(w):
        a = KeyAction.objects.get(pk=w.act[office, status, n])
        return {"version": a.version - 1 if stale else a.version, "status": "Completed", "comment": "Done, in the matrix.", "evidence_url": "https://example.org/matrix-proof"}

    return data


def check_progress(office, status, n=1):
    def check(w, user, r):
        a = KeyAction.objects.get(pk=w.act[office, status, n])
        assert a.status == "Completed" and a.version == (3 if n == 1 else 2)
        u = a.updates.order_by("-id").first()
        assert (u.status_before, u.status_after, u.comment, u.author_id) == ("Initiated", "Completed", "Done, in the matrix.", user)
        assert r["Location"] == reverse("web:action", args=[a.pk])

    return check


def header_data(office, status):
    return lambda w: {
        "version": ManagementResponse.objects.get(pk=w.resp[office, status]).version,
        "overall_response": "Overall, from the matrix.",
        "units": [],
    }


def check_header(office, status):
    def check(w, user, r):
        m = ManagementResponse.objects.get(pk=w.resp[office, status])
        assert (m.overall_response, m.version) == ("Overall, from the matrix.", 2)

    return check


def rec_add_data(w):
    return {"number": "9", "text": "Added by the matrix.", "category": "Accepted"}


def check_rec_added(office, status):
    def check(w, user, r):
        new = Recommendation.objects.get(text="Added by the matrix.")
        assert new.management_response_id == w.resp[office, status] and new.position == 3
        assert ManagementResponse.objects.get(pk=w.resp[office, status]).version == 2

    return check


def rec_edit_data(office, status):
    def data(w):
        r = Recommendation.objects.get(pk=w.rec[office, status, 1])
        return {"version": r.version, "number": r.number, "text": "Edited by the matrix.", "category": "Rejected"}

    return data


def check_rec_edited(office, status):
    def check(w, user, r):
        rec = Recommendation.objects.get(pk=w.rec[office, status, 1])
        assert (rec.text, rec.category, rec.version) == ("Edited by the matrix.", "Rejected", 2)

    return check


def version_of(model, key_attr, *key):
    def data(w):
        return {"version": model.objects.get(pk=getattr(w, key_attr)[key]).version}

    return data


def check_rec_deleted(w, user, r):
    assert not Recommendation.objects.filter(pk=w.rec["A", "Draft", 1]).exists()
    assert not KeyAction.objects.filter(pk__in=[w.act["A", "Draft", 1], w.act["A", "Draft", 2]]).exists()
    assert Recommendation.objects.get(pk=w.rec["A", "Draft", 2]).position == 1  # renumbered


def check_rec_b_deleted(w, user, r):
    assert not Recommendation.objects.filter(pk=w.rec["B", "Draft", 1]).exists()


def check_rec_moved(w, user, r):
    assert Recommendation.objects.get(pk=w.rec["A", "Draft", 2]).position == 1
    assert Recommendation.objects.get(pk=w.rec["A", "Draft", 1]).position == 2


def action_add_data(unit_office):
    return lambda w: {
        "number": "1.9",
        "text": "Added action, from the matrix.",
        "status": "Not Initiated",
        "deadline": "2031-05",
        "units": [w.units[unit_office]],
        "responsible": "",
        "comments": "",
    }


def check_action_added(w, user, r):
    a = KeyAction.objects.get(text="Added action, from the matrix.")
    assert a.recommendation_id == w.rec["A", "Draft", 1] and a.position == 3
    assert a.deadline == dt.date(2031, 5, 1)
    assert list(a.units.values_list("pk", flat=True)) == [w.units["A"]]


def action_edit_data(office, status):
    def data(w):
        a = KeyAction.objects.get(pk=w.act[office, status, 1])
        return {
            "version": a.version,
            "number": a.number,
            "text": "Edited action, from the matrix.",
            "status": "Initiated",
            "deadline": "2031-06",
            "units": [w.units[office]],
            "responsible": "",
            "comments": "",
        }

    return data


def check_action_edited(w, user, r):
    a = KeyAction.objects.get(pk=w.act["A", "Draft", 1])
    assert (a.text, a.deadline, a.version) == ("Edited action, from the matrix.", dt.date(2031, 6, 1), 3)


def check_action_b_edited(w, user, r):
    assert KeyAction.objects.get(pk=w.act["B", "Draft", 1]).text == "Edited action, from the matrix."


def check_action_deleted(w, user, r):
    assert not KeyAction.objects.filter(pk=w.act["A", "Draft", 1]).exists()
    assert KeyAction.objects.get(pk=w.act["A", "Draft", 2]).position == 1


def check_action_moved(w, user, r):
    assert KeyAction.objects.get(pk=w.act["A", "Draft", 2]).position == 1
    assert KeyAction.objects.get(pk=w.act["A", "Draft", 1]).position == 2


def response_version(office, status, stale=False, **extra):
    def data(w):
        return {"version": ManagementResponse.objects.get(pk=w.resp[office, status]).version - (1 if stale else 0), **extra}

    return data


def check_status(office, status, to):
    def check(w, user, r):
        m = ManagementResponse.objects.get(pk=w.resp[office, status])
        assert m.status == to and m.version == 2
        if to == "Returned":
            assert m.return_reason == "Please revise, from the matrix."
        if to == "Approved":
            assert m.approved_at is not None

    return check


def office_admin_data(w):
    from tracking.models import OfficeType

    return {"name": "Matrix office", "slug": "matrix-office", "type": OfficeType.objects.get(code="CO").pk, "region": "", "aliases": "[]"}


def check_office_added(w, user, r):
    assert Office.objects.filter(name="Matrix office").exists()


def role_admin_data(w):
    return {
        "user": w.users["norole"], "role": "viewer", "office": "", "unit": "", "region": "",
        "created_at_0": "2024-01-01", "created_at_1": "12:00:00",
    }


def check_role_added(w, user, r):
    assert RoleAssignment.objects.filter(user_id=w.users["norole"], role="viewer").exists()


def record_change_data(w):
    return {"action": "delete", "object_repr": "tampered", "user_name": "nobody", "message": "rewritten", "object_id": 1}


A_D = ("A", "Draft")


# --- joint evaluations: a lead of office A and a partner of office B (made for the test; rolled back with it) ---

JOINT_TITLE = "Joint matrix evaluation"


def joint_of(lead_status, partner_status, lead_office="A", partner_office="B", what="lead"):
    """A joint evaluation; the URL's record: the lead evaluation, or (what="rec") the lead's shared recommendation."""

    def pk(w):
        lead = make_evaluation(Office.objects.get(pk=w.offices[lead_office]), title=JOINT_TITLE, status=lead_status)
        source = make_recommendation(lead, text="Shared by the matrix.")
        partner = make_evaluation(Office.objects.get(pk=w.offices[partner_office]), title=JOINT_TITLE, status=partner_status)
        Evaluation.objects.filter(pk=partner.pk).update(joint_lead=lead)
        make_recommendation(partner, text=source.text, number=source.number, shared_from=source, category="")
        return source.pk if what == "rec" else lead.pk

    return pk


def joint_partner_of(office):
    return lambda w: {"remove": Evaluation.objects.get(title=JOINT_TITLE, office_id=w.offices[office]).pk}


def check_partner_added(lead_office, partner_office):
    def check(w, user, r):
        partner = Evaluation.objects.select_related("joint_lead", "management_response").get(
            title=f"Empty {lead_office} evaluation", office_id=w.offices[partner_office])
        assert partner.joint_lead.office_id == w.offices[lead_office] and partner.management_response.status == "Draft"
        assert r["Location"] == reverse("web:evaluation_edit", args=[partner.joint_lead_id])

    return check


def check_partner_removed(w, user, r):
    partner = Evaluation.objects.get(title=JOINT_TITLE, office_id=w.offices["B"])
    assert partner.joint_lead_id is None and not partner.recommendations.filter(shared_from__isnull=False).exists()


def shared_edit_data(w):
    source = Recommendation.objects.get(evaluation__title=JOINT_TITLE, evaluation__office_id=w.offices["A"])
    return {"version": source.version, "number": source.number, "text": "Changed for every partner by the matrix."}


def check_shared_edited(w, user, r):
    texts = set(Recommendation.objects.filter(evaluation__title=JOINT_TITLE).values_list("text", flat=True))
    assert texts == {"Changed for every partner by the matrix."}


CASES = [
    # --- the public portal (GET) ---
    get_case("home", "web:home", expect=EVERYONE),
    get_case("regions", "web:regions", expect=EVERYONE),
    get_case("region", "web:region", lambda w: w.regions["A"], expect=EVERYONE),
    get_case("office", "web:office", lambda w: w.office_slugs["A"], expect=EVERYONE),
    get_case("evaluations", "web:evaluations", expect=EVERYONE),
    get_case("evaluation-approved", "web:evaluation", ev("A", "Approved"), expect=EVERYONE),
    get_case("evaluation-draft", "web:evaluation", ev(*A_D), expect=INTERNAL_A),
    get_case("evaluation-submitted-b", "web:evaluation", ev("B", "Submitted"), expect=INTERNAL_B),
    get_case("evaluation-returned", "web:evaluation", ev("A", "Returned"), expect=INTERNAL_A),
    get_case("evaluation-history-approved", "web:evaluation_history", ev("A", "Approved"), expect=HISTORY),
    get_case("evaluation-history-draft", "web:evaluation_history", ev(*A_D), expect=HISTORY_A),
    get_case("evaluation-history-csv", "web:evaluation_history", ev(*A_D), query="?format=csv", expect=HISTORY_A),
    get_case("evaluation-history-json", "web:evaluation_history", ev("A", "Approved"), query="?format=json", expect=HISTORY),
    get_case("actions", "web:actions", expect=EVERYONE),
    get_case("action-approved", "web:action", act("A", "Approved"), expect=EVERYONE),
    get_case("action-draft", "web:action", act(*A_D), expect=INTERNAL_A),
    get_case("evidence-approved", "web:evidence", lambda w: w.update_with_file["A", "Approved"], expect=EVERYONE),
    get_case("evidence-draft", "web:evidence", lambda w: w.update_with_file["A", "Draft"], expect=INTERNAL_A),
    get_case("dashboard", "web:dashboard", expect=EVERYONE),
    # Search and recurring recommendations: anyone, each reading what they may see.
    get_case("search", "web:search", query="?q=recommendation", expect=EVERYONE),
    get_case("similar-approved", "web:similar", rec("A", "Approved"), expect=EVERYONE),
    get_case("similar-draft", "web:similar", rec(*A_D), expect=INTERNAL_A),
    get_case("recurring", "web:recurring", expect=EVERYONE),
    get_case("recurring-theme", "web:recurring_theme", lambda w: w.theme, expect=INTERNAL_AB),
    get_case("annual-report", "web:annual_report", expect=EVERYONE),
    get_case("export-key-actions-csv", "web:export", "key-actions", "csv", expect=EVERYONE),
    get_case("export-evaluations-json", "web:export", "evaluations", "json", expect=EVERYONE),
    get_case("evaluation-export-approved", "web:evaluation_export", ev("A", "Approved"), "json", expect=EVERYONE),
    get_case("evaluation-export-draft", "web:evaluation_export", ev(*A_D), "txt", expect=INTERNAL_A),
    # --- the workspace (GET) ---
    get_case("workspace", "web:workspace", expect=SIGNED_IN),
    get_case("my-actions", "web:my_actions", expect=SIGNED_IN),
    get_case("history", "web:history", expect=HISTORY),
    get_case("history-csv", "web:history", query="?format=csv", expect=HISTORY),
    get_case("history-json", "web:history", query="?format=json", expect=HISTORY),
    get_case("progress-form-a-ua", "web:action_update", act("A", "Approved", 1), expect=UPDATE_A_UA),
    get_case("progress-form-a-no-unit", "web:action_update", act("A", "Approved", 2), expect=UPDATE_A),
    get_case("progress-form-b", "web:action_update", act("B", "Approved", 1), expect=UPDATE_B),
    get_case("progress-form-draft-a-ua", "web:action_update", act(*A_D, 1), expect=UPDATE_DRAFT_A_UA),
    get_case("evaluation-create-form", "web:evaluation_create", expect=CREATE_EVAL),
    get_case("evaluation-edit-form-a", "web:evaluation_edit", ev(*A_D), expect=MANAGE_EVAL_A),
    get_case("evaluation-edit-form-b", "web:evaluation_edit", ev("B", "Approved"), expect=MANAGE_EVAL_B),
    get_case("get-evaluation-delete", "web:evaluation_delete", ev(*A_D), expect=POST_ONLY),
    # Joint evaluations: the roll-up shows the records its reader reads; fewer than two: 404.
    get_case("joint-approved", "web:joint", joint_of("Approved", "Approved"), expect=EVERYONE),
    get_case("joint-partner-draft", "web:joint", joint_of("Approved", "Draft"), expect=row("404 200 200 200 404 404 200 404 200")),
    get_case("get-joint-partners", "web:joint_partners", joint_of("Approved", "Approved"), expect=POST_ONLY),
    get_case("shared-recommendation-form", "web:shared_recommendation", joint_of("Approved", "Approved", what="rec"), expect=MANAGE_PLAN_A),
    get_case("document-approved", "web:document", document_of("A", "Approved"), expect=EVERYONE),
    get_case("document-approved-internal", "web:document", document_of("A", "Approved", internal=True),
             expect=row("404 200 200 200 200 200 200 404 200")),
    get_case("document-draft", "web:document", document_of(*A_D), expect=INTERNAL_A),
    get_case("get-document-add", "web:document_add", ev(*A_D), expect=POST_ONLY),
    get_case("get-document-delete", "web:document_delete", document_of(*A_D), expect=POST_ONLY),
    get_case("plan", "web:plan", plan_of("A"), expect=EVERYONE),
    get_case("plan-create-form", "web:plan_create", expect=CREATE_EVAL),
    get_case("sheet-import-form", "web:sheet_import", expect=CREATE_EVAL),
    get_case("sheet-template", "web:sheet_template", expect=CREATE_EVAL),
    get_case("sheet-preview", "web:sheet_preview", eo_upload, expect=OWN_UPLOAD),
    get_case("get-sheet-confirm", "web:sheet_confirm", "x" * 32, expect=POST_ONLY),
    get_case("plan-edit-form-a", "web:plan_edit", plan_of("A"), expect=MANAGE_PLAN_A),
    get_case("get-plan-close", "web:plan_close", plan_of("A"), expect=POST_ONLY),
    get_case("units", "web:units", expect=UNITS_ADMIN),
    get_case("get-time-zone", "web:time_zone", expect=POST_ONLY),
    # --- drafting pages (GET) ---
    get_case("response-edit-draft-a", "web:response_edit", resp(*A_D), expect=DRAFTER_A),
    get_case("response-edit-returned-a", "web:response_edit", resp("A", "Returned"), expect=DRAFTER_A),
    get_case("response-edit-submitted-a", "web:response_edit", resp("A", "Submitted"), expect=LOCKED_A),
    get_case("response-edit-approved-a", "web:response_edit", resp("A", "Approved"), expect=LOCKED),
    get_case("response-edit-draft-b", "web:response_edit", resp("B", "Draft"), expect=DRAFTER_B),
    get_case("recommendation-add-form", "web:recommendation_add", resp(*A_D), expect=DRAFTER_A),
    get_case("recommendation-add-form-approved", "web:recommendation_add", resp("A", "Approved"), expect=LOCKED),
    get_case("recommendation-edit-form", "web:recommendation_edit", rec(*A_D), expect=DRAFTER_A),
    get_case("recommendation-edit-form-approved", "web:recommendation_edit", rec("A", "Approved"), expect=LOCKED),
    get_case("recommendation-edit-form-b", "web:recommendation_edit", rec("B", "Draft"), expect=DRAFTER_B),
    get_case("action-add-form", "web:action_add", rec(*A_D), expect=DRAFTER_A),
    get_case("action-edit-form", "web:action_edit", act(*A_D), expect=DRAFTER_A),
    get_case("action-edit-form-approved", "web:action_edit", act("A", "Approved"), expect=LOCKED),
    # POST-only doors refuse GET (and never change anything by it).
    get_case("get-response-header", "web:response_header", resp(*A_D), expect=POST_ONLY),
    get_case("get-response-submit", "web:response_submit", resp(*A_D), expect=POST_ONLY),
    get_case("get-response-approve", "web:response_approve", resp("A", "Submitted"), expect=POST_ONLY),
    get_case("get-response-return", "web:response_return", resp("A", "Submitted"), expect=POST_ONLY),
    get_case("get-recommendation-delete", "web:recommendation_delete", rec(*A_D), expect=POST_ONLY),
    get_case("get-recommendation-move", "web:recommendation_move", rec(*A_D, 2), expect=POST_ONLY),
    get_case("get-action-delete", "web:action_delete", act(*A_D), expect=POST_ONLY),
    get_case("get-action-move", "web:action_move", act(*A_D, 2), expect=POST_ONLY),
    get_case("get-evaluation-quality", "web:evaluation_quality", ev("A", "Approved"), expect=POST_ONLY),
    # --- reminders: my notifications (signed in), my choices (POST only), the signed unsubscribe link (anyone) ---
    get_case("notifications", "web:notifications", expect=SIGNED_IN),
    get_case("get-notification-preferences", "web:notification_preferences", expect=POST_ONLY),
    get_case("unsubscribe-page", "web:unsubscribe", lambda w: unsubscribe_token("someone@example.org", "all"), expect=EVERYONE),
    get_case("get-action-verify", "web:action_verify", act("A", "Approved", 3), expect=POST_ONLY),
    get_case("verification-list", "web:verification", expect=SIGNED_IN),
    get_case("get-action-deadline", "web:action_deadline", act("A", "Approved", 1), expect=POST_ONLY),
    get_case("get-outcome-schedule", "web:outcome_schedule", act("A", "Approved", 3), expect=POST_ONLY),
    get_case("get-outcome-answer", "web:outcome_answer", act("A", "Approved", 3), expect=POST_ONLY),
    # Adoption ratings: management (the office focal point) and the evaluation office, approved responses only.
    get_case("adoption-form-a", "web:adoption", rec("A", "Approved"), expect=row("login 403 200 403 200 403 403 403 200")),
    get_case("adoption-form-draft-a", "web:adoption", rec(*A_D), expect=row("login 403 403 404 403 403 403 404 403")),
    get_case("action-awaiting-verification", "web:action", act("A", "Approved", 3), expect=EVERYONE),
    # --- sign-in and the admin site (GET) ---
    get_case("login", "login", expect=EVERYONE),
    get_case("password-reset", "password_reset", expect=EVERYONE),
    get_case("sign-in-link", "sign_in_link_request", expect=EVERYONE),
    get_case("password-change", "password_change", expect=SIGNED_IN),
    get_case("admin-index", "admin:index", expect=ADMIN),
    get_case("admin-users", "admin:auth_user_changelist", expect=ADMIN),
    get_case("admin-role-add", "admin:tracking_roleassignment_add", expect=ADMIN),
    get_case("admin-offices", "admin:tracking_office_changelist", expect=ADMIN),
    get_case("admin-changerecords", "admin:tracking_changerecord_changelist", expect=ADMIN),
    get_case("admin-changerecord-view", "admin:tracking_changerecord_change", lambda w: w.record, expect=ADMIN),
    get_case("admin-changerecord-add", "admin:tracking_changerecord_add", expect=ADMIN_403),
    get_case("admin-changerecord-delete", "admin:tracking_changerecord_delete", lambda w: w.record, expect=ADMIN_403),
    get_case("admin-keyaction-view", "admin:tracking_keyaction_change", act("A", "Approved"), expect=ADMIN),
    get_case("admin-evaluation-add", "admin:tracking_evaluation_add", expect=ADMIN_403),
    # --- forms (POST with valid data) ---
    post_case("create-evaluation-a", "web:evaluation_create", expect=P_CREATE_EVAL_A, data=eval_data("A"), check=check_eval_created("A"), records=2),
    # The report's quality rating: the evaluation office of the evaluation's office.
    post_case("rate-approved-a", "web:evaluation_quality", ev("A", "Approved"), expect=row("login 403 302 403 403 403 403 403 302"),
              data=lambda w: {"quality": "good"}, check=check_rated("A", "Approved")),
    post_case("rate-draft-a", "web:evaluation_quality", ev(*A_D), expect=row("login 403 302 404 403 403 403 404 302"),
              data=lambda w: {"quality": "good"}, check=check_rated(*A_D)),
    # Verified completion: the evaluation office of the action's office, never a focal point of it.
    post_case("verify-accept-a", "web:action_verify", act("A", "Approved", 3), expect=row("login 403 302 403 403 403 403 403 302"),
              data=verify_data("accept"), check=check_verified(True), records=2),
    post_case("verify-send-back-a", "web:action_verify", act("A", "Approved", 3), expect=row("login 403 302 403 403 403 403 403 302"),
              data=verify_data("send_back", "The link is not the report."), check=check_verified(False), records=3),
    post_case("verify-draft-a", "web:action_verify", act(*A_D, 3), expect=row("login 403 403 404 403 403 403 404 403"),
              data=verify_data("accept")),
    # Deadline revisions: who reports progress on the action, with a reason.
    post_case("revise-deadline-a-ua", "web:action_deadline", act("A", "Approved", 1), expect=P_UPDATE_A_UA,
              data=deadline_data("A", "Approved"), check=check_revised("A", "Approved"), records=2),
    post_case("revise-deadline-b", "web:action_deadline", act("B", "Approved", 1), expect=P_UPDATE_B,
              data=deadline_data("B", "Approved"), check=check_revised("B", "Approved"), records=2),
    post_case("revise-deadline-draft-a", "web:action_deadline", act(*A_D, 1), expect=row("login 403 403 404 403 403 403 404 403"),
              data=deadline_data(*A_D)),
    post_case("adoption-management-a", "web:adoption", rec("A", "Approved"), expect=row("login 403 403 403 302 403 403 403 302"),
              data=adoption_data("management"), check=check_adoption("adoption_by_management")),
    post_case("adoption-validated-a", "web:adoption", rec("A", "Approved"), expect=row("login 403 302 403 403 403 403 403 302"),
              data=adoption_data("evaluation_office"), check=check_adoption("adoption_validated")),
    post_case("adoption-draft-a", "web:adoption", rec(*A_D), expect=row("login 403 403 404 403 403 403 404 403"),
              data=adoption_data("management")),
    # Outcome follow-up: the evaluation office schedules on a completed action; nothing to answer before that.
    post_case("outcome-schedule-a", "web:outcome_schedule", act("A", "Approved", 3), expect=row("login 403 302 403 403 403 403 403 302"),
              data=lambda w: {"ask_on": "2030-06-01", "question": ""}, check=check_outcome_scheduled),
    post_case("outcome-schedule-draft-a", "web:outcome_schedule", act(*A_D, 3), expect=row("login 403 403 404 403 403 403 404 403"),
              data=lambda w: {"ask_on": "2030-06-01", "question": ""}),
    post_case("outcome-answer-unasked-a", "web:outcome_answer", act("A", "Approved", 3), expect=row("login 403 403 403 403 403 403 403 403"),
              data=lambda w: {"confirmed": "yes", "answer": "Nothing was asked."}),
    post_case("create-evaluation-b", "web:evaluation_create", expect=P_CREATE_EVAL_B, data=eval_data("B"), check=check_eval_created("B"), records=2),
    post_case("edit-evaluation-a", "web:evaluation_edit", ev(*A_D), expect=P_MANAGE_EVAL_A,
              data=eval_edit_data(*A_D), check=check_eval_edited(*A_D)),
    post_case("edit-evaluation-b", "web:evaluation_edit", ev("B", "Approved"), expect=P_MANAGE_EVAL_B,
              data=eval_edit_data("B", "Approved"), check=check_eval_edited("B", "Approved")),
    # Moving an evaluation of B to office A: only for who manages both (eo_b manages B only: 400, the office refused).
    post_case("move-evaluation-b-to-a", "web:evaluation_edit", ev("B", "Approved"),
              expect=row("login 403 302 400 403 403 403 403 302"),
              data=eval_edit_data("B", "Approved", "A"), check=check_eval_edited("B", "Approved", "A")),
    # Only the evaluation office, in the scope of both offices, adds a partner; a partner's record is written with its draft.
    post_case("joint-add-partner-b-to-a", "web:joint_partners", empty_evaluation("A"), expect=P_MANAGE_EVAL_A,
              data=lambda w: {"office": w.offices["B"]}, check=check_partner_added("A", "B"), records=3),
    post_case("joint-add-partner-a-to-b", "web:joint_partners", empty_evaluation("B"), expect=row("login 403 302 403 404 404 403 404 302"),
              data=lambda w: {"office": w.offices["A"]}, check=check_partner_added("B", "A"), records=3),
    post_case("joint-remove-partner", "web:joint_partners", joint_of("Approved", "Approved"), expect=P_MANAGE_PLAN_A,
              data=joint_partner_of("B"), check=check_partner_removed, records=3),
    post_case("shared-recommendation-edit", "web:shared_recommendation", joint_of("Draft", "Draft", what="rec"), expect=P_MANAGE_EVAL_A,
              data=shared_edit_data, check=check_shared_edited, records=2),
    post_case("delete-evaluation-a", "web:evaluation_delete", empty_evaluation("A"), expect=P_MANAGE_EVAL_A,
              data=empty_version, check=check_eval_deleted("A"), records=2),
    post_case("delete-evaluation-b", "web:evaluation_delete", empty_evaluation("B"), expect=P_MANAGE_DRAFT_B,
              data=empty_version, check=check_eval_deleted("B"), records=2),
    post_case("add-document-a", "web:document_add", ev(*A_D), expect=P_MANAGE_EVAL_A, data=document_add_data,
              check=check_document_added(*A_D)),
    post_case("add-document-b", "web:document_add", ev("B", "Approved"), expect=P_MANAGE_EVAL_B, data=document_add_data,
              check=check_document_added("B", "Approved")),
    post_case("delete-document-a", "web:document_delete", document_of(*A_D), expect=P_MANAGE_EVAL_A, data=no_data,
              check=check_document_deleted(*A_D)),
    # Uploading writes no record (the file is kept for its preview); confirming imports it.
    post_case("upload-sheet", "web:sheet_import", expect=P_CREATE_EVAL_B, data=sheet_upload_data, check=check_sheet_uploaded,
              records=0, audit="none"),
    post_case("confirm-sheet", "web:sheet_confirm", eo_upload, expect=P_OWN_UPLOAD, data=lambda w: {}, check=check_sheet_imported),
    post_case("create-plan-a", "web:plan_create", expect=P_CREATE_EVAL_A, data=plan_create_data("A"), check=check_plan_created("A")),
    post_case("create-plan-b", "web:plan_create", expect=P_CREATE_EVAL_B, data=plan_create_data("B"), check=check_plan_created("B")),
    post_case("edit-plan-a", "web:plan_edit", plan_of("A"), expect=P_MANAGE_PLAN_A, data=plan_edit_data("A"), check=check_plan_edited("A")),
    post_case("close-plan-a", "web:plan_close", plan_of("A"), expect=P_MANAGE_PLAN_A, data=plan_close_data("A"), check=check_plan_closed("A")),
    post_case("close-plan-b", "web:plan_close", plan_of("B"), expect=P_CREATE_EVAL_B, data=plan_close_data("B"), check=check_plan_closed("B")),
    post_case("time-zone", "web:time_zone", expect=P_SIGNED_IN, data=lambda w: {"time_zone": "Africa/Nairobi"},
              check=check_time_zone),
    post_case("rename-unit", "web:units", expect=P_UNITS_ADMIN, data=unit_rename_data("A"), check=check_unit_renamed("A"), records=2),
    post_case("progress-a-ua", "web:action_update", act("A", "Approved", 1), expect=P_UPDATE_A_UA,
              data=progress_data("A", "Approved"), check=check_progress("A", "Approved"), records=2),
    # Tampering: a unit focal point on a key action of their office that is not their unit's.
    post_case("progress-a-not-my-unit", "web:action_update", act("A", "Approved", 2), expect=P_UPDATE_A,
              data=progress_data("A", "Approved", 2), check=check_progress("A", "Approved", 2), records=2),
    # Tampering: office A's focal point and UA's focal point on office B's key action.
    post_case("progress-b", "web:action_update", act("B", "Approved", 1), expect=P_UPDATE_B,
              data=progress_data("B", "Approved"), check=check_progress("B", "Approved"), records=2),
    # A stale tab: the version the form carries is older than the key action's.
    post_case("progress-stale", "web:action_update", act("A", "Approved", 1), expect=P_STALE_A_UA,
              data=progress_data("A", "Approved", stale=True), stale=True),
    post_case("response-header-draft-a", "web:response_header", resp(*A_D), expect=P_DRAFTER_A,
              data=header_data(*A_D), check=check_header(*A_D)),
    post_case("response-header-approved-a", "web:response_header", resp("A", "Approved"), expect=P_LOCKED,
              data=header_data("A", "Approved")),
    post_case("response-header-submitted-a", "web:response_header", resp("A", "Submitted"), expect=P_LOCKED_A,
              data=header_data("A", "Submitted")),
    post_case("response-header-draft-b", "web:response_header", resp("B", "Draft"), expect=P_DRAFTER_B,
              data=header_data("B", "Draft"), check=check_header("B", "Draft")),
    post_case("recommendation-add-draft-a", "web:recommendation_add", resp(*A_D), expect=P_DRAFTER_A,
              data=rec_add_data, check=check_rec_added(*A_D)),
    post_case("recommendation-add-returned-a", "web:recommendation_add", resp("A", "Returned"), expect=P_DRAFTER_A,
              data=rec_add_data, check=check_rec_added("A", "Returned")),
    post_case("recommendation-add-submitted-a", "web:recommendation_add", resp("A", "Submitted"), expect=P_LOCKED_A, data=rec_add_data),
    post_case("recommendation-add-approved-a", "web:recommendation_add", resp("A", "Approved"), expect=P_LOCKED, data=rec_add_data),
    post_case("recommendation-add-draft-b", "web:recommendation_add", resp("B", "Draft"), expect=P_DRAFTER_B,
              data=rec_add_data, check=check_rec_added("B", "Draft")),
    post_case("recommendation-edit-draft-a", "web:recommendation_edit", rec(*A_D), expect=P_DRAFTER_A,
              data=rec_edit_data(*A_D), check=check_rec_edited(*A_D)),
    # Tampering: editing a recommendation of an approved (locked) response.
    post_case("recommendation-edit-approved-a", "web:recommendation_edit", rec("A", "Approved"), expect=P_LOCKED,
              data=rec_edit_data("A", "Approved")),
    post_case("recommendation-edit-submitted-a", "web:recommendation_edit", rec("A", "Submitted"), expect=P_LOCKED_A,
              data=rec_edit_data("A", "Submitted")),
    # Tampering: office A's focal point on office B's recommendation.
    post_case("recommendation-edit-draft-b", "web:recommendation_edit", rec("B", "Draft"), expect=P_DRAFTER_B,
              data=rec_edit_data("B", "Draft"), check=check_rec_edited("B", "Draft")),
    post_case("recommendation-delete-draft-a", "web:recommendation_delete", rec(*A_D), expect=P_DRAFTER_A,
              data=version_of(Recommendation, "rec", *A_D, 1), check=check_rec_deleted, records=4),  # + the one renumbered
    post_case("recommendation-delete-approved-a", "web:recommendation_delete", rec("A", "Approved"), expect=P_LOCKED,
              data=version_of(Recommendation, "rec", "A", "Approved", 1)),
    post_case("recommendation-delete-draft-b", "web:recommendation_delete", rec("B", "Draft"), expect=P_DRAFTER_B,
              data=version_of(Recommendation, "rec", "B", "Draft", 1),
              check=check_rec_b_deleted, records=4),
    post_case("recommendation-move-draft-a", "web:recommendation_move", rec(*A_D, 2), expect=P_DRAFTER_A,
              data=lambda w: {"direction": "up"}, check=check_rec_moved, records=2),  # both rows that moved
    post_case("recommendation-move-approved-a", "web:recommendation_move", rec("A", "Approved", 2), expect=P_LOCKED,
              data=lambda w: {"direction": "up"}),
    post_case("action-add-draft-a", "web:action_add", rec(*A_D), expect=P_DRAFTER_A,
              data=action_add_data("A"), check=check_action_added),
    # Tampering: a unit of another office slipped into the form.
    post_case("action-add-foreign-unit", "web:action_add", rec(*A_D), expect=P_BAD_UNIT, data=action_add_data("B")),
    post_case("action-add-approved-a", "web:action_add", rec("A", "Approved"), expect=P_LOCKED, data=action_add_data("A")),
    post_case("action-edit-draft-a", "web:action_edit", act(*A_D), expect=P_DRAFTER_A,
              data=action_edit_data(*A_D), check=check_action_edited),
    post_case("action-edit-approved-a", "web:action_edit", act("A", "Approved"), expect=P_LOCKED, data=action_edit_data("A", "Approved")),
    post_case("action-edit-draft-b", "web:action_edit", act("B", "Draft"), expect=P_DRAFTER_B,
              data=action_edit_data("B", "Draft"),
              check=check_action_b_edited),
    post_case("action-delete-draft-a", "web:action_delete", act(*A_D), expect=P_DRAFTER_A,
              data=version_of(KeyAction, "act", *A_D, 1), check=check_action_deleted, records=2),  # + the one renumbered
    post_case("action-delete-approved-a", "web:action_delete", act("A", "Approved"), expect=P_LOCKED,
              data=version_of(KeyAction, "act", "A", "Approved", 1)),
    post_case("action-move-draft-a", "web:action_move", act(*A_D, 2), expect=P_DRAFTER_A,
              data=lambda w: {"direction": "up"}, check=check_action_moved, records=2),  # both rows that moved
    post_case("action-move-approved-a", "web:action_move", act("A", "Approved", 2), expect=P_LOCKED,
              data=lambda w: {"direction": "up"}),
    post_case("submit-draft-a", "web:response_submit", resp(*A_D), expect=P_DRAFTER_A,
              data=response_version(*A_D), check=check_status(*A_D, "Submitted")),
    post_case("submit-returned-a", "web:response_submit", resp("A", "Returned"), expect=P_DRAFTER_A,
              data=response_version("A", "Returned"), check=check_status("A", "Returned", "Submitted")),
    post_case("submit-draft-b", "web:response_submit", resp("B", "Draft"), expect=P_DRAFTER_B,
              data=response_version("B", "Draft"), check=check_status("B", "Draft", "Submitted")),
    post_case("submit-submitted-a", "web:response_submit", resp("A", "Submitted"), expect=P_LOCKED_A, data=response_version("A", "Submitted")),
    post_case("submit-approved-a", "web:response_submit", resp("A", "Approved"), expect=P_LOCKED, data=response_version("A", "Approved")),
    post_case("approve-submitted-a", "web:response_approve", resp("A", "Submitted"), expect=P_REVIEW_A,
              data=response_version("A", "Submitted"), check=check_status("A", "Submitted", "Approved")),
    post_case("approve-submitted-b", "web:response_approve", resp("B", "Submitted"), expect=P_REVIEW_B,
              data=response_version("B", "Submitted"), check=check_status("B", "Submitted", "Approved")),
    # Tampering: approving a response that was never submitted, or approving again.
    post_case("approve-draft-a", "web:response_approve", resp(*A_D), expect=P_LOCKED_A, data=response_version(*A_D)),
    post_case("approve-returned-a", "web:response_approve", resp("A", "Returned"), expect=P_LOCKED_A, data=response_version("A", "Returned")),
    post_case("approve-approved-a", "web:response_approve", resp("A", "Approved"), expect=P_LOCKED, data=response_version("A", "Approved")),
    # A stale review: the response changed since the reviewer opened it; nothing changes, the attempt is recorded.
    post_case("approve-stale", "web:response_approve", resp("A", "Submitted"),
              expect=row("login 403 302 404 403 403 403 404 302"), data=lambda w: {"version": 0}, stale=True),
    post_case("return-submitted-a", "web:response_return", resp("A", "Submitted"), expect=P_REVIEW_A,
              data=response_version("A", "Submitted", reason="Please revise, from the matrix."),
              check=check_status("A", "Submitted", "Returned")),
    post_case("return-submitted-b", "web:response_return", resp("B", "Submitted"), expect=P_REVIEW_B,
              data=response_version("B", "Submitted", reason="Please revise, from the matrix."),
              check=check_status("B", "Submitted", "Returned")),
    post_case("return-draft-a", "web:response_return", resp(*A_D), expect=P_LOCKED_A,
              data=response_version(*A_D, reason="Please revise, from the matrix.")),
    # --- the admin site (POST) ---
    post_case("admin-office-add", "admin:tracking_office_add", expect=P_ADMIN, data=office_admin_data,
              check=check_office_added, audit="logentry"),
    post_case("admin-role-add", "admin:tracking_roleassignment_add", expect=P_ADMIN, data=role_admin_data,
              check=check_role_added, audit="logentry"),
    post_case("admin-changerecord-change", "admin:tracking_changerecord_change", lambda w: w.record, expect=P_ADMIN_403,
              data=record_change_data),
    post_case("admin-changerecord-delete", "admin:tracking_changerecord_delete", lambda w: w.record, expect=P_ADMIN_403,
              data=lambda w: {"post": "yes"}),
    post_case("admin-changerecord-add", "admin:tracking_changerecord_add", expect=P_ADMIN_403, data=record_change_data),
    post_case("admin-keyaction-change", "admin:tracking_keyaction_change", act("A", "Approved"), expect=P_ADMIN_403,
              data=lambda w: {"number": "X", "text": "tampered", "status": "Completed", "position": 1}),
    post_case("admin-keyaction-delete", "admin:tracking_keyaction_delete", act("A", "Approved"), expect=P_ADMIN_403,
              data=lambda w: {"post": "yes"}),
    post_case("admin-evaluation-add", "admin:tracking_evaluation_add", expect=P_ADMIN_403,
              data=lambda w: {"title": "tampered", "year": 2024}),
]


def client_for(w: World, role: str) -> tuple[Client, int | None]:
    client = Client()
    if role == "anon":
        return client, None
    client.cookies[settings.SESSION_COOKIE_NAME] = w.sessions[role]
    return client, w.users[role]


def follow_to_login(client: Client, response) -> bool:
    """A redirect chain (at most three hops) that ends on the sign-in page."""
    for _ in range(3):
        if response.status_code != 302:
            return False
        location = response["Location"]
        if location.startswith(LOGIN_PATH):
            return True
        response = client.get(location)
    return False


PARAMS = [pytest.param(case, role, id=f"{case.method}-{case.id}-{role}") for case in CASES for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize("case,role", PARAMS)
def test_matrix(world, case: Case, role: str):
    w = world
    client, user = client_for(w, role)
    expected = case.expect[role]
    target = case.url(w)
    if case.method == "GET":
        before = db_state()
        response = client.get(target)
        if response.streaming:
            b"".join(response.streaming_content)  # the test client closes the response at the end
        assert db_state() == before, "a GET changed the database"
    else:
        data = case.data(w)
        before = db_state()
        records_before = set(ChangeRecord.objects.values_list("pk", flat=True))
        response = client.post(target, data)

    if expected == "login":
        assert follow_to_login(client, response), (response.status_code, response.get("Location"))
    else:
        assert response.status_code == int(expected), (response.status_code, response.get("Location"))
    if expected == "302":
        assert not response["Location"].startswith(LOGIN_PATH)
    if case.method == "GET":
        return

    allowed = expected == "302" and not case.stale
    after = db_state()
    # The audit trail only grows: whatever happened, the records already there are untouched.
    assert [r for r in after["records"] if r[0] in records_before] == before["records"]
    if case.stale and expected in ("302", "409"):
        # Refused for being stale: nothing changed but the trace of the attempt.
        new = ChangeRecord.objects.exclude(pk__in=records_before)
        assert [(r.action, r.user_id) for r in new] == [(ChangeRecord.Action.REFUSED, user)]
        assert new[0].after["based_on_version"] == data["version"]
        before["counts"]["ChangeRecord"] += 1
        assert {k: v for k, v in after.items() if k != "records"} == {k: v for k, v in before.items() if k != "records"}
        if expected == "409":
            assert "Done, in the matrix." in response.content.decode()  # the person's entry is kept
    elif not allowed:
        assert after == before, "a refused POST changed the database"
    else:
        case.check(w, user, response)
        if case.audit == "none":
            assert after == before, "a door that keeps no record changed the database"
        elif case.audit == "changerecord":
            new = list(ChangeRecord.objects.exclude(pk__in=records_before))
            assert len(new) == case.records, [(r.action, r.object_repr, r.before, r.after) for r in new]
            assert {r.user_id for r in new} == {user}
            assert len({r.request_id for r in new}) == 1, "one request, one request id"
            assert all(r.action in ("create", "update", "delete") for r in new)
        else:
            assert after["counts"]["LogEntry"] == before["counts"]["LogEntry"] + 1
            assert LogEntry.objects.order_by("-pk").first().user_id == user


def test_the_matrix_covers_every_url_of_the_web_app():
    """A new view must be added to the table: the matrix names every route of web/urls.py."""
    from web import urls

    names = {f"web:{p.name}" for p in urls.urlpatterns}
    covered = {c.name for c in CASES}
    assert names - covered == set()
    # Each form (every POST-only door and every page with a form) is also exercised by POST.
    posted = {c.name for c in CASES if c.method == "POST"}
    forms = {
        "web:evaluation_create", "web:evaluation_edit", "web:evaluation_delete", "web:plan_create", "web:plan_edit",
        "web:plan_close", "web:document_add", "web:document_delete", "web:sheet_import", "web:sheet_confirm", "web:action_update", "web:response_header", "web:recommendation_add",
        "web:recommendation_edit", "web:recommendation_delete", "web:recommendation_move", "web:action_add",
        "web:action_edit", "web:action_delete", "web:action_move", "web:response_submit", "web:response_approve",
        "web:response_return", "web:evaluation_quality", "web:action_verify",
        "web:action_deadline", "web:adoption", "web:outcome_schedule", "web:outcome_answer",
        "web:joint_partners", "web:shared_recommendation", "web:units", "web:time_zone",
    }
    assert forms - posted == set()
    assert get_resolver().resolve("/accounts/login/").url_name == "login"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role,name,target,data",
    [
        ("ufp_ua", "web:action_update", act("A", "Approved", 1), progress_data("A", "Approved")),
        ("fp_a", "web:response_submit", resp(*A_D), response_version(*A_D)),
        ("eo", "web:response_approve", resp("A", "Submitted"), response_version("A", "Submitted")),
        ("admin", "admin:tracking_office_add", None, office_admin_data),
    ],
)
def test_a_form_sent_without_its_csrf_token_is_refused(world, role, name, target, data):
    """A forged cross-site POST, with the person's session but without the page's token."""
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    before = db_state()
    response = client.post(reverse(name, args=[target(world)] if target else []), data(world))
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.django_db
def test_an_administrator_cannot_make_anyone_a_superuser_by_tampering_with_the_user_form(world):
    """Administrators manage people through roles; the superuser flag is not theirs to set."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["admin"]
    target = User.objects.get(pk=world.users["norole"])
    url = reverse("admin:auth_user_change", args=[target.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="is_superuser"' not in page.content.decode()
    prefix = "role_assignments"
    response = client.post(
        url,
        {
            "username": target.username, "first_name": "No", "last_name": "Role", "email": target.email,
            "is_active": "on", "is_superuser": "on", "groups": [], "user_permissions": [],
            "date_joined_0": "2024-01-01", "date_joined_1": "10:00:00", "last_login_0": "", "last_login_1": "",
            f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000", f"{prefix}-0-role": "viewer", f"{prefix}-0-user": target.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.first_name == "No"  # the change itself went through ...
    assert not target.is_superuser  # ... but not the flag slipped into the form
    assert list(target.role_assignments.values_list("role", flat=True)) == ["viewer"]  # roles are how
