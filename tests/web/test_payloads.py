"""The payload suite on the server: every hostile value of tests/data/payloads.txt through every form
and the GATE importer, then every page that shows it.

A value is either stored exactly (what the form keeps: Django strips leading
and trailing whitespace) or refused with a message on the form; wherever it
is shown it is text: no element, attribute, script or link made of it (see
tests/payloads.py for what is looked for). The browser half
(tests/browser/test_payloads.py) renders the same kinds of records in
chromium and listens for dialogs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

import gateformat
from reports import tables
from tests.payloads import PAYLOADS, Payload, payload_document, scan, stored_form
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import (
    ActionUpdate,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Recommendation,
    Role,
    RoleAssignment,
    Term,
    Unit,
)
from tracking.services import drafting
from tracking.services.importer import Importer

pytestmark = pytest.mark.django_db
User = get_user_model()
NUMBER_MAX = 20  # characters of a recommendation's or key action's number


def test_the_corpus_is_large_and_covers_every_kind():
    assert len(PAYLOADS) >= 100
    groups = {p.group for p in PAYLOADS}
    assert {"script", "attribute", "url", "svg-mathml", "template", "formula", "control", "unicode"} <= groups
    texts = {p.text for p in PAYLOADS}
    for must in ("'+alert(1)+'", '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "=1+1", "＝1+1", "＠SUM(1,1)",
                 "{{ 7*7 }}", "{% debug %}", "\u202egnp.exe"):
        assert must in texts
    assert any("\x1b" in t for t in texts) and any("\x00" in t for t in texts)


# --- the people and their clients ------------------------------------------------------------------


class World:
    def __init__(self):
        self.office = make_office("Office of payloads")
        self.admin = User.objects.create(username="admin-p", is_superuser=True, is_staff=True)
        self.reviewer = self._person("reviewer-p", Role.EVALUATION_OFFICE)
        self.focal = self._person("focal-p", Role.OFFICE_FOCAL_POINT, office=self.office)
        self.viewer = self._person("viewer-p", Role.VIEWER)
        self.clients = {name: self._client(getattr(self, name)) for name in ("admin", "reviewer", "focal", "viewer")}
        self.clients["public"] = Client()

    @staticmethod
    def _person(name, role, **scope):
        user = User.objects.create(username=name)
        RoleAssignment.objects.create(user=user, role=role, **scope)
        return user

    @staticmethod
    def _client(user):
        client = Client()
        client.force_login(user)
        return client

    def draft(self, title: str) -> ManagementResponse:
        ev = drafting.create_evaluation(Actor(user=self.reviewer), office=self.office, start_year=2024, end_year=2025, title=title)
        return ev.management_response


@pytest.fixture
def world():
    return World()


def page(client, url: str, *, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, f"GET {url}: {response.status_code}"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return scan(content.decode())


def visible_page(client, url: str):
    """The page, or None where the reader may not see it (the reading rules decide who sees drafts;
    this suite checks what is shown, not to whom)."""
    response = client.get(url)
    if response.status_code in (403, 404):
        return None
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return scan(response.content.decode())


def assert_text(found, url: str, values) -> None:
    """No markup made of data on the page, and each value shown as it is."""
    assert not found.problems, f"{url}: {found.problems[:5]}"
    missing = [v for v in values if v and not found.shows(v)]
    assert not missing, f"{url} does not show these values as text: {missing[:5]}"


def refused(response, field: str | None = None) -> bool:
    """A form sent back with a message (never a 500, never silently)."""
    if response.status_code != 400:
        return False
    found = scan(response.content.decode())
    assert not found.problems, found.problems[:5]
    return 'role="alert"' in response.content.decode()


def number_for(p: Payload, i: int) -> str:
    return stored_form(p.text) if 0 < len(stored_form(p.text)) <= NUMBER_MAX else f"{i}"


# --- drafting: recommendation and key action forms ----------------------------------------------------


def test_payloads_through_the_recommendation_and_key_action_forms(world):
    response = world.draft("Draft with payloads")
    focal = world.clients["focal"]
    expected_recs, expected_actions, refusals = {}, {}, []
    for i, p in enumerate(PAYLOADS, start=1):
        fields = {"number": number_for(p, i), "text": p.text, "response_text": p.text, "description": p.text, "category": "Accepted"}
        r = focal.post(reverse("web:recommendation_add", args=[response.pk]), fields)
        if r.status_code == 302:
            rec = Recommendation.objects.get(management_response=response, position=len(expected_recs) + 1)
            assert (rec.number, rec.text, rec.response_text, rec.description) == (
                fields["number"], stored_form(p.text), stored_form(p.text), stored_form(p.text)
            ), f"{p}: stored differently"
            expected_recs[rec.pk] = p
        else:
            assert refused(r), f"{p}: neither stored nor refused with a message ({r.status_code})"
            refusals.append(p)
            continue
        fields = {"number": number_for(p, i), "text": p.text, "responsible": p.text[:500], "comments": p.text, "status": "Not Initiated"}
        r = focal.post(reverse("web:action_add", args=[rec.pk]), fields)
        assert r.status_code == 302, f"{p}: the key action was not stored ({r.status_code})"
        action = rec.key_actions.get()
        assert (action.number, action.text, action.responsible, action.comments) == (
            fields["number"], stored_form(p.text), stored_form(p.text[:500]), stored_form(p.text)
        ), f"{p}: stored differently"
        expected_actions[action.pk] = p
    # Only what cannot be stored is refused: NUL (PostgreSQL cannot hold it).
    assert [p.text for p in refusals] == [p.text for p in PAYLOADS if "\x00" in p.text]
    assert len(expected_recs) >= 100

    url = reverse("web:response_edit", args=[response.pk])
    values = [stored_form(p.text) for p in expected_recs.values()]
    assert_text(page(focal, url), url, values)
    # Each form again, holding the stored values in its inputs (an attribute) and textareas.
    for pk in list(expected_recs)[::8]:
        url = reverse("web:recommendation_edit", args=[pk])
        rec = Recommendation.objects.get(pk=pk)
        assert_text(page(focal, url), url, [rec.number, rec.text])
    for pk in list(expected_actions)[::8]:
        url = reverse("web:action_edit", args=[pk])
        action = KeyAction.objects.get(pk=pk)
        assert_text(page(focal, url), url, [action.number, action.text, action.responsible])
    # The evaluation page as its office and as the reviewer; the history of the changes.
    ev_url = response.evaluation.get_absolute_url()
    assert_text(page(focal, ev_url), f"{ev_url} as its office", values)
    for who in ("reviewer", "viewer", "admin"):
        found = visible_page(world.clients[who], ev_url)
        if found is not None:
            assert_text(found, f"{ev_url} as {who}", values)
    history_url = reverse("web:evaluation_history", args=[response.evaluation_id])
    for n in (1, 2, 3):
        assert_text(page(focal, f"{history_url}?page={n}"), history_url, [])
    # Deleting asks with a confirmation that carries the number as text in an attribute, never as code.
    html = focal.get(reverse("web:response_edit", args=[response.pk])).content.decode()
    assert "onsubmit" not in html and "data-confirm=\"Delete recommendation &#x27;+alert(1)+&#x27; and its key actions?\"" in html


# --- the response header, submission and return -------------------------------------------------------


def test_payloads_through_the_response_header_and_the_return_reason(world):
    response = world.draft("Returned with payloads")
    rec = drafting.add_recommendation(Actor(user=world.focal), response, fields={"number": "1", "text": "Act."})
    unit = Unit.objects.create(office=world.office, name="Unit of payloads")
    drafting.add_action(
        Actor(user=world.focal), rec, fields={"number": "1.1", "text": "Do.", "status": "Not Initiated", "deadline": dt.date(2031, 1, 1)},
        units=[unit],
    )
    focal, reviewer = world.clients["focal"], world.clients["reviewer"]
    edit_url = reverse("web:response_edit", args=[response.pk])
    ev_url = response.evaluation.get_absolute_url()
    for i, p in enumerate(PAYLOADS):
        response.refresh_from_db()
        r = focal.post(reverse("web:response_header", args=[response.pk]), {"version": response.version, "overall_response": p.text})
        assert r.status_code == 302
        response.refresh_from_db()
        if "\x00" in p.text:
            assert response.overall_response != p.text  # refused, with a message on the next page
            assert "not saved" in focal.get(edit_url).content.decode()
            continue
        assert response.overall_response == stored_form(p.text), p
        r = focal.post(reverse("web:response_submit", args=[response.pk]), {"version": response.version})
        assert r.status_code == 302
        response.refresh_from_db()
        if not response.overall_response.strip():
            # Nothing written: the submission is refused, and the page says what is missing.
            assert response.status in ("Draft", "Returned")
            assert "Write the overall management response." in focal.get(edit_url).content.decode()
            continue
        r = reviewer.post(reverse("web:response_return", args=[response.pk]), {"version": response.version, "reason": p.text})
        assert r.status_code == 302
        response.refresh_from_db()
        assert response.status == "Returned"
        if stored_form(p.text):
            assert response.return_reason == stored_form(p.text), p
        shown = [response.return_reason, response.overall_response]
        assert_text(page(focal, edit_url), f"{edit_url} ({p})", shown)
        if i % 5 == 0:
            assert_text(page(focal, ev_url), f"{ev_url} ({p})", shown)
            found = visible_page(reviewer, ev_url)
            if found is not None:
                assert_text(found, f"{ev_url} as the reviewer ({p})", [])
            assert_text(page(focal, reverse("web:workspace")), f"workspace ({p})", [])


# --- progress: comment and evidence link ---------------------------------------------------------------


WEB_LINKS = {
    "www.example.org/report.pdf": "https://www.example.org/report.pdf",
    "example.org": "https://example.org",
    "//example.org/evil": "https://example.org/evil",
}


def test_payloads_through_the_progress_form(world):
    ev = make_evaluation(world.office, title="Approved, with progress")
    # Spread over a few key actions: each update page reads its action's whole timeline.
    actions = [make_action(make_recommendation(ev)) for _ in range(8)]
    focal = world.clients["focal"]
    comments, links = [], []
    for i, p in enumerate(PAYLOADS):
        action = actions[i % len(actions)]
        url = reverse("web:action_update", args=[action.pk])
        action.refresh_from_db()
        r = focal.post(url, {"version": action.version, "status": "Initiated", "comment": p.text, "evidence_url": ""})
        if "\x00" in p.text:
            assert refused(r), p
            continue
        assert r.status_code == 302, f"{p}: {r.status_code}"
        comments.append(stored_form(p.text))
        assert ActionUpdate.objects.filter(key_action=action).latest("id").comment == stored_form(p.text)

        action.refresh_from_db()
        r = focal.post(url, {"version": action.version, "status": "Initiated", "comment": "", "evidence_url": p.text})
        link = ActionUpdate.objects.filter(key_action=action).latest("id").evidence_url if r.status_code == 302 else None
        if p.group == "url" and not p.text.strip().lower().startswith(("http://", "https://")) and p.text not in WEB_LINKS:
            # javascript:, data:, vbscript:, file:, mailto:, and links with spaces or control characters
            assert refused(r), f"{p}: a link that is no web address was accepted as {link!r}"
            assert "evidence link" in r.content.decode().lower() or "link" in r.content.decode().lower()
        elif p.text in WEB_LINKS:
            assert link == WEB_LINKS[p.text], p
        if link is not None:
            assert link.startswith(("https://", "http://")), f"{p}: stored {link!r}"
            links.append(link)
    assert len(comments) >= 100 and set(WEB_LINKS.values()) <= set(links)

    for action in actions:
        action_url = reverse("web:action", args=[action.pk])
        mine = [u.comment for u in action.updates.all() if u.comment]
        for who in ("focal", "viewer", "public"):
            assert_text(page(world.clients[who], action_url), f"{action_url} as {who}", mine)
    assert_text(page(world.clients["public"], ev.get_absolute_url()), ev.get_absolute_url(), comments)
    html = world.clients["public"].get(ev.get_absolute_url()).content.decode()
    for link in WEB_LINKS.values():
        assert f'<a href="{link}" rel="noopener noreferrer">' in html


def test_a_link_stored_before_the_rule_is_shown_as_text_not_as_a_link(world):
    ev = make_evaluation(world.office, title="Old links")
    action = make_action(make_recommendation(ev))
    for value in ("javascript:alert(1)", "data:text/html,<script>alert(1)</script>", " javascript:alert(1)", "java\tscript:x", "https:x"):
        ActionUpdate.objects.create(key_action=action, status_after="Initiated", evidence_url=value)
    html = world.clients["public"].get(reverse("web:action", args=[action.pk])).content.decode()
    found = scan(html)
    assert not found.problems
    assert "javascript:alert(1)" in found.text and "<script>" in found.text
    assert 'href="javascript' not in html and 'href="data' not in html and 'href="https:x"' not in html


def test_the_progress_form_asks_for_a_link_as_text_so_the_browser_does_not_refuse_one_without_scheme(world):
    ev = make_evaluation(world.office, title="Form")
    action = make_action(make_recommendation(ev))
    html = world.clients["focal"].get(reverse("web:action_update", args=[action.pk])).content.decode()
    assert 'type="url"' not in html
    assert 'name="evidence_url"' in html and 'inputmode="url"' in html


# --- evaluation creation and sign-in ----------------------------------------------------------------------


def test_payloads_through_the_evaluation_form(world):
    reviewer = world.clients["reviewer"]
    titles = []
    for i, p in enumerate(PAYLOADS, start=1):
        # Titles are unique in a plan: a number after each keeps " =1+1" and "=1+1" apart.
        title = f"{p.text} ({i})"
        data = {"office": world.office.pk, "title": title, "start_year": 2024, "end_year": 2025, "status": "completed"}
        r = reviewer.post(reverse("web:evaluation_create"), data)
        if "\x00" in p.text:
            assert refused(r), p
            continue
        assert r.status_code == 302, f"{p}: {r.status_code}"
        ev = Evaluation.objects.latest("id")
        assert ev.title == stored_form(title)
        titles.append(ev.title)
        assert_text(page(reviewer, ev.get_absolute_url()), f"{ev.get_absolute_url()} ({p})", [ev.title])
    for n in range(1, 5):
        assert_text(page(world.clients["viewer"], f"{reverse('web:evaluations')}?page={n}"), "evaluations", [])
    assert_text(page(world.clients["focal"], reverse("web:workspace")), "workspace", [])
    assert_text(page(world.clients["reviewer"], reverse("web:workspace")), "workspace", [])
    assert_text(page(world.clients["admin"], "/admin/tracking/evaluation/?all="), "admin evaluations", [])


def test_payloads_through_the_sign_in_form(world, settings):
    settings.AXES_ENABLED = False  # a hundred failures from one address are the point here, not a lockout
    client = Client()
    for p in PAYLOADS:
        r = client.post(reverse("login"), {"username": p.text, "password": p.text})
        assert r.status_code == 200, p
        found = scan(r.content.decode())
        assert not found.problems, (p, found.problems)
        assert "did not match" in found.text or "Null characters" in found.text or "at most" in found.text


# --- the GATE importer ------------------------------------------------------------------------------------


def test_payloads_through_the_gate_importer(world):
    doc = payload_document(PAYLOADS, office="Office of payloads")
    result = Importer(Actor.system("import")).import_text(gateformat.render(doc), source="payloads.txt")
    assert result.evaluation_id, result
    ev = Evaluation.objects.get(pk=result.evaluation_id)
    recs = list(Recommendation.objects.filter(evaluation=ev).order_by("position"))
    actions = list(KeyAction.objects.filter(evaluation=ev).order_by("recommendation__position"))
    assert len(recs) == len(PAYLOADS) and len(actions) == len(PAYLOADS)
    # What the page says is what is stored (the reader is exact on an unambiguous page).
    read = gateformat.parse(gateformat.render(doc))
    assert [r.text for r in recs] == [r.text for r in read.recommendations]
    assert [a.comments for a in actions] == [a.comments for a in read.key_actions]
    shown = [r.text for r in recs] + [a.text for a in actions] + [a.comments for a in actions] + [ev.title]
    ev_url = ev.get_absolute_url()
    for who in ("public", "viewer", "focal", "admin"):
        assert_text(page(world.clients[who], ev_url), f"{ev_url} as {who}", shown)
    for a in actions[::5]:
        url = reverse("web:action", args=[a.pk])
        assert_text(page(world.clients["public"], url), url, [a.text, a.comments])
    terms = list(Term.objects.filter(name__startswith="Area "))
    assert terms, "the thematic areas were not made"
    lists = [
        reverse("web:home"), reverse("web:regions"), reverse("web:office", args=[ev.office.slug]),
        reverse("web:evaluations"), reverse("web:actions"), f"{reverse('web:actions')}?evaluation={ev.pk}",
        reverse("web:dashboard"), f"{reverse('web:annual_report')}?year=2025",
    ]
    for who in ("public", "viewer"):
        for url in lists:
            assert_text(page(world.clients[who], url), f"{url} as {who}", [])
    # The dashboard's charts carry the thematic areas as SVG text: escaped there too.
    dashboard = world.clients["viewer"].get(reverse("web:dashboard")).content.decode()
    assert "Area &lt;script&gt;alert(1)&lt;/script&gt;"[:30] in dashboard or any(
        t.name[:30] in scan(dashboard).text for t in terms
    )
    for url in ("/admin/tracking/keyaction/", "/admin/tracking/term/", "/admin/tracking/unit/", "/admin/tracking/office/",
                "/admin/tracking/changerecord/", "/admin/tracking/evaluation/"):
        assert_text(page(world.clients["admin"], url), url, [])
    assert_text(page(world.clients["viewer"], reverse("web:history")), "history", [])


# --- exports ------------------------------------------------------------------------------------------------


def _records_with_payloads(world) -> Evaluation:
    ev = make_evaluation(world.office, title="Exported")
    for i, p in enumerate(PAYLOADS, start=1):
        if "\x00" in p.text:
            continue
        rec = make_recommendation(ev, number=str(i), text=p.text, response_text=p.text)
        action = make_action(rec, text=p.text, responsible=p.text[:500], comments=p.text)
        ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment=p.text, author_name=p.text[:150])
    return ev


FORMULA_START = tuple(tables.FORMULA_STARTS)


def test_csv_exports_hold_the_payloads_as_text(world):
    ev = _records_with_payloads(world)
    client = world.clients["viewer"]
    for kind, column in (("key-actions", "text"), ("updates", "comment"), ("recommendations", "text")):
        r = client.get(reverse("web:export", args=[kind, "csv"]) + f"?evaluation={ev.pk}")
        raw = b"".join(r.streaming_content).decode()
        rows = list(csv.DictReader(io.StringIO(raw)))
        # No cell a spreadsheet would run: anything starting like a formula is escaped with a quote.
        for row in rows:
            for value in row.values():
                assert not value.startswith(FORMULA_START) or tables._PLAIN_NUMBER.fullmatch(value), (kind, value)
        # Read back as the app reads its CSV, every value is the stored one.
        got = sorted(row[column] for row in tables.read_csv(raw))
        want = sorted(p.text for p in PAYLOADS if "\x00" not in p.text)
        assert got == want, kind
        ids = [row["id"] for row in rows]
        assert all(i.isdigit() for i in ids)  # numbers stay numbers


def test_xlsx_exports_hold_the_payloads_as_text_and_never_fail_on_control_characters(world):
    from openpyxl import load_workbook

    ev = _records_with_payloads(world)
    for who in ("viewer", "public"):
        for kind, column in (("key-actions", "Key action"), ("updates", "Comment"), ("recommendations", "Recommendation")):
            r = world.clients[who].get(reverse("web:export", args=[kind, "xlsx"]) + f"?evaluation={ev.pk}")
            assert r.status_code == 200, (who, kind)
            data = b"".join(r.streaming_content)
            wb = load_workbook(io.BytesIO(data))
            ws = wb.worksheets[0]
            header = [c.value for c in ws[1]]
            col = header.index(column)
            values, ids = [], []
            for row in ws.iter_rows(min_row=2):
                cell = row[col]
                assert cell.data_type == "s", (kind, cell.value, cell.data_type)  # text, never a formula ("f")
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    assert cell.quotePrefix, cell.value
                values.append(cell.value or "")
                ids.append(row[0].value)
            assert all(isinstance(i, int) for i in ids)
            if who == "public":
                continue  # the public sees approved responses only: the same rows, checked above
            want = sorted(tables.xlsx_text(p.text) for p in PAYLOADS if "\x00" not in p.text)
            assert sorted(values) == want, kind


def test_xlsx_cells_drop_only_what_xml_cannot_carry():
    assert tables.xlsx_text("a\x1bb\x00c\x07d") == "abcd"
    assert tables.xlsx_text("tab\tline\nreturn\r\nx\ry") == "tab\tline\nreturn\nx\ny"
    assert tables.xlsx_text("émoji 🙂 \u202e") == "émoji 🙂 \u202e"
    assert len(tables.xlsx_text("x" * 40000)) == tables.XLSX_CELL_LIMIT


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"), ("＋1", "'＋1"), ("－1", "'－1"), ("＠x", "'＠x"),
        ("-5", "-5"), ("+3.25", "+3.25"), (-5, -5), (2.5, 2.5), ("plain", "plain"), ("'=x", "''=x"), ("'plain", "'plain"),
    ],
)
def test_formula_escaping(value, escaped):
    assert tables.escape_formula(value) == escaped
    if isinstance(value, str):
        assert tables.unescape_formula(escaped) == value


def test_the_history_export_escapes_formulas(world):
    ev = _records_with_payloads(world)
    drafting.create_evaluation(Actor(user=world.reviewer), office=world.office, start_year=2024, end_year=2025, title="=1+1 ＝2")
    r = world.clients["viewer"].get(reverse("web:history") + "?format=csv")
    raw = b"".join(r.streaming_content).decode()
    for row in csv.reader(io.StringIO(raw)):
        for value in row:
            assert not value.startswith(FORMULA_START) or tables._PLAIN_NUMBER.fullmatch(value), value
    assert ev.pk


def test_unit_names_from_data_are_text_in_the_admin(world):
    for p in PAYLOADS[:40]:
        Unit.objects.create(name=p.text[:200].replace("\x00", ""), office=world.office)
    assert_text(page(world.clients["admin"], "/admin/tracking/unit/?all="), "admin units", [])


def test_the_pdf_of_an_evaluation_shows_payloads_as_text(world):
    """WeasyPrint lays the page out from HTML: escaped values come out as text, markup intact."""
    import pypdfium2 as pdfium

    groups = ("script", "attribute", "svg-mathml", "template", "formula", "unicode")
    chosen = [p for g in groups for p in [q for q in PAYLOADS if q.group == g][:12]]
    doc = payload_document(chosen, office="Office of payloads")
    result = Importer(Actor.system("import")).import_text(gateformat.render(doc), source="payloads.txt")
    r = world.clients["public"].get(reverse("web:evaluation_export", args=[result.evaluation_id, "pdf"]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(io.BytesIO(r.content))
    text = "".join(page.get_textpage().get_text_range() for page in pdf)
    flat = " ".join(text.split())
    # Every recommendation is there, in order, and its markup-looking text printed as written.
    for i in range(1, len(chosen) + 1):
        assert f"Recommendation {i}" in flat
    for literal in ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}", "＝1+1", "<svg><script>alert(1)</script></svg>"):
        assert literal in flat, literal
