"""Full-text search, on whichever database the suite runs (SQLite; PostgreSQL with DATABASE_URL).

The index is kept by database triggers: each test changes records the way
the app does (services, the importer's bulk inserts, plain saves as the
admin makes them) and searches at once, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import gateformat
from jobs import schedule
from jobs.tasks import count_common_words
from search import engine, schema
from search.models import CommonWord
from tests.conftest import DEMO, sample_text
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import (
    ActionUpdate,
    KeyAction,
    Recommendation,
    RecommendationTerm,
    Role,
    RoleAssignment,
    Term,
)
from tracking.services import drafting
from tracking.services.importer import Importer
from tracking.services.progress import record_progress

pytestmark = pytest.mark.django_db
User = get_user_model()
ANON = AnonymousUser()


def viewer():
    user = User.objects.create(username=f"viewer{User.objects.count()}")
    RoleAssignment.objects.create(user=user, role=Role.VIEWER)
    return user


def found(user, text, **filters) -> dict[str, list[int]]:
    """kind -> ids of the records found (first page), in rank order."""
    results = engine.search(user, text, engine.Filters(**filters))
    return {g.kind.name: [h.object_id for h in g.hits] for g in results.groups}


def ids(user, text, kind, **filters) -> list[int]:
    return found(user, text, **filters).get(kind, [])


# --- what the search box understands -----------------------------------------------------------


def test_exact_phrase_ranks_first():
    ev = make_evaluation()
    # The scattered one says both words more often: relevance alone could put it first.
    scattered = make_recommendation(
        ev, text="Due attention to risks. Diligence in reporting, diligence in partnering; payments due on time."
    )
    phrase = make_recommendation(ev, text="Apply due diligence to corporate partners.")
    assert ids(ANON, "due diligence", "recommendation") == [phrase.pk, scattered.pk]
    # Words in any order still match.
    assert set(ids(ANON, "diligence due", "recommendation")) == {phrase.pk, scattered.pk}
    # Quoted: the phrase only.
    assert ids(ANON, '"due diligence"', "recommendation") == [phrase.pk]


def test_accents_and_case_fold_and_prefixes_match():
    ev = make_evaluation()
    es = make_recommendation(ev, text="Fortalecer la evaluación de los programas para las mujeres rurales.")
    fr = make_recommendation(ev, text="Renforcer le suivi et l'évaluation des partenariats avec la société civile.")
    en = make_recommendation(ev, text="Develop a resource mobilization strategy for sustainability.")
    assert ids(ANON, "evaluacion", "recommendation") == [es.pk]
    assert ids(ANON, "EVALUACIÓN", "recommendation") == [es.pk]
    assert ids(ANON, "societe civile", "recommendation") == [fr.pk]
    assert ids(ANON, "l'evaluation", "recommendation") == [fr.pk]
    # Prefixes match the words as written, not only their stems ("sustainability" stems to "sustain").
    assert ids(ANON, "sustainab*", "recommendation") == [en.pk]
    assert ids(ANON, "mobiliz* strat*", "recommendation") == [en.pk]
    assert ids(ANON, "resource mobiliz*", "recommendation") == [en.pk]
    assert ids(ANON, "sustainab", "recommendation") == []  # a prefix is asked for with *


@pytest.mark.parametrize("expanded", [engine.EXPANDED, 1])
def test_a_prefix_finds_every_word_it_starts_whether_looked_up_as_those_words_or_as_a_prefix(monkeypatch, expanded):
    # SQLite looks a prefix up as the index's words that start so, up to EXPANDED of them; beyond, as a prefix.
    monkeypatch.setattr(engine, "EXPANDED", expanded)
    ev = make_evaluation()
    recs = [
        make_recommendation(ev, text="Mobilize the district councils."),
        make_recommendation(ev, text="Une stratégie de mobilisation des ressources."),
        make_recommendation(ev, text="A resource MOBILIZATION plan."),
    ]
    make_recommendation(ev, text="Immobile assets are out of scope.")  # the prefix within a word: not found
    assert sorted(ids(ANON, "mobili*", "recommendation")) == [r.pk for r in recs]
    assert sorted(ids(ANON, "MÓBILI*", "recommendation")) == [r.pk for r in recs]  # folded as the index folds
    assert ids(ANON, "stratég* mobili*", "recommendation") == [recs[1].pk]
    assert ids(ANON, "mo*", "recommendation") != []  # two letters: always a prefix
    assert ids(ANON, "mobilq*", "recommendation") == []


def test_stemming_finds_other_forms_and_no_stop_word_list_drops_words():
    ev = make_evaluation()
    en = make_recommendation(ev, text="Strengthen partnerships with civil society organizations.")
    es = make_recommendation(ev, text="Acciones para las mujeres y con los gobiernos locales.")
    assert ids(ANON, "partnership organization", "recommendation") == [en.pk]
    # Words every stop-word list drops (English "with", Spanish "para", "con", "los") are kept.
    assert ids(ANON, '"para las mujeres y con los"', "recommendation") == [es.pk]
    assert ids(ANON, '"partnerships with civil"', "recommendation") == [en.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="per-language stemmers are PostgreSQL's (SQLite has Porter only)")
def test_french_and_spanish_records_are_stemmed_in_their_language():
    ev = make_evaluation()
    fr = make_recommendation(ev, text="Les bureaux de pays doivent renforcer les capacités nationales et leurs partenariats.")
    es = make_recommendation(ev, text="Las oficinas deben fortalecer las capacidades nacionales y sus alianzas estratégicas.")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id % {schema.KIND_SPAN}, language::text FROM search_entry WHERE kind = 3")
        languages = dict(cursor.fetchall())
    assert languages == {fr.pk: "ft_french", es.pk: "ft_spanish"}
    assert ids(ANON, "capacité nationale", "recommendation") == [fr.pk]  # singular finds plural, French rules
    assert ids(ANON, "alianza estrategica", "recommendation") == [es.pk]


HOSTILE = [
    '"', '""', '"unbalanced', 'unbalanced"', "(", ")", "((a)", "a AND", "OR", "NOT", "a NOT b", "-a", "a -", "+",
    "NEAR(a b)", "NEAR(a b, 2)", "a NEAR/3 b", "title:foo", "body:x", "{title body}: x", "^foo", "a:", ":",
    "*", "**", "a*b", "*a", "a**", '"*"', "'", "''", "a'b", "\\", "\\x00", "%", "%s", "%%", "_", "a_b", "?", ";",
    "a & b", "a | b", "!a", "a <-> b", "a:*", "'a':*", "a:* & b", "<script>alert(1)</script>", "DROP TABLE x;--",
    "x\x00y", "\x00", "a\ud800b", "\udfff", "\u200f\u202eabc\u202c", "\u200b", "\ue000mark\ue001", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ﬁnance",
    "évaluation" * 1000, "a " * 5000, "x" * 10_000, "\t\n\r", " ", "", "日本語の評価", "تقييم", "🙂", "a-b-c-d-e",
    "2018-2021", "http://example.org/a?b=c", "e-mail@example.org", "1.5", "-1", "0x10", "COVID-19", "l'évaluation",
]


@pytest.mark.parametrize("user", ["anonymous", "viewer"])
def test_hostile_queries_are_read_as_text_and_never_fail(client, user):
    ev = make_evaluation()
    make_action(make_recommendation(ev, text="Title foo and body x, a and b."), text="COVID-19 response 2018-2021.")
    if user == "viewer":
        client.force_login(viewer())
    for q in HOSTILE:
        # As a browser would send it (lone surrogates as the bytes they would be).
        response = client.get(reverse("web:search") + "?q=" + quote(q.encode("utf-8", "surrogatepass")))
        assert response.status_code == 200, q
        engine.search(ANON, q)  # and the engine on its own
    for q in ("title:foo", "2018-2021", "COVID-19", '"body x"'):
        assert engine.search(ANON, q).total >= 1, q


def test_hostile_filters_are_ignored_or_refused():
    from tracking.params import BadParameter

    make_recommendation(text="Something to find.")
    for params in ({"kind": "nothing"}, {"page": "0"}, {"page": "abc"}, {"status": "x" * 500}, {"category": "\x00"}):
        filters = engine.Filters.from_query(params)
        engine.search(ANON, "something", filters)
    # A number filter that is no number is refused (400 on the page), naming it (tracking.params).
    for params in ({"office": "1; DROP"}, {"year": "-1"}, {"year": "99999999999999999999"}, {"thematic_area": "\x00"}):
        with pytest.raises(BadParameter):
            engine.Filters.from_query(params)


# --- kept in step with every change -------------------------------------------------------------


def test_an_edit_or_a_deletion_shows_at_once():
    ev = make_evaluation()
    rec = make_recommendation(ev, text="Publish a statement of risk appetite.")
    action = make_action(rec, text="Draft the zanzibar roadmap.")
    assert ids(ANON, "zanzibar", "action") == [action.pk]
    action.text = "Draft the kilimanjaro roadmap."
    action.save()  # as the admin or any plain save does
    assert ids(ANON, "zanzibar", "action") == []
    assert ids(ANON, "kilimanjaro", "action") == [action.pk]
    Recommendation.objects.filter(pk=rec.pk).update(text="Publish a statement of risk tolerance.")  # a bulk UPDATE
    assert ids(ANON, "appetite", "recommendation") == []
    assert ids(ANON, "tolerance", "recommendation") == [rec.pk]
    ev.delete()  # the cascade takes the recommendation and its actions, and their index rows
    assert engine.search(viewer(), "kilimanjaro").total == 0
    assert engine.search(viewer(), "tolerance").total == 0



def test_a_key_action_moved_to_another_evaluation_is_filed_under_it_with_its_progress_updates():
    old_office, new_office = make_office(), make_office()
    action = make_action(make_recommendation(make_evaluation(old_office, year=2021)), text="Fence the ocelot enclosure.")
    update = ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment="Ordered the ocelot fencing.")
    assert found(ANON, "ocelot", office=old_office.pk, year=2021) == {"action": [action.pk], "update": [update.pk]}
    draft = make_evaluation(new_office, status="Draft", year=2023)
    target = make_recommendation(make_evaluation(new_office, year=2023))
    KeyAction.objects.filter(pk=action.pk).update(evaluation=target.evaluation, recommendation=target)  # as the admin may
    assert found(ANON, "ocelot", office=old_office.pk) == {}
    assert found(ANON, "ocelot", year=2021) == {}
    assert set(found(ANON, "ocelot", office=new_office.pk, year=2023)) == {"action", "update"}
    assert set(found(ANON, "ocelot", category="Accepted")) == {"action", "update"}  # the new recommendation's
    # Moved into a draft: the public no longer finds it, a reader of drafts does.
    KeyAction.objects.filter(pk=action.pk).update(evaluation=draft, recommendation=make_recommendation(draft))
    assert found(ANON, "ocelot") == {}
    assert set(found(viewer(), "ocelot", year=2023)) == {"action", "update"}

def test_drafting_services_keep_the_index_in_step():
    office = make_office()
    focal = User.objects.create(username="focal")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    actor = Actor(user=focal)
    ev = make_evaluation(office, status="Draft")
    rec = drafting.add_recommendation(actor, ev.management_response, fields={"number": "1", "text": "Map the quokka habitats."})
    action = drafting.add_action(actor, rec, fields={"number": "1.1", "text": "Count the wombats.", "responsible": "Fauna Unit"})
    internal = viewer()
    assert ids(internal, "quokka", "recommendation") == [rec.pk]
    assert ids(internal, "fauna", "action") == [action.pk]  # the responsible unit as written
    drafting.update_action(actor, action, version=action.version, fields={"number": "1.1", "text": "Count the numbats."})
    assert ids(internal, "wombats", "action") == []
    assert ids(internal, "numbats", "action") == [action.pk]
    action.refresh_from_db()
    drafting.delete_action(actor, action, version=action.version)
    assert engine.search(internal, "numbats").total == 0
    rec.refresh_from_db()
    drafting.delete_recommendation(actor, rec, version=rec.version)
    assert engine.search(internal, "quokka").total == 0


def test_progress_comments_are_found_and_link_to_the_update_on_its_timeline(client):
    office = make_office()
    focal = User.objects.create(username="focal")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    action = make_action(make_recommendation(make_evaluation(office)), status="Initiated")
    update = record_progress(
        Actor(user=focal), action, version=action.version, status="Completed", comment="Signed the okapi agreement.", evidence_url="https://example.org/proof.pdf"
    )
    results = engine.search(ANON, "okapi")
    (group,) = [g for g in results.groups if g.kind.name == "update"]
    assert [h.object_id for h in group.hits] == [update.pk]
    assert group.hits[0].url == reverse("web:action", args=[action.pk]) + f"#update-{update.pk}"
    page = client.get(reverse("web:action", args=[action.pk])).content.decode()
    assert f'id="update-{update.pk}"' in page


def test_the_importers_bulk_inserts_are_indexed_and_reimports_follow():
    Importer(Actor.system("import")).import_documents([gateformat.parse(sample_text("000_6da9e6de966dff24"), source="000.txt")])
    hits = ids(ANON, "Salesforce", "action")
    assert len(hits) == 4  # in key actions' comments, as the page gives them
    assert KeyAction.objects.filter(pk__in=hits, comments__contains="Salesforce").count() == 4
    assert len(ids(ANON, "risk appetite", "action")) == 1
    # The same page again with a changed comment: the update reaches the index.
    text = sample_text("000_6da9e6de966dff24").replace("in partnership with Salesforce.", "in partnership with Quetzalcoatl.", 1)
    Importer(Actor.system("import")).import_text(text, source="000.txt")
    assert len(ids(ANON, "Quetzalcoatl", "action")) == 1
    assert len(ids(ANON, "Salesforce", "action")) == 3


# --- reading rules -----------------------------------------------------------------------------


def test_the_public_never_finds_a_draft_or_an_internal_name(client):
    office = make_office()
    draft = make_evaluation(office, title="Evaluation of the pangolin programme", status="Draft")
    rec = make_recommendation(draft, text="Protect the pangolin.", response_text="Pangolin response.")
    make_action(rec, text="Pangolin census.", comments="Pangolin comment.")
    approved = make_evaluation(office, title="Public evaluation")
    action = make_action(make_recommendation(approved, text="Public recommendation."), status="Initiated")
    ActionUpdate.objects.create(
        key_action=action, status_before="Initiated", status_after="Initiated", comment="Reviewed with partners.",
        author_name="Bartholomew Snodgrass", evidence_url="https://intranet.example.org/secret-memo",
    )
    public = engine.search(ANON, "pangolin")
    assert public.total == 0 and public.groups == [] and all(not v for v in public.facets.values())
    assert engine.search(viewer(), "pangolin").counts == {"evaluation": 1, "recommendation": 1, "action": 1}
    # Who reported, and where the evidence lies, are not searchable by anyone.
    for user in (ANON, viewer()):
        assert engine.search(user, "Snodgrass").total == 0
        assert engine.search(user, "secret memo").total == 0
    assert engine.search(ANON, "partners").counts == {"update": 1}
    # And the page says so too.
    page = client.get(reverse("web:search"), {"q": "pangolin"}).content.decode()
    assert "Nothing found for" in page
    for text in ("Protect the pangolin", "Pangolin response", "Pangolin census", "Pangolin comment", "pangolin programme"):
        assert text not in page


def test_snippets_escape_the_records_text_and_only_highlights_are_markup(client):
    ev = make_evaluation()
    # Markup, and the very characters our highlights are made of.
    make_recommendation(ev, text='Train staff <script>alert("x")</script> on \ue001 </mark><b> budgeting \ue000 & planning.')
    response = client.get(reverse("web:search"), {"q": "budgeting"})
    html = response.content.decode()
    snippet = html.split('<p class="snippet">', 1)[1].split("</p>", 1)[0]
    assert "<script>alert" not in html and "<b>" not in html
    # SQLite gives the text as it is (escaped here); PostgreSQL's headline leaves out what looks like tags.
    assert "alert(&quot;x&quot;)" in snippet
    if connection.vendor == "sqlite":
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in snippet and "&lt;/mark&gt;&lt;b&gt;" in snippet
    assert snippet.count("<mark>") == snippet.count("</mark>") >= 1
    assert "<mark>budgeting</mark>" in snippet


# --- filters and counts --------------------------------------------------------------------------


def test_filters_count_per_value_in_the_database_and_narrow_the_results():
    north, south = make_office("North office", region="North"), make_office("South office", region="South")
    theme = Term.objects.create(kind=Term.Kind.THEMATIC_AREA, name="Governance")
    a = make_recommendation(make_evaluation(north, year=2020), text="Improve the sorghum supply.", category="Accepted")
    b = make_recommendation(make_evaluation(south, year=2022), text="Sorghum storage.", category="Rejected")
    RecommendationTerm.objects.create(recommendation=a, term=theme)
    done = make_action(b, text="Build sorghum silos.", status="Completed")
    make_action(a, text="Train sorghum farmers.", status="Initiated")
    results = engine.search(ANON, "sorghum")
    counts = {f: {v.label: v.count for v in values} for f, values in results.facets.items()}
    assert results.counts == {"recommendation": 2, "action": 2}
    assert counts["office"] == {"North office": 2, "South office": 2}
    assert counts["region"] == {"North": 2, "South": 2}
    assert counts["year"] == {"2020": 2, "2022": 2}
    assert counts["status"] == {"Completed": 1, "Initiated": 1}  # key actions only
    assert counts["category"] == {"Accepted": 2, "Rejected": 2}  # recommendations and their actions
    assert counts["thematic_area"] == {"Governance": 2}
    # Whole numbers on every database (PostgreSQL made a UNION of counts and a sum numeric: Decimal in Python).
    assert {type(n) for n in results.counts.values()} | {type(v.count) for vs in results.facets.values() for v in vs} == {int}
    # A filter narrows the results; its own counts still offer the other values.
    narrowed = engine.search(ANON, "sorghum", engine.Filters(office=south.pk))
    assert narrowed.counts == {"recommendation": 1, "action": 1}
    assert {v.label: v.count for v in narrowed.facets["office"]} == {"North office": 2, "South office": 2}
    assert {v.label: v.count for v in narrowed.facets["year"]} == {"2022": 2}
    assert ids(ANON, "sorghum", "action", status="Completed") == [done.pk]
    assert found(ANON, "sorghum", thematic_area=theme.pk) == {"recommendation": [a.pk], "action": [a.key_actions.get().pk]}
    assert found(ANON, "sorghum", kind="recommendation", year=2020) == {"recommendation": [a.pk]}
    # With a kind chosen, a chosen filter's own counts are of that kind's rows; the tabs still count every kind.
    one_kind = engine.search(ANON, "sorghum", engine.Filters(kind="action", year=2022))
    assert one_kind.counts == {"recommendation": 1, "action": 1}
    assert {v.label: v.count for v in one_kind.facets["year"]} == {"2020": 1, "2022": 1}
    assert {v.label: v.count for v in one_kind.facets["status"]} == {"Completed": 1}
    assert {v.label: v.count for v in engine.search(ANON, "sorghum", engine.Filters(kind="recommendation", status="Completed")).facets["status"]} == {"Completed": 0}
    # A chosen office, region or area that nothing matches stays offered, by its name.
    empty = make_office("East office", region="East")
    nothing = engine.search(ANON, "sorghum", engine.Filters(office=empty.pk, region=empty.region_id, year=2020))
    assert [(v.label, v.count, v.selected) for v in nothing.facets["office"]] == [("East office", 0, True)]
    assert [(v.label, v.count, v.selected) for v in nothing.facets["region"]][0] == ("East", 0, True)


def test_one_kind_pages_through_all_its_hits():
    ev = make_evaluation()
    recs = [make_recommendation(ev, text=f"Recommendation about cassava number {i}.") for i in range(engine.PAGE_SIZE + 5)]
    first = engine.search(ANON, "cassava", engine.Filters(kind="recommendation"))
    second = engine.search(ANON, "cassava", engine.Filters(kind="recommendation", page=2))
    assert first.has_next and not second.has_next
    seen = [h.object_id for g in (*first.groups, *second.groups) for h in g.hits]
    assert sorted(seen) == sorted(r.pk for r in recs)
    grouped = engine.search(ANON, "cassava")
    assert len(grouped.groups[0].hits) == engine.GROUP_SIZE and grouped.counts["recommendation"] == len(recs)


def test_results_link_to_their_place():
    ev = make_evaluation(title="Evaluation of the baobab project")
    ev.management_response.overall_response = "We welcome the baobab findings."
    ev.management_response.save()
    rec = make_recommendation(ev, text="Baobab recommendation.")
    action = make_action(rec, text="Baobab action.")
    urls = {g.kind.name: g.hits[0].url for g in engine.search(ANON, "baobab").groups}
    page = reverse("web:evaluation", args=[ev.pk])
    assert urls == {
        "evaluation": page,
        "response": page + "#response-heading",
        "recommendation": page + f"#recommendation-{rec.pk}",
        "action": reverse("web:action", args=[action.pk]),
    }


def test_the_search_box_is_on_every_page_and_the_page_costs_the_same_queries_as_data_grows(client, no_page_cache):
    home = client.get(reverse("web:home")).content.decode()
    assert f'action="{reverse("web:search")}"' in home and 'name="q"' in home

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("web:search"), {"q": "mango"}).status_code == 200
        return len(ctx.captured_queries)

    def grow(i):
        # One of each kind of record, in an office, region and year of its own.
        ev = make_evaluation(make_office(region=f"Region {i}"), title=f"Mango evaluation {i}", year=2000 + i)
        ev.management_response.overall_response = "Mango response."
        ev.management_response.save()
        action = make_action(make_recommendation(ev, text=f"Mango recommendation {i}."), text="Mango action.")
        ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment="Mango progress.")

    grow(0)
    small = cost()
    for i in range(1, 8):
        grow(i)
    assert cost() == small
    assert small <= 16


def test_the_index_can_be_rebuilt_from_the_tables():
    from django.core.management import call_command

    rec = make_recommendation(text="Rebuild the jacaranda index.")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_entry")
    assert ids(ANON, "jacaranda", "recommendation") == []
    call_command("search_index", "--rebuild", verbosity=0)
    assert ids(ANON, "jacaranda", "recommendation") == [rec.pk]


def test_years_are_counted_even_for_evaluations_without_a_region():
    office = make_office(region=None)
    ev = make_evaluation(office, year=2019)
    make_recommendation(ev, text="Lychee exports.")
    results = engine.search(ANON, "lychee")
    assert results.counts == {"recommendation": 1}
    assert [v.label for v in results.facets["year"]] == ["2019"]
    assert results.facets["region"] == []


def test_a_common_word_ranks_and_counts_the_newest_candidates_of_each_kind_and_says_so(client, monkeypatch):
    monkeypatch.setattr(engine, "CANDIDATES", 3)
    north, south = make_office("North office"), make_office("South office")
    old = make_recommendation(make_evaluation(south), text="Older okra recommendation.")
    recs = [make_recommendation(make_evaluation(north), text=f"Okra recommendation {i}.") for i in range(4)]
    results = engine.search(ANON, "okra")
    assert results.counts == {"recommendation": 3} and results.capped == {"recommendation"}
    assert {h.object_id for h in results.groups[0].hits} == {r.pk for r in recs[1:]}  # the newest three
    assert {v.label: v.count for v in results.facets["office"]} == {"North office": 3}
    # A filter narrows before the cut: the older one is found.
    assert ids(ANON, "okra", "recommendation", office=south.pk) == [old.pk]
    page = client.get(reverse("web:search"), {"q": "okra"}).content.decode()
    assert 'id="search-capped"' in page and "(3+)" in page
    assert 'id="search-capped"' not in client.get(reverse("web:search"), {"q": "older okra"}).content.decode()


@pytest.mark.parametrize("common", [False, True])
def test_the_newest_matches_a_reader_may_see_are_the_candidates_when_newer_ones_are_hidden(monkeypatch, common):
    # The reading rules narrow before the cut: the newest matches are drafts, which the public never sees.
    monkeypatch.setattr(engine, "CANDIDATES", 2)
    if common:  # PostgreSQL: each kind's newest rows looked at first, then the older ones through its GIN index
        monkeypatch.setattr(engine, "COMMON_MATCHES", -1)
        monkeypatch.setattr(engine, "SCANNED", 2)
    public = make_evaluation()
    older = [make_recommendation(public, text=f"Okra seeds, lot {i}.") for i in range(3)]
    draft = make_evaluation(status="Draft")
    for i in range(3):
        make_recommendation(draft, text=f"Okra seedlings, tray {i}.")
    results = engine.search(ANON, "okra")
    assert results.counts == {"recommendation": 2} and results.capped == {"recommendation"}
    assert [h.object_id for h in results.groups[0].hits] == [older[2].pk, older[1].pk]


def test_the_exact_phrase_comes_first_even_when_older_than_the_newest_candidates(monkeypatch):
    monkeypatch.setattr(engine, "CANDIDATES", 3)
    ev = make_evaluation()
    exact = make_recommendation(ev, text="Strengthen due diligence for partners.")
    newer = [make_recommendation(ev, text=f"Diligence is due in round {i}.") for i in range(4)]
    results = engine.search(ANON, "due diligence")
    hits = results.groups[0].hits
    assert results.counts == {"recommendation": 3} and results.capped == {"recommendation"}
    assert hits[0].object_id == exact.pk and hits[0].exact
    # Then the newest of the others.
    assert {h.object_id for h in hits[1:]} == {r.pk for r in newer[-2:]} and not any(h.exact for h in hits[1:])


def test_equal_scores_list_the_newest_first():
    ev = make_evaluation()
    older = make_recommendation(ev, text="Plant more tamarind trees.")
    newer = make_recommendation(ev, text="Plant more tamarind trees.")
    assert ids(ANON, "tamarind", "recommendation") == [newer.pk, older.pk]


def test_a_word_in_more_than_half_the_index_does_not_rank_but_the_other_words_do(monkeypatch):
    # SQLite: bm25 gives such a word an IDF of ~0, and counting its rows for it would read them all, once per
    # kind. PostgreSQL: ranking reads each candidate's tsvector. The same rule on both: the newest first.
    monkeypatch.setattr(engine, "COMMON", 2)
    monkeypatch.setattr(engine, "COMMON_MATCHES", -1)  # PostgreSQL: a common query's words only (a rare one's rank cheaply)
    ev = make_evaluation(title="Quince evaluation")
    many = make_recommendation(ev, text="Quince, quince, quince and quince.")  # would rank first
    pruned_often = make_recommendation(ev, text="Pruning quince, pruning pears, pruning plums.")
    pruned = make_recommendation(ev, text="Quince orchards need pruning and care over many long seasons.")
    newest = make_recommendation(ev, text="A quince.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {schema.TABLE}")  # the planner's statistics tell a word's share of the rows
        with CaptureQueriesContext(connection) as ctx:
            engine.search(ANON, "quince")
        assert not any("ts_rank_cd" in q["sql"] for q in ctx.captured_queries)
    assert ids(ANON, "quince", "recommendation") == [newest.pk, pruned.pk, pruned_often.pk, many.pk]
    assert ids(ANON, "quince pruning", "recommendation") == [pruned_often.pk, pruned.pk]
    # A word in few rows ranks as ever: the one that says it most, first.
    monkeypatch.setattr(engine, "COMMON", 20_000)
    assert ids(ANON, "quince", "recommendation")[0] == many.pk


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's vocabulary (PostgreSQL's planner keeps its own counts)")
def test_common_words_are_counted_ahead_and_a_search_weighs_them_by_that_count(monkeypatch):
    monkeypatch.setattr(engine, "COMMON", 2)
    ev = make_evaluation(title="Quince evaluation")
    many = make_recommendation(ev, text="Quince, quince, quince and quince.")
    pruned = make_recommendation(ev, text="Quince orchards need pruning and care over many long seasons.")
    newest = make_recommendation(ev, text="A quince.")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term, doc FROM {schema.VOCAB_TABLE} WHERE doc > 2")
        common = dict(cursor.fetchall())
    assert common["quince"] == 4 and "pruning" not in common
    assert CommonWord.objects.count() == 0  # never counted: each word counted when searched for
    assert ids(ANON, "quince", "recommendation") == [newest.pk, pruned.pk, many.pk]  # in most rows: weighs nothing
    assert count_common_words.call() == len(common)
    assert dict(CommonWord.objects.values_list("word", "documents")) == common
    assert ids(ANON, "quince", "recommendation") == [newest.pk, pruned.pk, many.pk]
    n_rows = CommonWord.objects.get(word="quince").index_rows  # the index's rows when counted: fewer than 8
    kept = CommonWord.objects.filter(word="quince")
    # The kept count decides, not the vocabulary (a word kept as rare ranks: the one that says it most, first) ...
    kept.update(documents=1)
    assert ids(ANON, "quince", "recommendation")[0] == many.pk
    # ... unless the index is smaller than when it was counted (rows deleted since): then counted again ...
    kept.update(index_rows=n_rows + 1)
    assert ids(ANON, "quince", "recommendation") == [newest.pk, pruned.pk, many.pk]
    # ... or enough rows were added since to take it over half (as progress updates recorded after the count).
    kept.update(index_rows=n_rows - 3)
    assert ids(ANON, "quince", "recommendation") == [newest.pk, pruned.pk, many.pk]
    # Against the index's size today: in 4 rows of an index of 8 or more now, the word weighs again.
    kept.update(documents=common["quince"], index_rows=n_rows)
    for i in range(4):
        make_recommendation(ev, text=f"Plums, round {i}.")
    assert ids(ANON, "quince", "recommendation")[0] == many.pk
    # Counted again: replaced, the words no longer common gone.
    monkeypatch.setattr(engine, "COMMON", 4)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term, doc FROM {schema.VOCAB_TABLE} WHERE doc > 4")
        common = dict(cursor.fetchall())
    assert count_common_words.call() == len(common)
    assert dict(CommonWord.objects.values_list("word", "documents")) == common and "quince" not in common


def test_common_words_are_counted_every_night():
    entry = {p.name: p for p in schedule.registered()}[count_common_words.name]
    assert (entry.every, entry.at) == (dt.timedelta(days=1), dt.time(3, 50))


def test_an_import_counts_the_common_words_again(monkeypatch):
    monkeypatch.setattr(engine, "COMMON", 0)
    call_command("import_documents", str(sorted(DEMO.glob("*.txt"))[0]), "--no-progress", stdout=io.StringIO())
    if connection.vendor == "sqlite":
        assert CommonWord.objects.filter(word="recommendation").exists()
    else:
        assert not CommonWord.objects.exists()  # PostgreSQL: its planner's statistics


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's two ways to a kind's newest matches")
@pytest.mark.parametrize("scanned", [1, 2, 3, 50])
def test_a_common_query_read_newest_rows_first_finds_what_the_index_alone_finds(monkeypatch, scanned):
    # A common query: each kind's newest `scanned` rows looked at, then its older matches through its GIN index.
    monkeypatch.setattr(engine, "CANDIDATES", 3)
    ev = make_evaluation(title="Diligence due")
    older_exact = make_recommendation(ev, text="Strengthen due diligence for partners.")
    make_recommendation(ev, text="Diligence is due in round 0.")
    newer = [make_recommendation(ev, text=f"Diligence is due in round {i}.") for i in range(1, 4)]
    make_recommendation(ev, text="Nothing to see here.")  # the newest row matches nothing
    action = make_action(newer[0], text="Plant okra.")
    # Another office's evaluation of another year: the filters (which PostgreSQL also asks of its index of evaluation
    # ids, _postgres_evaluations) keep one or the other.
    elsewhere = make_recommendation(make_evaluation(year=2019), text="Due diligence, once more, in round 9.")
    make_action(elsewhere, text="Plant more okra.")

    def run(text, **filters):
        results = engine.search(ANON, text, engine.Filters(**filters))
        return results.counts, results.capped, {g.kind.name: [h.object_id for h in g.hits] for g in results.groups}

    asked = [
        (text, filters)
        for text in ("due diligence", '"due diligence"', "diligen*", "okra")
        for filters in ({}, {"year": 2019}, {"office": ev.office_id, "kind": "recommendation"}, {"year": 2024, "region": ev.office.region_id})
    ]
    rare = {(text, tuple(filters.items())): run(text, **filters) for text, filters in asked}
    assert rare[("due diligence", ())][2]["recommendation"][0] == older_exact.pk
    assert rare[("due diligence", ())][:2] == ({"recommendation": 3, "evaluation": 1}, {"recommendation"})
    assert rare[("due diligence", (("year", 2019),))][2] == {"recommendation": [elsewhere.pk]}
    assert rare[("okra", ())][2]["action"] == [elsewhere.key_actions.get().pk, action.pk]
    assert rare[("okra", (("year", 2024), ("region", ev.office.region_id)))][2] == {"action": [action.pk]}
    monkeypatch.setattr(engine, "COMMON_MATCHES", -1)
    monkeypatch.setattr(engine, "SCANNED", scanned)
    for (text, filters), expected in rare.items():
        with CaptureQueriesContext(connection) as ctx:
            assert run(text, **dict(filters)) == expected, (text, filters)
        assert any(f"ORDER BY id DESC LIMIT {scanned}" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_the_search_statement_is_planned_for_its_words_each_time_never_prepared():
    # A connection prepares what it runs twice (followthrough.settings): a plan made once for any words would read a
    # common word's matches the way it read a rare one's. The statement is the same text for any single word.
    ev = make_evaluation()
    make_recommendation(ev, text="Grow okra and quince.")
    for word in ("okra", "quince", "grow", "okra", "quince", "grow", "okra", "quince"):
        assert engine.search(ANON, word).counts == {"recommendation": 1}
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert not any("AS MATERIALIZED" in sql for sql in prepared), prepared
    # What else the page reads is prepared as before (the records behind the hits).
    assert any("tracking_recommendation" in sql for sql in prepared), prepared


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_the_planner_tells_a_common_query_from_a_rare_one(monkeypatch):
    ev = make_evaluation()
    for i in range(40):
        make_recommendation(ev, text=f"Grow okra in plot {i}.")
    make_recommendation(ev, text="Grow quince.")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {schema.TABLE}")
    monkeypatch.setattr(engine, "COMMON_MATCHES", 20)
    assert engine._postgres_estimates(engine.parse("okra"))[0]
    assert not engine._postgres_estimates(engine.parse("quince"))[0]
    assert engine._postgres_estimates(engine.parse("okra plot"))[0]  # the query's own estimate: both words
    assert not engine._postgres_estimates(engine.parse("okra quince"))[0]
    # Weightless, in a common query: a word in more than half the rows (and more than COMMON), only a single word.
    monkeypatch.setattr(engine, "COMMON", 10)
    monkeypatch.setattr(engine, "COMMON_MATCHES", -1)
    okra = engine.parse("okra quince grow*")
    assert engine._postgres_estimates(okra)[1] == {okra.terms[0]}
    assert engine._postgres_estimates(engine.parse('"grow okra"'))[1] == frozenset()
    monkeypatch.setattr(engine, "COMMON", 100)
    assert engine._postgres_estimates(okra)[1] == frozenset()
    monkeypatch.setattr(engine, "COMMON", 10)
    monkeypatch.setattr(engine, "COMMON_MATCHES", 20)
    assert engine._postgres_estimates(okra) == (False, frozenset())  # a rare query: every word ranks
