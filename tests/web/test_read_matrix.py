"""What each reader sees: every page, list, figure, export, history view and evidence download, generated.

The rules (tracking/permissions.py, README "who sees what") are written here
once more, independently, as DRAFTS_OF / INTERNAL / ADMINISTRATORS below.
Three things are checked against them:

1. the one entry point, `restrict(who, Model)`, gives exactly what they allow;
2. every door of the web app (pages, lists, figures, CSV/JSON/XLSX/PDF/GATE
   exports, the history and its exports, evidence downloads, the drafting
   forms) shows exactly that: nothing the rules do not allow, and what they
   allow is there;
3. nothing in the views or reports reads a tracked model around the entry
   point (a scan of their source), and every route of the web app is here
   or is a POST-only door of tests/web/test_permission_matrix.py.

One fixture world, built once per module: offices A and C in region One,
office B in region Two, each with a unit; in each office one evaluation per
response status, each with a recommendation, a key action (overdue, linked to
the office's unit) and two progress updates by the same person, one with
public evidence (a file and a link), one with evidence marked internal; a
history record per evaluation, one of reference data, and records of an
account (with its e-mail address), a role assignment, a group and a sign-in
lockout. Every text is a marker (EV-A-DRAFT, KA-B-APPROVED, ...) so a page's
content is read as the set of markers on it.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from reports import tables
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    EvaluationDocument,
    EvaluationPlan,
    KeyAction,
    ManagementResponse,
    Office,
    Recommendation,
    Region,
    Role,
    RoleAssignment,
    Unit,
)
from tracking.permissions import EVIDENCE, restrict

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]

OFFICES = ("A", "B", "C")
REGION_OF = {"A": "One", "B": "Two", "C": "One"}
STATUSES = ("Draft", "Submitted", "Returned", "Approved")
RECORDS = [(o, s) for o in OFFICES for s in STATUSES]
AUTHOR = "author.zq"
SECRET_EMAIL = "secret.person@example.org"
YEAR = 2024

# --- the rules, written once more ------------------------------------------------------------------

ROLES = ("anon", "norole", "admin", "su", "eo", "eo_r1", "eo_b", "fp_a", "ufp_ua", "viewer", "viewer_b")
EVERY = set(OFFICES)
# Whose drafts (Draft, Submitted, Returned) each reader reads. Approved responses: everybody.
DRAFTS_OF = {
    "anon": set(), "norole": set(),  # the public
    "admin": EVERY, "su": EVERY,  # administrators
    "eo": EVERY, "viewer": EVERY,  # evaluation office, viewer: no scope is everything
    "eo_r1": {"A", "C"},  # evaluation office of region One
    "eo_b": {"B"}, "viewer_b": {"B"},  # scoped to office B
    "fp_a": {"A"},  # office focal point of A
    "ufp_ua": {"A"},  # unit focal point of a unit of A: A's drafts
}
# Who reported progress, evidence marked internal, the history: people with a role.
INTERNAL = set(ROLES) - {"anon", "norole"}
# The history of accounts, groups, roles and sign-in lockouts.
ADMINISTRATORS = {"admin", "su"}
# The key actions each person reports progress on ("my actions"): approved responses, their office or unit.
UPDATES = {"fp_a": {("A", "Approved")}, "ufp_ua": {("A", "Approved")}, "su": {(o, "Approved") for o in OFFICES}}


def reads(role: str, office: str, status: str) -> bool:
    return status == "Approved" or office in DRAFTS_OF[role]


def readable(role: str) -> set[tuple[str, str]]:
    return {(o, s) for o, s in RECORDS if reads(role, o, s)}


def mark(kind: str, office: str, status: str, suffix: str = "") -> str:
    return f"{kind}-{office}-{status.upper()}" + (f"-{suffix}" if suffix else "")


def marks(kind: str, records, suffixes=("",)) -> set[str]:
    return {mark(kind, o, s, x) for o, s in records for x in suffixes}


MARKER = re.compile(r"\b(EV|REC|KA|UPD|EVID|EVIDF|CR)-([ABC])-(DRAFT|SUBMITTED|RETURNED|APPROVED)(?:-(PUBLIC|INTERNAL))?\b")


def found(text: str, kind: str) -> set[str]:
    return {m.group(0) for m in MARKER.finditer(text) if m.group(1) == kind}


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class World:
    ev: dict[tuple[str, str], int] = field(default_factory=dict)
    resp: dict[tuple[str, str], int] = field(default_factory=dict)
    rec: dict[tuple[str, str], int] = field(default_factory=dict)
    act: dict[tuple[str, str], int] = field(default_factory=dict)
    update: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (office, status, PUBLIC|INTERNAL)
    document: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (office, status, PUBLIC|INTERNAL)
    office_slug: dict[str, str] = field(default_factory=dict)
    region_slug: dict[str, str] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    theme: int = 0


def build_world() -> World:
    w = World()
    author = User.objects.create(username=AUTHOR, email=f"{AUTHOR}@example.org")
    offices, units = {}, {}
    for key in OFFICES:
        office = make_office(f"Office {key}", region=f"Region {REGION_OF[key]}")
        offices[key], units[key] = office, Unit.objects.create(office=office, name=f"Unit U{key}")
        w.office_slug[key], w.region_slug[REGION_OF[key]] = office.slug, office.region.slug
        for status in STATUSES:
            ev = make_evaluation(office, title=mark("EV", key, status), status=status, year=YEAR)
            rec = make_recommendation(ev, text=mark("REC", key, status))
            action = make_action(rec, units=[units[key]], text=mark("KA", key, status), deadline=dt.date(2001, 1, 1))
            w.ev[key, status], w.resp[key, status] = ev.pk, ev.management_response.pk
            w.rec[key, status], w.act[key, status] = rec.pk, action.pk
            for kind in ("PUBLIC", "INTERNAL"):
                update = ActionUpdate.objects.create(
                    key_action=action, status_before="Not Initiated", status_after="Initiated",
                    comment=mark("UPD", key, status, kind), author=author, author_name=AUTHOR,
                    evidence_url=f"https://example.org/{mark('EVID', key, status, kind)}",
                    evidence_internal=kind == "INTERNAL",
                )
                update.evidence_file.save(f"{mark('EVIDF', key, status, kind)}.pdf", ContentFile(b"%PDF-1.4 proof"), save=True)
                w.update[key, status, kind] = update.pk
            _record(ev, ev.pk, mark("CR", key, status), {"title": ev.title})
            for kind in ("PUBLIC", "INTERNAL"):
                doc = EvaluationDocument(evaluation=ev, kind="report", title=mark("DOC", key, status, kind), internal=kind == "INTERNAL",
                                         original_name=f"{mark('DOCF', key, status, kind)}.pdf", content_type="application/pdf")
                doc.file.save("report.pdf", ContentFile(b"%PDF-1.4 report"), save=True)
                w.document[key, status, kind] = doc.pk

    def person(name, role=None, **scope):
        u = User.objects.create(username=name, email=f"{name}@example.org", is_superuser=name == "su", is_staff=name == "su")
        if role:
            RoleAssignment.objects.create(user=u, role=role, **scope)
        w.users[name] = u.pk
        return u

    person("norole")
    person("admin", Role.ADMINISTRATOR)
    person("su")
    person("eo", Role.EVALUATION_OFFICE)
    person("eo_r1", Role.EVALUATION_OFFICE, region=offices["A"].region)
    person("eo_b", Role.EVALUATION_OFFICE, office=offices["B"])
    person("fp_a", Role.OFFICE_FOCAL_POINT, office=offices["A"])
    person("ufp_ua", Role.UNIT_FOCAL_POINT, unit=units["A"])
    person("viewer", Role.VIEWER)
    person("viewer_b", Role.VIEWER, office=offices["B"])
    # History beyond the evaluations: reference data (any role), accounts and the like (administrators).
    _record(offices["A"], None, "CR-REFERENCE", {"name": "Office A"})
    secret = User.objects.create(username="secret.person", email=SECRET_EMAIL)
    _record(secret, None, "CR-ACCOUNT", {"email": SECRET_EMAIL})
    _record(RoleAssignment.objects.get(user_id=w.users["fp_a"]), None, "CR-ROLE", {"role": "office_focal_point"})
    _record(Group.objects.create(name="Group Z"), None, "CR-GROUP", {"name": "Group Z"})
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(username="secret.person", ip_address="192.0.2.1", user_agent="x", failures_since_start=5)
    _record(attempt, None, "CR-AXES", {"username": "secret.person"})
    # The finding pages' data as the similarity jobs leave it: one theme of every recommendation (its
    # label for people with a role names a draft), and each recommendation similar to all the others.
    from search.models import SimilarRecommendation, Theme
    from tests.search.factories import put_in_theme

    theme = Theme.objects.create(label="THEME-INSIDE", public_label="THEME-PUBLIC", method="tfidf")
    w.theme = theme.pk
    put_in_theme(theme, [(pk, 1 - rank / 100) for rank, pk in enumerate(w.rec.values())])
    for pk in w.rec.values():
        others = [o for o in w.rec.values() if o != pk]
        SimilarRecommendation.objects.bulk_create(
            SimilarRecommendation(recommendation_id=pk, similar_id=o, score=0.9, rank=i + 1) for i, o in enumerate(others)
        )
    for role, pk in w.users.items():
        client = Client()
        client.force_login(User.objects.get(pk=pk))
        w.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return w


def _record(obj, evaluation_id, message, after):
    ChangeRecord.objects.create(
        action="update", content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, object_repr=str(obj)[:300],
        evaluation_id=evaluation_id, user_name="editor", source="web", after=after, message=message,
    )


OTHER_HISTORY = {"CR-REFERENCE": INTERNAL, "CR-ACCOUNT": ADMINISTRATORS, "CR-ROLE": ADMINISTRATORS,
                 "CR-GROUP": ADMINISTRATORS, "CR-AXES": ADMINISTRATORS}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)  # expected 403s and 404s
    try:
        with override_settings(MEDIA_ROOT=str(media)), django_db_blocker.unblock(), transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)
    finally:
        request_log.setLevel(level)


def client_for(w: World, role: str) -> Client:
    client = Client()
    if role != "anon":
        client.cookies[settings.SESSION_COOKIE_NAME] = w.sessions[role]
    return client


def who(w: World, role: str):
    return None if role == "anon" else User.objects.get(pk=w.users[role])


def text_of(response) -> str:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        header, rows = tables.read_xlsx(data)
        return "\n".join(" ".join("" if v is None else str(v) for v in row) for row in [header, *rows])
    if kind.startswith("application/pdf"):
        doc = pdfium.PdfDocument(io.BytesIO(data))
        # Words wrapped across lines come back whole once line breaks are taken out; a hyphen a line ended on
        # comes back from pdfium as U+FFFE (where a mark wraps depends on the fonts the machine has).
        text = "".join(page.get_textpage().get_text_range() for page in doc)
        return text.replace("\r\n", "").replace("\n", "").replace("\ufffe", "-")
    return data.decode()


def figure(html: str, label: str) -> int:
    """The number of a figure: <span class="value">N</span> label."""
    match = re.search(r'<span class="value">([\d,]+)</span> ' + label + r"\b", html)
    assert match, f"no figure {label!r}"
    return int(match.group(1).replace(",", ""))


def office_row(html: str, office: str) -> int:
    """The key actions of an office in a table of figures by office (0 when the office has no row)."""
    match = re.search(rf'>Office {office}(?:</a>)?</th>\s*<td class="num">(?:<a [^>]*>)?(\d+)', html)
    return int(match.group(1)) if match else 0


# --- 1. the entry point gives what the rules allow ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_entry_point_gives_what_the_rules_allow(world, role):
    user = who(world, role)
    allowed = readable(role)
    by_model = {
        Evaluation: ("title", "EV"),
        Recommendation: ("text", "REC"),
        KeyAction: ("text", "KA"),
        ManagementResponse: ("evaluation__title", "EV"),
    }
    for model, (path, kind) in by_model.items():
        assert set(restrict(user, model).values_list(path, flat=True)) == (
            marks("EV", allowed) if kind == "EV" else marks(kind, allowed)
        ), model.__name__
    comments = set(restrict(user, ActionUpdate).values_list("comment", flat=True))
    assert comments == marks("UPD", allowed, ("PUBLIC", "INTERNAL"))
    evidence = set(restrict(user, ActionUpdate, EVIDENCE).values_list("comment", flat=True))
    assert evidence == marks("UPD", allowed, ("PUBLIC", "INTERNAL") if role in INTERNAL else ("PUBLIC",))
    history = set(restrict(user, ChangeRecord).values_list("message", flat=True))
    expected = (marks("CR", allowed) | {m for m, readers in OTHER_HISTORY.items() if role in readers}) if role in INTERNAL else set()
    assert history == expected


# --- 2. every door shows what the rules allow, and nothing else ------------------------------------


@dataclass(frozen=True)
class ListCase:
    id: str
    url: object  # (world) -> str
    kind: str  # the markers compared: EV, REC, KA, UPD, CR
    expected: object  # (role) -> set of markers, or None for "refused"
    status: object = None  # (role) -> the expected status when refused
    roles: tuple = ROLES  # a PDF takes seconds: the readers that tell the scopes apart


def _evs(role):
    return marks("EV", readable(role))


def _recs(role):
    return marks("REC", readable(role))


def _kas(role):
    return marks("KA", readable(role))


def _upds(role):
    return marks("UPD", readable(role), ("PUBLIC", "INTERNAL"))


def _history(role):
    if role not in INTERNAL:
        return None
    return marks("CR", readable(role))


def _refused_history(role):
    return 403


def _static(url):
    return lambda w: url


LISTS = [
    ListCase("evaluations", _static("/evaluations/"), "EV", _evs),
    ListCase("evaluations-search", _static("/evaluations/?q=EV-"), "EV", _evs),
    ListCase("evaluations-drafts-filter", _static("/evaluations/?response_status=Draft"), "EV",
             lambda r: marks("EV", {(o, s) for o, s in readable(r) if s == "Draft"})),
    ListCase("actions", _static("/actions/"), "KA", _kas),
    ListCase("actions-search", _static("/actions/?q=KA-"), "KA", _kas),
    ListCase("actions-overdue", _static("/actions/?overdue=1"), "KA", _kas),
    ListCase("office-a", lambda w: reverse("web:office", args=[w.office_slug["A"]]), "EV",
             lambda r: marks("EV", {(o, s) for o, s in readable(r) if o == "A"})),
    ListCase("office-b", lambda w: reverse("web:office", args=[w.office_slug["B"]]), "EV",
             lambda r: marks("EV", {(o, s) for o, s in readable(r) if o == "B"})),
    ListCase("plan-a", lambda w: reverse("web:plan", args=[EvaluationPlan.objects.get(office__slug=w.office_slug["A"]).pk]), "EV",
             lambda r: marks("EV", {(o, s) for o, s in readable(r) if o == "A"})),
    ListCase("plan-b", lambda w: reverse("web:plan", args=[EvaluationPlan.objects.get(office__slug=w.office_slug["B"]).pk]), "EV",
             lambda r: marks("EV", {(o, s) for o, s in readable(r) if o == "B"})),
    ListCase("annual-report", _static(f"/reports/annual/?year={YEAR}"), "EV", _evs),  # its overdue list names them
    ListCase("annual-report-pdf", _static(f"/reports/annual/?year={YEAR}&format=pdf"), "KA", _kas,
             roles=("anon", "admin", "eo_r1", "eo_b", "ufp_ua")),
    ListCase("export-evaluations-csv", _static("/export/evaluations.csv"), "EV", _evs),
    ListCase("export-evaluations-json", _static("/export/evaluations.json"), "EV", _evs),
    ListCase("export-evaluations-xlsx", _static("/export/evaluations.xlsx"), "EV", _evs),
    ListCase("export-recommendations-csv", _static("/export/recommendations.csv"), "REC", _recs),
    ListCase("export-recommendations-xlsx", _static("/export/recommendations.xlsx"), "REC", _recs),
    ListCase("export-key-actions-csv", _static("/export/key-actions.csv"), "KA", _kas),
    ListCase("export-key-actions-json", _static("/export/key-actions.json"), "KA", _kas),
    ListCase("export-key-actions-xlsx", _static("/export/key-actions.xlsx"), "KA", _kas),
    ListCase("export-key-actions-search-csv", _static("/export/key-actions.csv?q=KA-"), "KA", _kas),
    ListCase("export-updates-csv", _static("/export/updates.csv"), "UPD", _upds),
    ListCase("export-updates-json", _static("/export/updates.json"), "UPD", _upds),
    ListCase("export-updates-xlsx", _static("/export/updates.xlsx"), "UPD", _upds),
    ListCase("history", _static("/history/"), "CR", _history, _refused_history),
    ListCase("history-csv", _static("/history/?format=csv"), "CR", _history, _refused_history),
    ListCase("history-json", _static("/history/?format=json"), "CR", _history, _refused_history),
    ListCase("recurring-theme", lambda w: reverse("web:recurring_theme", args=[w.theme]), "REC", _recs),
    ListCase("my-actions", _static("/workspace/actions/"), "KA",
             lambda r: marks("KA", UPDATES.get(r, set())) if r != "anon" else None, lambda r: 302),
    ListCase("workspace", _static("/workspace/"), "KA",
             lambda r: marks("KA", UPDATES.get(r, set())) if r != "anon" else None, lambda r: 302),
]


def _no_internal_leak(role: str, text: str, where: str) -> None:
    """Who reported and evidence marked internal: for people with a role; accounts: administrators."""
    if role not in INTERNAL:
        assert AUTHOR not in text, f"{where}: an author's name shown to the public"
        assert not found(text, "EVID") - marks("EVID", RECORDS, ("PUBLIC",)), f"{where}: internal evidence link"
        assert not found(text, "EVIDF") - marks("EVIDF", RECORDS, ("PUBLIC",)), f"{where}: internal evidence file"
    if role not in ADMINISTRATORS:
        assert SECRET_EMAIL not in text, f"{where}: someone's e-mail address"
    for other in found(text, "EV") | found(text, "KA") | found(text, "REC") | found(text, "UPD") | found(text, "CR"):
        _, office, status, *_ = other.split("-")
        assert reads(role, office, status.title()), f"{where}: {other} shown to {role}"


@pytest.mark.django_db
@pytest.mark.parametrize("case,role", [pytest.param(c, r, id=f"{c.id}-{r}") for c in LISTS for r in c.roles])
def test_each_list_and_export_shows_what_the_reader_reads(world, case: ListCase, role: str):
    response = client_for(world, role).get(case.url(world))
    expected = case.expected(role)
    if expected is None:
        assert response.status_code == case.status(role)
        if response.status_code == 403:
            assert not found(text_of(response), case.kind)
        return
    assert response.status_code == 200
    text = text_of(response)
    assert found(text, case.kind) == expected
    _no_internal_leak(role, text, case.id)
    if case.kind == "UPD":
        # Evidence in the updates export: public evidence for all, internal evidence and authors for people with a role.
        shown = ("PUBLIC", "INTERNAL") if role in INTERNAL else ("PUBLIC",)
        assert found(text, "EVID") == marks("EVID", readable(role), shown)
        assert found(text, "EVIDF") == marks("EVIDF", readable(role), shown)
        assert (AUTHOR in text) == (role in INTERNAL)
    if case.kind == "CR":
        for message, readers in OTHER_HISTORY.items():
            assert (message in text) == (role in readers), message
        assert (SECRET_EMAIL in text) == (role in ADMINISTRATORS)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_completions_awaiting_verification_are_those_the_reader_reads(world, role):
    """Every key action of the world reported Completed, with evidence marked internal: each reader sees theirs."""
    author = User.objects.get(username=AUTHOR)
    for (office, status), pk in world.act.items():
        ActionUpdate.objects.create(
            key_action_id=pk, status_before="Initiated", status_after="Completed", comment="Claimed done.",
            author=author, author_name=AUTHOR, evidence_internal=True,
            evidence_url=f"https://example.org/{mark('EVID', office, status, 'INTERNAL')}",
        )
    KeyAction.objects.filter(pk__in=world.act.values()).update(status="Completed", verification="awaiting")
    response = client_for(world, role).get(reverse("web:verification"))
    if role == "anon":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        return
    text = text_of(response)
    assert found(text, "KA") == marks("KA", readable(role))
    _no_internal_leak(role, text, "verification")
    assert found(text, "EVID") == (marks("EVID", readable(role), ("INTERNAL",)) if role in INTERNAL else set())
    assert (AUTHOR in text) == (role in INTERNAL)


# --- figures: counted over what the reader reads ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_figure_counts_what_the_reader_reads(world, role):
    client = client_for(world, role)
    mine = readable(role)
    n = len(mine)  # one evaluation, recommendation, key action (overdue) per record

    home = client.get("/").content.decode()
    assert (figure(home, "evaluations"), figure(home, "recommendations"), figure(home, "key actions")) == (n, n, n)
    assert figure(home, "overdue") == n
    _no_internal_leak(role, home, "home")

    dashboard = client.get("/dashboard/").content.decode()
    assert figure(dashboard, "key actions") == n
    assert figure(dashboard, "Initiated") == n
    for office in OFFICES:  # the breakdown by office
        assert office_row(dashboard, office) == len([1 for o, _ in mine if o == office]), office

    annual = client.get(f"/reports/annual/?year={YEAR}").content.decode()
    assert figure(annual, "evaluations") == n
    assert figure(annual, "key actions") == n
    assert figure(annual, "still overdue") == n
    for office in OFFICES:
        assert office_row(annual, office) == len([1 for o, _ in mine if o == office]), office
    for status in STATUSES:
        count = len([1 for _, s in mine if s == status])
        if count:
            assert figure(annual, f"responses {status.lower()}") == count
        else:
            assert f"responses {status.lower()}" not in annual

    for office in OFFICES:
        page = client.get(reverse("web:office", args=[world.office_slug[office]])).content.decode()
        assert figure(page, "key actions") == len([1 for o, _ in mine if o == office])

    regions = client.get("/regions/").content.decode()
    for region in ("One", "Two"):
        count = len([1 for o, _ in mine if REGION_OF[o] == region])
        row = re.search(rf">Region {region}</a></td><td class=\"num\">\d+</td><td class=\"num\">(\d+)</td>", regions)
        assert row and int(row.group(1)) == count, region
    region_one = client.get(reverse("web:region", args=[world.region_slug["One"]])).content.decode()
    for office in ("A", "C"):
        row = re.search(rf">Office {office}</a></td><td>[^<]*</td><td class=\"num\">(\d+)</td>", region_one)
        assert row and int(row.group(1)) == len([1 for o, _ in mine if o == office]), office

    evaluations = client.get("/evaluations/").content.decode()
    assert f"{n} evaluation" in evaluations
    actions = client.get("/actions/").content.decode()
    assert f"{n} key action" in actions


# --- one record at a time: pages, their exports and histories, evidence, the drafting forms -----------


@dataclass(frozen=True)
class PageCase:
    id: str
    url: object  # (world, office, status) -> str
    refused: str = "404"  # what a reader who may not read the record gets: 404, or "empty" (a list without it)
    internal_only: bool = False  # the history: 403 for the public whatever the record
    signed_in: bool = False  # forms: the public is sent to sign in
    form: bool = False  # a form: a reader may read the record and still be refused (403)


PAGES = [
    PageCase("evaluation", lambda w, o, s: reverse("web:evaluation", args=[w.ev[o, s]])),
    PageCase("action", lambda w, o, s: reverse("web:action", args=[w.act[o, s]])),
    PageCase("evaluation-history", lambda w, o, s: reverse("web:evaluation_history", args=[w.ev[o, s]]), internal_only=True),
    PageCase("evaluation-history-csv", lambda w, o, s: reverse("web:evaluation_history", args=[w.ev[o, s]]) + "?format=csv",
             internal_only=True),
    PageCase("evaluation-history-json", lambda w, o, s: reverse("web:evaluation_history", args=[w.ev[o, s]]) + "?format=json",
             internal_only=True),
    PageCase("evaluation-export-txt", lambda w, o, s: reverse("web:evaluation_export", args=[w.ev[o, s], "txt"])),
    PageCase("evaluation-export-json", lambda w, o, s: reverse("web:evaluation_export", args=[w.ev[o, s], "json"])),
    PageCase("similar", lambda w, o, s: reverse("web:similar", args=[w.rec[o, s]])),
    PageCase("search-action", lambda w, o, s: f"/search/?q={mark('KA', o, s)}", refused="empty"),
    PageCase("search-recommendation", lambda w, o, s: f"/search/?q={mark('REC', o, s)}", refused="empty"),
    PageCase("search-update", lambda w, o, s: f"/search/?q={mark('UPD', o, s, 'PUBLIC')}", refused="empty"),
    PageCase("key-actions-of-evaluation", lambda w, o, s: f"/actions/?evaluation={w.ev[o, s]}", refused="empty"),
    PageCase("response-edit", lambda w, o, s: reverse("web:response_edit", args=[w.resp[o, s]]), signed_in=True, form=True),
    PageCase("recommendation-edit", lambda w, o, s: reverse("web:recommendation_edit", args=[w.rec[o, s]]), signed_in=True, form=True),
    PageCase("recommendation-add", lambda w, o, s: reverse("web:recommendation_add", args=[w.resp[o, s]]), signed_in=True, form=True),
    PageCase("action-add", lambda w, o, s: reverse("web:action_add", args=[w.rec[o, s]]), signed_in=True, form=True),
    PageCase("action-edit", lambda w, o, s: reverse("web:action_edit", args=[w.act[o, s]]), signed_in=True, form=True),
    PageCase("evaluation-edit", lambda w, o, s: reverse("web:evaluation_edit", args=[w.ev[o, s]]), signed_in=True, form=True),
    PageCase("progress-form", lambda w, o, s: reverse("web:action_update", args=[w.act[o, s]]), signed_in=True, form=True),
    PageCase("adoption-form", lambda w, o, s: reverse("web:adoption", args=[w.rec[o, s]]), signed_in=True, form=True),
]


def _search_result(w: World, case: str, office: str, status: str) -> str:
    """The link of a search result to the record searched for."""
    if case == "search-action":
        return f'href="{reverse("web:action", args=[w.act[office, status]])}"'
    if case == "search-recommendation":
        return f'href="{reverse("web:evaluation", args=[w.ev[office, status]])}#recommendation-{w.rec[office, status]}"'
    return f'href="{reverse("web:action", args=[w.act[office, status]])}#update-{w.update[office, status, "PUBLIC"]}"'


@pytest.mark.django_db
@pytest.mark.parametrize("case,role", [pytest.param(c, r, id=f"{c.id}-{r}") for c in PAGES for r in ROLES])
def test_each_record_page_is_there_exactly_for_its_readers(world, case: PageCase, role: str):
    client = client_for(world, role)
    for office, status in RECORDS:
        response = client.get(case.url(world, office, status))
        where = f"{case.id} {office} {status}"
        if case.signed_in and role == "anon":
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), where
            continue
        if case.internal_only and role not in INTERNAL:
            assert response.status_code == 403, where
            continue
        if not reads(role, office, status):
            assert response.status_code == (200 if case.refused == "empty" else 404), where
            assert not found(text_of(response), "EV") & marks("EV", [(office, status)]), where
            if case.id.startswith("search-"):  # the query is on the page: no result leads to the record
                assert _search_result(world, case.id, office, status) not in text_of(response), where
                continue
            assert not found(text_of(response), "KA"), where
            continue
        if case.form:
            assert response.status_code in (200, 403), where
            continue
        assert response.status_code == 200, where
        text = text_of(response)
        _no_internal_leak(role, text, where)
        if case.id == "evaluation-export-json":
            assert json.loads(text)["evaluation"]["title"] == mark("EV", office, status)
        elif case.id.startswith("evaluation-history"):
            assert found(text, "CR") == {mark("CR", office, status)}, where
            assert SECRET_EMAIL not in text
        elif case.id in ("evaluation", "action"):
            # Every update is listed; who reported and internal evidence only for people with a role.
            assert found(text, "UPD") == marks("UPD", [(office, status)], ("PUBLIC", "INTERNAL")), where
            shown = ("PUBLIC", "INTERNAL") if role in INTERNAL else ("PUBLIC",)
            assert found(text, "EVID") == marks("EVID", [(office, status)], shown), where
            assert (AUTHOR in text) == (role in INTERNAL), where
            assert found(text, "KA") == {mark("KA", office, status)}, where
        elif case.id.startswith("search-"):
            assert _search_result(world, case.id, office, status) in text, where
        elif case.id == "similar":
            # The recommendation, and of the others exactly those the reader reads.
            assert found(text, "REC") == marks("REC", readable(role)), where
        elif case.id == "key-actions-of-evaluation":
            assert found(text, "KA") == {mark("KA", office, status)}, where
        else:
            assert mark("KA", office, status) in text, where


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_evidence_downloads_follow_the_record_and_the_internal_mark(world, role):
    client = client_for(world, role)
    for office, status in RECORDS:
        for kind in ("PUBLIC", "INTERNAL"):
            response = client.get(reverse("web:evidence", args=[world.update[office, status, kind]]))
            allowed = reads(role, office, status) and (kind == "PUBLIC" or role in INTERNAL)
            assert response.status_code == (200 if allowed else 404), (office, status, kind)
            if allowed:
                assert mark("EVIDF", office, status, kind) in response["Content-Disposition"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_documents_follow_the_evaluation_and_the_internal_mark(world, role):
    """Downloads, and the list on the evaluation page: the evaluation's readers; internal ones for people with a role."""
    client = client_for(world, role)
    for office, status in RECORDS:
        page = client.get(reverse("web:evaluation", args=[world.ev[office, status]]))
        listed = page.content.decode() if page.status_code == 200 else ""
        for kind in ("PUBLIC", "INTERNAL"):
            allowed = reads(role, office, status) and (kind == "PUBLIC" or role in INTERNAL)
            response = client.get(reverse("web:document", args=[world.document[office, status, kind]]))
            assert response.status_code == (200 if allowed else 404), (office, status, kind)
            if allowed:
                assert f"{mark('DOCF', office, status, kind)}.pdf" in response["Content-Disposition"]
            assert (mark("DOC", office, status, kind) in listed) == allowed, (office, status, kind)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anon", "fp_a", "eo_b"])
def test_an_evaluation_pdf_follows_the_reader(world, role):
    client = client_for(world, role)
    for office, status in (("A", "Draft"), ("B", "Submitted"), ("A", "Approved")):
        response = client.get(reverse("web:evaluation_export", args=[world.ev[office, status], "pdf"]))
        if not reads(role, office, status):
            assert response.status_code == 404
            continue
        assert response.status_code == 200
        text = text_of(response)
        assert mark("KA", office, status) in text and AUTHOR not in text


# --- the page cache: never one reader's page for another ---------------------------------------------


CACHED = {
    # url (world) -> what tells one reader's page from another's
    "home": (_static("/"), lambda html: (figure(html, "evaluations"), found(html, "EV"))),
    "regions": (_static("/regions/"), lambda html: re.findall(r'<td class="num">(\d+)</td>', html)),
    "region": (lambda w: reverse("web:region", args=[w.region_slug["One"]]), lambda html: re.findall(r'<td class="num">(\d+)</td>', html)),
    "office": (lambda w: reverse("web:office", args=[w.office_slug["B"]]), lambda html: found(html, "EV")),
    "evaluations": (_static("/evaluations/"), lambda html: found(html, "EV")),
    "actions": (_static("/actions/"), lambda html: found(html, "KA")),
    "dashboard": (_static("/dashboard/"), lambda html: figure(html, "key actions")),
    "evaluation-approved": (lambda w: reverse("web:evaluation", args=[w.ev["A", "Approved"]]),
                            lambda html: (found(html, "EVID"), AUTHOR in html)),
    "evaluation-draft": (lambda w: reverse("web:evaluation", args=[w.ev["A", "Draft"]]), lambda html: found(html, "KA")),
    "action-approved": (lambda w: reverse("web:action", args=[w.act["B", "Approved"]]),
                        lambda html: (found(html, "EVID"), AUTHOR in html)),
    "my-actions": (_static("/workspace/actions/"), lambda html: found(html, "KA")),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CACHED))
def test_the_page_cache_never_serves_one_readers_page_to_another(world, name, settings):
    """The same address asked by every reader in turn, then again the other way round, the cache warm throughout."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "read-matrix"}}
    from django.core.cache import cache

    cache.clear()
    url_of, signature = CACHED[name]
    url = url_of(world)
    seen = {}
    for role in [*ROLES, *reversed(ROLES)]:
        response = client_for(world, role).get(url)
        if response.status_code != 200:
            assert response.status_code in (302, 404), (role, response.status_code)
            assert seen.setdefault((role, "status"), response.status_code) == response.status_code
            continue
        html = response.content.decode()
        _no_internal_leak(role, html, f"{name} as {role}")
        got = signature(html)
        first = seen.setdefault(role, got)
        assert got == first, f"{name}: {role} got another reader's page the second time"
    # And each reader's page is its own: computed afresh (cache empty), it is the same.
    for role in ROLES:
        cache.clear()
        response = client_for(world, role).get(url)
        if response.status_code == 200:
            assert signature(response.content.decode()) == seen[role], role
    # Readers with different reading did get different pages (the test can tell them apart).
    if name in ("evaluations", "actions", "home"):
        assert seen["fp_a"] != seen["eo_b"] != seen["anon"] != seen["fp_a"]
    if name in ("evaluation-approved", "action-approved"):
        assert seen["anon"] != seen["viewer"]


# --- 3. nothing reads around the entry point ----------------------------------------------------------


TRACKED = {
    "Evaluation", "ManagementResponse", "Recommendation", "RecommendationTerm", "KeyAction", "ActionUpdate",
    "ChangeRecord", "EvaluationDocument", "Verification", "DeadlineRevision",
    "OutcomeQuestion", "ActionTally",
}
MANAGERS = {"objects", "_default_manager", "_base_manager", "through"}


def reads_around(source: str) -> list[str]:
    """Places that query a tracked model without `restrict`: `Model.objects...`, `Model.rel.through`,
    `get_object_or_404(Model, ...)`, or through it as the reader of everything (`EVERYTHING`). A
    `Prefetch(...)` of rows below ones already read is fine."""
    tree = ast.parse(source)
    inside_prefetch: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Prefetch":
            inside_prefetch.update(id(sub) for sub in ast.walk(node))
    found_at = []
    for node in ast.walk(tree):
        if id(node) in inside_prefetch:
            continue
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in TRACKED:
                found_at.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, (ast.Name, ast.alias)) and getattr(node, "id", getattr(node, "name", "")) == "EVERYTHING":
            found_at.append(f"line {getattr(node, 'lineno', 0)}: EVERYTHING")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("get_object_or_404", "get_list_or_404"):
            if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in TRACKED:
                found_at.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found_at


def _readers() -> list[Path]:
    """The apps that show or export records: every app of ours but the domain itself (web, reports, ...)."""
    from django.apps import apps

    folders = []
    for app in apps.get_app_configs():
        path = Path(app.path)
        if path.is_relative_to(ROOT) and app.name != "tracking":
            folders.append(path)
    return folders


# Computations that show nothing and read every record on purpose; what they leave is read through the entry point.
COMPUTE_EVERYTHING = {
    "search/recurring.py": "the similarity jobs compare every recommendation; search/portfolio.py restricts what is shown",
}


def test_no_view_or_report_reads_a_tracked_model_around_the_entry_point():
    folders = _readers()
    assert {f.name for f in folders} >= {"web", "reports"}
    offenders = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            if "migrations" in path.parts or str(path.relative_to(ROOT)) in COMPUTE_EVERYTHING:
                continue
            places = reads_around(path.read_text(encoding="utf-8"))
            if places:
                offenders[str(path.relative_to(ROOT))] = places
    assert offenders == {}, "read through tracking.permissions.restrict(who, Model) instead"


def test_what_computes_over_everything_shows_nothing():
    """The exempted modules are no page's door: no view, template or report imports them directly."""
    for module in COMPUTE_EVERYTHING:
        package, name = module.removesuffix(".py").rsplit("/", 1)
        imports = re.compile(rf"import {package}\.{name}\b|from {package}\.{name} import|from {package} import [^\n]*\b{name}\b")
        for folder in ("web", "reports"):
            for path in (ROOT / folder).rglob("*.py"):
                assert not imports.search(path.read_text(encoding="utf-8")), path


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_recurring_themes_count_and_name_what_the_reader_reads(world, role):
    html = text_of(client_for(world, role).get("/recurring/"))
    label = "THEME-INSIDE" if role in INTERNAL else "THEME-PUBLIC"
    assert label in html and ({"THEME-INSIDE", "THEME-PUBLIC"} - {label}).isdisjoint(html.split())
    row = re.search(rf">{label}</a></td>\s*<td class=\"num\">(\d+)<", html)
    assert row and int(row.group(1)) == len(readable(role)), role


def test_the_scan_finds_what_it_looks_for():
    assert reads_around("x = Evaluation.objects.filter(pk=1)")
    assert reads_around("x = KeyAction.units.through.objects.all()")
    assert reads_around("x = get_object_or_404(ChangeRecord, pk=1)")
    assert reads_around("x = ActionUpdate._default_manager.all()")
    assert not reads_around("x = restrict(user, Evaluation).filter(pk=1)")
    assert reads_around("x = restrict(EVERYTHING, OutcomeQuestion).filter(pk=1)")
    assert reads_around("from tracking.permissions import EVERYTHING, restrict")
    assert not reads_around("x = Prefetch('updates', queryset=ActionUpdate.objects.order_by('-id'))")
    assert not reads_around("x = Office.objects.all(); y = ChangeRecord.Action.values")


def test_every_route_of_the_web_app_is_in_a_matrix():
    """A new page must say what each reader sees here; a POST-only door is in the write matrix."""
    from web import urls

    covered = {
        "home", "regions", "region", "office", "evaluations", "evaluation", "evaluation_history", "actions", "action",
        "workspace", "my_actions", "evidence", "history", "dashboard", "annual_report", "export", "evaluation_export",
        "response_edit", "recommendation_edit", "recommendation_add", "action_add", "action_edit", "action_update",
        "search", "similar", "recurring", "recurring_theme", "evaluation_edit", "plan", "document",
        "verification", "adoption",
        # A person's own reminders only, and a page that shows no record (tests/reminders/test_reminders.py).
        "notifications", "unsubscribe",
        # A joint evaluation's roll-up and its shared recommendation's form: each reader's partners, in
        # tests/web/test_joint_pages.py (this world has no joint evaluation).
        "joint", "shared_recommendation",
    }
    # Doors that read no record to show (POST only, or a form with nothing in it yet): tests/web/test_permission_matrix.py.
    write_only = {
        "evaluation_create", "response_header", "response_submit", "response_approve", "response_return",
        "recommendation_delete", "recommendation_move", "action_delete", "action_move", "evaluation_quality",
        "notification_preferences", "evaluation_delete", "plan_create", "plan_edit", "plan_close", "document_add",
        "document_delete",
        # A spreadsheet import shows only its uploader's own file, checked by the importer (tests/web/test_sheet_import.py).
        "sheet_import", "sheet_template", "sheet_preview", "sheet_confirm",
        "action_verify", "action_deadline", "outcome_schedule", "outcome_answer", "joint_partners",
        # Reference data (units) for administrators: tests/web/test_unit_review.py; one's own time zone.
        "units", "time_zone",
    }
    names = {p.name for p in urls.urlpatterns}
    assert names - covered - write_only == set()
    assert covered | write_only == names


@pytest.mark.django_db
def test_the_world_holds_every_case(world):
    """Records in every state, in and out of every scope, with both kinds of evidence."""
    assert ActionUpdate.objects.filter(evidence_internal=True).count() == len(RECORDS)
    assert ActionUpdate.objects.filter(evidence_internal=False).exclude(evidence_file="").count() == len(RECORDS)
    assert Region.objects.filter(name__in=["Region One", "Region Two"]).count() == 2
    assert Office.objects.filter(name__in=[f"Office {o}" for o in OFFICES]).count() == 3
    for role in ROLES:
        mine = readable(role)
        if role in ("anon", "norole"):
            assert {s for _, s in mine} == {"Approved"}
        elif DRAFTS_OF[role] != EVERY:
            assert {s for _, s in mine} == set(STATUSES)  # some drafts read ...
            assert len(mine) < len(RECORDS)  # ... and some not
