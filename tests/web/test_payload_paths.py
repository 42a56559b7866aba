"""The payload corpus (tests/data/payloads.txt) through the other doors: query strings, uploads, the
importer and the services, with the data each database ends with checked against the rules.

The form half is tests/web/test_payloads.py. Here:

- every payload as the value of every text filter of every list, figure, report, search and
  export (200, shown as text), and of a number filter (400 naming it; on a third of the routes in
  turn); never a 500;
- every payload as an evidence file's name and content: stored under a safe name inside the
  evidence folder, or refused with a message; downloaded back byte for byte;
- every payload, raw (NUL, line breaks, 1 MB), through the importer and the services: what is
  stored is exactly what `tracking.text`'s rules give, computed here in Python from the input. The
  same test passes on SQLite and on PostgreSQL, so both end with the same data (a digest of it is
  compared too: `expected_digest`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

import gateformat
from tests.payloads import PAYLOADS, one_line, payload_document, scan
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ActionUpdate, Evaluation, KeyAction, Recommendation, Role, RoleAssignment
from tracking.services import drafting
from tracking.services.importer import CREATED, FAILED, Importer

pytestmark = pytest.mark.django_db
User = get_user_model()

TEXT_FILTERS = ("q", "office_type", "category", "status", "response_status")
NUMBER_FILTERS = ("region", "office", "year", "unit", "term", "evaluation", "thematic_area")
ROUTES = ("/evaluations/", "/actions/", "/dashboard/", "/reports/annual/", "/export/key-actions.csv",
          "/export/evaluations.json", "/search/", "/history/", "/recurring/")
TALLY: dict[str, int] = {}


def count(path: str, n: int = 1) -> None:
    TALLY[path] = TALLY.get(path, 0) + n


def content_of(response) -> str:
    data = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return data.decode("utf-8", "replace")


def _is_number(text: str) -> bool:
    t = text.strip()
    return t == "" or (t.isascii() and t.isdecimal() and 0 < int(t) < 2**63)


@pytest.fixture
def admin_client():
    user = User.objects.create(username="admin-paths", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_payloads_through_every_query_string(admin_client):
    ev = make_evaluation(make_office("Office of queries"), title="Queried")
    make_action(make_recommendation(ev))
    public = Client()
    for i, p in enumerate(PAYLOADS):
        value = quote(p.text, safe="")
        for route in ROUTES:
            client = admin_client if i % 2 or route == "/history/" else public
            # Every text filter at once: read as text, shown as text.
            query = "&".join(f"{name}={value}" for name in TEXT_FILTERS)
            if route == "/history/":
                query = f"user={value}&action={value}"
            r = client.get(f"{route}?{query}")
            count("query strings")
            assert r.status_code == 200, f"GET {route} with text filters = {p}: {r.status_code}"
            if "html" in r["Content-Type"]:
                found = scan(content_of(r))
                assert not found.problems, (route, p, found.problems[:3])
            # One number filter in turn: a number, or refused with 400 naming it.
            if route == "/history/" or (i + ROUTES.index(route)) % 3:
                continue  # a number filter on a third of the routes in turn (each route, ~60 payloads)
            numbers = {"/search/": ("region", "office", "year", "thematic_area"), "/recurring/": ("office", "year_from")}
            names = numbers.get(route, NUMBER_FILTERS)
            name = names[i % len(names)]
            r = client.get(f"{route}?{name}={value}")
            count("query strings")
            if _is_number(p.text) or (name == "year" and p.text.strip().isdecimal()):
                assert r.status_code in (200, 400), (route, p)
            else:
                assert r.status_code == 400, f"GET {route}?{name}={p}: {r.status_code}"
                assert f"“{name}”" in content_of(r)
                assert not scan(content_of(r)).problems
    assert TALLY["query strings"] >= 100 * len(ROUTES)


def test_payloads_as_evidence_file_names_and_contents(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    office = make_office("Office of uploads")
    focal = User.objects.create(username="focal-uploads")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    client = Client()
    client.force_login(focal)
    action = make_action(make_recommendation(make_evaluation(office, title="Uploads")))
    stored = refused = 0
    for p in PAYLOADS:
        name = p.text.replace("\x00", "")[:200] + ".pdf"
        body = p.text.encode("utf-8", "surrogatepass") * 3
        action.refresh_from_db()
        upload = SimpleUploadedFile(name, body, content_type="application/pdf")
        r = client.post(reverse("web:action_update", args=[action.pk]),
                        {"version": action.version, "status": "Initiated", "comment": "", "evidence_url": "",
                         "evidence_file": upload})
        count("uploads")
        assert r.status_code in (302, 400), f"{p}: {r.status_code}"
        if r.status_code == 400:
            assert 'role="alert"' in content_of(r) and not scan(content_of(r)).problems
            refused += 1
            continue
        update = ActionUpdate.objects.filter(key_action=action).latest("id")
        path = Path(update.evidence_file.path).resolve()
        # Inside the evidence folder, whatever the name said ("../../etc/passwd", "C:\\x", NUL ...).
        assert path.is_relative_to((tmp_path / "evidence").resolve()), (p, path)
        assert ".." not in update.evidence_file.name and "\x00" not in update.evidence_file.name
        assert len(update.evidence_file.name) <= ActionUpdate._meta.get_field("evidence_file").max_length
        download = client.get(reverse("web:evidence", args=[update.pk]))
        assert download.status_code == 200 and b"".join(download.streaming_content) == body, p
        stored += 1
    assert stored >= 100, (stored, refused)


# --- the importer and the services: the data each database ends with -------------------------------------


def importer() -> Importer:
    return Importer(Actor.system("import"))


def _rules_for_import(text: str) -> str:
    """What the importer stores of a value read from a page: NUL and lone surrogates removed."""
    return text.replace("\x00", "")


def test_raw_payloads_through_the_importer_store_what_the_rules_say(admin_client):
    # Raw: one_line() keeps the page's line structure; NUL is kept in the page this time.
    single = [one_line(p.text) if "\x00" not in p.text else one_line(p.text.replace("\x00", "")) + "\x00x" for p in PAYLOADS]
    doc = payload_document(PAYLOADS, office="Office of raw payloads")
    for rec, text in zip(doc.recommendations, single):
        rec.text = f"Recommendation text {text}"
    page = gateformat.render(doc)
    read = gateformat.parse(page)
    result = importer().import_text(page, source="raw-payloads.txt")
    count("importer", len(PAYLOADS))
    assert result.outcome == CREATED, result.error
    ev = Evaluation.objects.get(pk=result.evaluation_id)
    stored = list(Recommendation.objects.filter(evaluation=ev).order_by("position").values_list("text", flat=True))
    assert stored == [_rules_for_import(r.text) for r in read.recommendations]
    assert sum("NUL" in w for w in result.warnings) == sum("\x00" in p.text for p in PAYLOADS)
    assert_text_page(admin_client, ev)


def assert_text_page(client, ev) -> None:
    found = scan(client.get(ev.get_absolute_url()).content.decode())
    assert not found.problems, found.problems[:3]


def test_one_megabyte_fields_through_the_importer():
    big = "A 1 MB field. " * 75_000
    doc = payload_document(PAYLOADS[:25], office="Office of big fields")
    doc.recommendations[0].text = big
    doc.recommendations[0].key_actions[0].comments = big[:500_000]
    result = importer().import_text(gateformat.render(doc), source="big.txt")
    count("importer", 2)
    assert result.outcome == CREATED, result.error
    rec = Recommendation.objects.get(evaluation_id=result.evaluation_id, position=1)
    assert len(rec.text) > 1_000_000 and rec.text == gateformat.parse(gateformat.render(doc)).recommendations[0].text
    # A title of 1 MB is refused, naming it; nothing of that document is written.
    doc.evaluation.title = big
    doc.recommendations[0].text = doc.recommendations[0].key_actions[0].comments = "Short."
    before = Evaluation.objects.count()
    result = importer().import_text(gateformat.render(doc), source="big-title.txt")
    count("importer")
    assert result.outcome == FAILED and "at most 500 fit" in result.error and result.error.startswith("the evaluation title is 1,0")
    assert Evaluation.objects.count() == before


def _dump() -> str:
    """Every stored text of the payload records, in a fixed order: what 'the same data' means here."""
    rows = []
    for rec in Recommendation.objects.order_by("evaluation__title", "position"):
        rows.append(("R", rec.evaluation.title, rec.number, rec.text, rec.response_text, rec.description))
    for a in KeyAction.objects.order_by("evaluation__title", "recommendation__position", "position"):
        rows.append(("A", a.number, a.text, a.responsible, a.comments))
    return repr(rows)


def test_payloads_through_the_services_and_the_importer_give_the_data_the_rules_say():
    """Stored exactly, or refused with a message: the expected dump is computed from the input alone."""
    actor = Actor.system("command")
    office = make_office("Office of services")
    ev = drafting.create_evaluation(actor, office=office, start_year=2024, end_year=2025, title="Services payloads")
    expected = []
    refusals = 0
    for i, p in enumerate(PAYLOADS, start=1):
        fields = {"number": str(i), "text": p.text, "response_text": p.text, "description": p.text}
        count("services")
        try:
            rec = drafting.add_recommendation(actor, ev.management_response, fields=fields)
        except ValidationError as exc:
            assert "\x00" in p.text or "\ud800" in p.text or len(p.text) > 10**7, p
            assert "NUL" in str(exc.message_dict)
            refusals += 1
            continue
        ev.management_response.refresh_from_db()
        expected.append(("R", ev.title, str(i), p.text, p.text, p.text))
        action_text = p.text.strip() or "(blank)"
        drafting.add_action(actor, rec, fields={"number": f"{i}.1", "text": action_text, "comments": p.text})
        ev.management_response.refresh_from_db()
    assert refusals == sum("\x00" in p.text for p in PAYLOADS)
    actions = [
        ("A", f"{i}.1", p.text.strip() or "(blank)", "", p.text.strip())
        for i, p in enumerate(PAYLOADS, start=1) if "\x00" not in p.text
    ]
    want = repr(expected + actions)
    got = _dump()
    assert got == want
    # The same digest on SQLite and PostgreSQL: both databases end with the same data (pinned;
    # a change to tests/data/payloads.txt changes it: print it with `print(digest)` and pin the new one).
    digest = hashlib.sha256(got.encode("utf-8", "surrogatepass")).hexdigest()
    assert digest == SERVICES_DIGEST, digest


SERVICES_DIGEST = "0269dd9eb65cb23c7454ce77554ab8d7e5b04c67978a57bd0fbcdf0cacfd1893"
