"""Evaluation documents' text in search, on whichever database the suite runs (SQLite; PostgreSQL with DATABASE_URL).

Documents are indexed by database triggers like every other kind: uploaded, replaced, removed,
their flag changed, their evaluation's reading rules changed, the results follow at once.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.urls import reverse

from search import engine, highlight
from search.schema import DOCUMENT_TEXT_LIMIT
from tests.tracking.factories import make_docx, make_evaluation, make_office, make_pdf
from tracking.actor import Actor
from tracking.models import EvaluationDocument, ManagementResponse, Role, RoleAssignment
from tracking.services import documents

pytestmark = pytest.mark.django_db
User = get_user_model()
ANON = AnonymousUser()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def eo():
    user = User.objects.create(username="eo-search-docs")
    RoleAssignment.objects.create(user=user, role=Role.EVALUATION_OFFICE)
    return Actor(user=user)


def viewer():
    user = User.objects.create(username=f"viewer{User.objects.count()}")
    RoleAssignment.objects.create(user=user, role=Role.VIEWER)
    return user


def attach(actor, evaluation, name, data, **extra):
    args = {"kind": "report", "title": "", "language": "en", "internal": False, "file_name": name, "data": data, **extra}
    return documents.add_document(actor, evaluation, **args)


def document_hits(user, text, **filters):
    results = engine.search(user, text, engine.Filters(**filters))
    return [h for g in results.groups if g.kind.name == "document" for h in g.hits]


def test_an_uploaded_reports_text_is_found_grouped_highlighted_and_linked_to_its_evaluation_page(client, eo):
    ev = make_evaluation(make_office("Office Docs"), title="Evaluation of the fisheries programme", status="Approved")
    doc = attach(eo, ev, "report.pdf", make_pdf("The mangrove restoration was cost-effective.", "Annex on quinoa."), title="Final report")
    [hit] = document_hits(ANON, "mangrove restoration")
    assert hit.object_id == doc.pk and hit.exact
    assert hit.url == reverse("web:evaluation", args=[ev.pk]) + f"#document-{doc.pk}"
    assert "\ue000mangrove\ue001" in hit.snippet.lower()
    page = client.get(reverse("web:search"), {"q": "mangrove"}).content.decode()
    assert '<h2 id="hits-document">Documents' in page and "Final report" in page
    assert "<mark>mangrove</mark>" in page.lower()
    # The link's target exists on the evaluation page.
    assert f'id="document-{doc.pk}"' in client.get(reverse("web:evaluation", args=[ev.pk])).content.decode()
    # A Word document's text, and the title, are found too; filters by office and year apply to documents.
    word = attach(eo, ev, "tor.docx", make_docx("Terms about the sorghum value chain."), title="Terms of reference", kind="tor")
    assert [h.object_id for h in document_hits(ANON, "sorghum")] == [word.pk]
    assert [h.object_id for h in document_hits(ANON, "terms of reference")] == [word.pk]
    assert [h.object_id for h in document_hits(ANON, "sorghum", office=ev.office_id, year=ev.year)] == [word.pk]
    assert document_hits(ANON, "sorghum", year=ev.year + 1) == []
    # Key-action filters do not apply to documents: choosing one leaves them out.
    assert document_hits(ANON, "sorghum", status="Completed") == []


def test_replacing_and_removing_a_document_show_at_once(eo):
    ev = make_evaluation(status="Approved")
    doc = attach(eo, ev, "report.pdf", make_pdf("Findings on the cocoa cooperative."))
    assert [h.object_id for h in document_hits(ANON, "cocoa")] == [doc.pk]
    # Replaced (a new file's text: as the admin, or a replacing service, saves it).
    doc.text = "Findings on the cashew cooperative."
    doc.save()
    assert document_hits(ANON, "cocoa") == []
    assert [h.object_id for h in document_hits(ANON, "cashew")] == [doc.pk]
    documents.delete_document(eo, doc)
    assert document_hits(ANON, "cashew") == []
    assert engine.search(ANON, "cashew").total == 0


def test_the_public_finds_only_public_documents_of_evaluations_it_may_see_and_snippets_never_leak(client, eo):
    office = make_office("Office R")
    approved = make_evaluation(office, title="Approved one", status="Approved")
    draft = make_evaluation(office, title="Draft one", status="Draft")
    public = attach(eo, approved, "public.pdf", make_pdf("Public text about the baobab nursery."))
    internal = attach(eo, approved, "internal.pdf", make_pdf("Internal note: the baobab nursery budget of Ms Okonkwo."), internal=True)
    drafted = attach(eo, draft, "draft.pdf", make_pdf("Draft text about the baobab nursery."))
    assert [h.object_id for h in document_hits(ANON, "baobab")] == [public.pk]
    assert engine.search(ANON, "baobab").counts == {"document": 1}
    assert engine.search(ANON, "Okonkwo").total == 0
    # Not even as a count per value: nothing internal is counted for the public.
    assert {v.count for v in engine.search(ANON, "baobab").facets["office"]} == {1}
    page = client.get(reverse("web:search"), {"q": "baobab nursery"}).content.decode()
    assert "Internal note" not in page and "Okonkwo" not in page and "Draft text" not in page
    # People with a role read internal documents (and, a viewer, every draft).
    assert {h.object_id for h in document_hits(viewer(), "baobab")} == {public.pk, internal.pk, drafted.pk}
    # The flag changed: the results follow at once.
    EvaluationDocument.objects.filter(pk=internal.pk).update(internal=False)
    assert {h.object_id for h in document_hits(ANON, "baobab")} == {public.pk, internal.pk}
    public.internal = True
    public.save()
    assert {h.object_id for h in document_hits(ANON, "baobab")} == {internal.pk}
    # The evaluation's reading rules changed (its management response back to a draft): gone for the public.
    ManagementResponse.objects.filter(evaluation=approved).update(status="Draft")
    assert document_hits(ANON, "baobab") == []
    assert engine.search(ANON, "baobab").total == 0


def test_a_long_reports_text_is_indexed_up_to_the_limit(eo):
    ev = make_evaluation(status="Approved")
    # Many distinct words (the worst case for PostgreSQL's 1 MB tsvector), then a word past the limit.
    words = " ".join(f"w{i:06d}" for i in range(DOCUMENT_TEXT_LIMIT // 8 + 1000))
    doc = EvaluationDocument.objects.create(
        evaluation=ev, title="Long report", url="https://example.org/long", text=f"aardvark {words} zebrafish"
    )
    assert [h.object_id for h in document_hits(ANON, "aardvark")] == [doc.pk]
    assert document_hits(ANON, "zebrafish") == []
    assert "aardvark w000000" in highlight.plain(document_hits(ANON, "aardvark")[0].snippet).lower()


def test_the_index_holds_documents_after_a_rebuild(eo):
    from django.core.management import call_command

    ev = make_evaluation(status="Approved")
    doc = attach(eo, ev, "report.pdf", make_pdf("Rebuild the jacaranda index."))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_entry")
    assert document_hits(ANON, "jacaranda") == []
    call_command("search_index", "--rebuild", verbosity=0)
    assert [h.object_id for h in document_hits(ANON, "jacaranda")] == [doc.pk]
