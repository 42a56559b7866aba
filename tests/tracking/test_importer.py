"""Importing GATE documents: create, update what changed, never duplicate, all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

import gateformat
from reports.documents import evaluations_for_export, to_document
from tests.conftest import sample_expected, sample_text
from tracking.actor import Actor
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Recommendation,
    Term,
    Unit,
)
from tracking.models.responses import today
from tracking.services.importer import CREATED, FAILED, UNCHANGED, UPDATED, Importer

pytestmark = pytest.mark.django_db

S000 = "000_6da9e6de966dff24"
S002 = "002_543cb0e5625ab64b"


def importer() -> Importer:
    return Importer(Actor.system("import"))


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Evaluation, ManagementResponse, Recommendation, KeyAction, ActionUpdate, ChangeRecord, Unit)
    }


def test_import_creates_the_evaluation_and_everything_in_its_response():
    result = importer().import_text(sample_text(S000), source="000.txt")
    assert result.outcome == CREATED
    ev = Evaluation.objects.get(pk=result.evaluation_id)
    assert ev.title == "Evaluation of UN Women strategic partnerships on gender equality and women's empowerment"
    assert ev.office.name == "Independent Evaluation Service (IES)"
    assert ev.office.type.code == "EO"
    assert (ev.plan.start_year, ev.plan.end_year) == (2015, 2016)
    assert ev.management_response.status == "Approved"
    assert ev.management_response.units_as_written == ["Independent Evaluation Service (IES)"]
    assert ev.recommendations.count() == 8
    assert KeyAction.objects.filter(evaluation=ev).count() == 18
    first = KeyAction.objects.get(evaluation=ev, number="1.1")
    assert first.deadline == dt.date(2018, 12, 1)
    assert first.status == "Completed"
    assert first.responsible.startswith("SPD/Civil Society Section (CSS)")
    rec5 = ev.recommendations.get(number="5")
    assert [t.name for t in rec5.operating_principles] == [
        "Capacity development",
        "Promoting inclusiveness/Leaving no one behind",
    ]
    assert [t.name for t in rec5.organizational_priorities] == ["Partnership", "Youth engagement", "Engaging men and boys"]
    # The creation is in the audit trail, once, for the evaluation.
    record = ChangeRecord.objects.get(evaluation_id=ev.pk)
    assert record.action == "create" and "8 recommendations, 18 key actions" in record.message


def test_stored_evaluation_exports_back_to_exactly_the_sample():
    for name in (S000, S002):
        result = importer().import_text(sample_text(name), source=name)
        ev = evaluations_for_export(Evaluation.objects.filter(pk=result.evaluation_id)).get()
        exported = to_document(ev).to_dict()
        expected = sample_expected(name)
        for section in ("evaluation", "management_response"):
            assert exported[section] == expected[section]
        for got, want in zip(exported["recommendations"], expected["recommendations"]):
            for key, value in want.items():
                if key == "key_actions":
                    assert [{k: a[k] for k in value[0]} for a in got[key]] == value
                else:
                    assert got[key] == value, key


def test_reimporting_the_same_document_changes_nothing():
    imp = importer()
    imp.import_text(sample_text(S000), source="000.txt")
    before = counts()
    result = imp.import_text(sample_text(S000), source="000.txt")
    assert result.outcome == UNCHANGED
    assert counts() == before
    # A new importer (a new run, units now known from the database) agrees.
    assert importer().import_text(sample_text(S000), source="000.txt").outcome == UNCHANGED
    assert counts() == before


def test_reimport_with_a_new_status_records_a_progress_update_and_history():
    imp = importer()
    first = imp.import_text(sample_text(S002), source="002.txt")
    changed = sample_text(S002).replace(
        "Resilience Unit 2026/12 Initiated", "Resilience Unit 2026/12 Completed Monitor launched."
    )
    assert changed != sample_text(S002)
    result = imp.import_text(changed, source="002-v2.txt")
    assert result.outcome == UPDATED
    assert result.evaluation_id == first.evaluation_id
    assert result.status_changes == 1
    action = KeyAction.objects.get(evaluation_id=first.evaluation_id, status="Completed")
    assert action.comments == "Monitor launched."
    update = action.updates.get()
    assert (update.status_before, update.status_after, update.source) == ("Initiated", "Completed", "import")
    assert "002-v2.txt" in update.comment
    record = ChangeRecord.objects.get(object_id=action.pk, action="update")
    # The completion is dated the day the import saw it (timeliness: reports/figures.py).
    assert record.before == {"status": "Initiated", "comments": "", "completed_on": None}
    assert record.after == {"status": "Completed", "comments": "Monitor launched.", "completed_on": today().isoformat()}
    assert action.verification == ""  # self-reported: nothing was claimed here with evidence
    assert Evaluation.objects.count() == 1


def test_a_document_that_cannot_be_read_changes_nothing_and_says_where():
    imp = importer()
    imp.import_text(sample_text(S000), source="000.txt")
    before = counts()
    text = sample_text(S002)
    cut = text.rindex("2029/12 Not Initiated")  # line 77, the second row of recommendation 5
    broken = text[:cut] + text[cut + len("2029/12 ") :]
    result = imp.import_text(broken, source="broken.txt")
    assert result.outcome == FAILED
    assert result.error.startswith("77: key action row of recommendation 5 has no deadline and status")
    assert counts() == before


def _fail_inserts_of_key_actions_containing(marker: str) -> None:
    """A real database refusal part-way through a document (not a mock)."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "CREATE TRIGGER refuse_marker BEFORE INSERT ON tracking_keyaction "
                f"WHEN NEW.text LIKE '%{marker}%' BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END"
            )
        else:
            cur.execute(
                "CREATE FUNCTION refuse_marker() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.text LIKE '%{marker}%' THEN RAISE EXCEPTION 'refused by trigger'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cur.execute(
                "CREATE TRIGGER refuse_marker BEFORE INSERT ON tracking_keyaction "
                "FOR EACH ROW EXECUTE FUNCTION refuse_marker()"
            )


def test_a_failure_half_way_through_a_document_leaves_nothing_of_it():
    imp = importer()
    imp.import_text(sample_text(S000), source="000.txt")
    before = counts()
    _fail_inserts_of_key_actions_containing("Women in Peace Processes Monitor")
    with pytest.raises(Exception, match="refused by trigger"):
        imp.import_text(sample_text(S002), source="002.txt")
    # The evaluation, response and recommendations written before the refusal are gone too.
    assert counts() == before
    assert not Evaluation.objects.filter(title__startswith="Corporate Evaluation").exists()
    # The importer forgot the units it made for that document: the next document still works.
    assert imp.import_text(sample_text(S000), source="000.txt").outcome == UNCHANGED


def test_responsible_text_links_units_and_reuses_them_by_name_and_acronym():
    result = importer().import_text(sample_text(S000), source="000.txt")
    ev = Evaluation.objects.get(pk=result.evaluation_id)

    def units_of(number):
        return {u.name for u in KeyAction.objects.get(evaluation=ev, number=number).units.all()}

    assert units_of("1.1") == {
        "SPD",
        "Civil Society Section",
        "Policy Division",
        "Regional Offices",
        "Intergovernm ental Support Division",
    }
    css = Unit.objects.get(name="Civil Society Section")
    assert css.acronym == "CSS" and css.auto_created and css.office == ev.office
    # "SPD, CSS, Policy Division, Regional Offices": the same units, CSS found by its acronym.
    assert units_of("1.3") == {"SPD", "Civil Society Section", "Policy Division", "Regional Offices"}
    assert Unit.objects.filter(name="SPD").count() == 1


def test_new_vocabulary_values_are_added_and_reported():
    text = sample_text(S000).replace("Organizational Priorities: Partnership\n", "Organizational Priorities: Climate action\n", 1)
    result = importer().import_text(text, source="x.txt")
    assert Term.objects.get(kind="organizational_priority", name="Climate action").auto_created
    assert any("Climate action" in w for w in result.warnings)


def test_reimport_without_a_recommendation_is_refused_and_changes_nothing():
    imp = importer()
    first = imp.import_text(sample_text(S002), source="002.txt")
    ev_id = first.evaluation_id
    before = counts()
    text = sample_text(S002)
    start = text.index("Recommendation: Recommendation 4:")
    end = text.index("Recommendation: Recommendation 5:")
    result = imp.import_text(text[:start] + text[end:], source="002-short.txt")
    assert result.outcome == FAILED
    assert "refused" in result.error and "recommendation 4 (with 1 key action)" in result.error
    assert "--allow-removals" in result.error
    assert counts() == before
    assert Recommendation.objects.filter(evaluation_id=ev_id, archived_at=None).count() == 5


def test_with_removals_allowed_a_recommendation_no_longer_on_the_page_is_archived_not_deleted():
    imp = importer()
    first = imp.import_text(sample_text(S002), source="002.txt")
    ev_id = first.evaluation_id
    text = sample_text(S002)
    start = text.index("Recommendation: Recommendation 4:")
    end = text.index("Recommendation: Recommendation 5:")
    result = Importer(Actor.system("import"), allow_removals=True).import_text(text[:start] + text[end:], source="002-short.txt")
    assert result.outcome == UPDATED
    assert result.removals == ["recommendation 4 (with 1 key action)"]
    rows = list(Recommendation.objects.filter(evaluation_id=ev_id).order_by("position"))
    assert [(r.number, r.archived_at is not None) for r in rows] == [
        ("1", False), ("2", False), ("3", False), ("5", False), ("4", True)
    ]
    assert KeyAction.objects.filter(recommendation=rows[-1]).count() == 1
    assert not ChangeRecord.objects.filter(action="delete").exists()
    archived = ChangeRecord.objects.get(object_id=rows[-1].pk, content_type__model="recommendation", action="update")
    assert "archived: no longer in 002-short.txt" in archived.message
    # The page again: the recommendation is back where it was, no longer archived.
    assert importer().import_text(text, source="002.txt").outcome == UPDATED
    rows = list(Recommendation.objects.filter(evaluation_id=ev_id).order_by("position"))
    assert [(r.number, r.archived_at) for r in rows] == [(n, None) for n in "12345"]


def test_reordered_recommendations_keep_their_identity():
    imp = importer()
    first = imp.import_text(sample_text(S002), source="002.txt")
    original = {r.number: r.pk for r in Recommendation.objects.filter(evaluation_id=first.evaluation_id)}
    text = sample_text(S002).rstrip("\n") + "\n"
    r4 = text.index("Recommendation: Recommendation 4:")
    r5 = text.index("Recommendation: Recommendation 5:")
    swapped = text[:r4] + text[r5:] + text[r4:r5]
    assert imp.import_text(swapped, source="002-swapped.txt").outcome == UPDATED
    rows = list(Recommendation.objects.filter(evaluation_id=first.evaluation_id).order_by("position"))
    assert [r.number for r in rows] == ["1", "2", "3", "5", "4"]
    assert {r.number: r.pk for r in rows} == original


def test_the_same_title_in_another_plan_is_another_evaluation():
    imp = importer()
    imp.import_text(sample_text(S000), source="a.txt")
    other = sample_text(S000).replace(": 2015 - 2016 ,", ": 2017 - 2018 ,")
    assert imp.import_text(other, source="b.txt").outcome == CREATED
    assert Evaluation.objects.count() == 2


def test_stored_split_survives_a_reimport_when_the_row_is_the_same():
    imp = importer()
    first = imp.import_text(sample_text(S000), source="000.txt")
    action = KeyAction.objects.get(evaluation_id=first.evaluation_id, number="7.1")
    # A person decides "UNCT" belongs to the responsible, not to the action text.
    action.text = action.text.removesuffix(" UNCT")
    action.responsible = "UNCT " + action.responsible
    action.save()
    assert imp.import_text(sample_text(S000), source="000.txt").outcome == UNCHANGED
    action.refresh_from_db()
    assert action.responsible == "UNCT Programme Division"


def test_import_of_a_parsed_document_object():
    doc = gateformat.parse(sample_text(S002), source="002.txt")
    result = importer().import_document(doc)
    assert result.outcome == CREATED and result.key_actions == 13


def test_a_batch_of_known_evaluations_updates_each_and_reads_a_repeat_afresh():
    """Re-imports in one batch: responses are read for the batch at once, and a
    document that comes twice is applied twice, the second on top of the first."""
    list(importer().run([("000.txt", sample_text(S000)), ("002.txt", sample_text(S002))], workers=0))
    done = sample_text(S002).replace("Resilience Unit 2026/12 Initiated", "Resilience Unit 2026/12 Completed Monitor launched.")
    undone = done.replace("2026/12 Completed Monitor launched.", "2026/12 Not Initiated")
    assert sample_text(S002) != done != undone
    results = list(
        importer().run(
            [("000.txt", sample_text(S000)), ("002-v2.txt", done), ("002-v3.txt", undone)], workers=0
        )
    )
    assert [r.outcome for r in results] == [UNCHANGED, UPDATED, UPDATED]
    assert Evaluation.objects.count() == 2
    updates = ActionUpdate.objects.order_by("pk")
    assert [(u.status_before, u.status_after) for u in updates] == [
        ("Initiated", "Completed"),
        ("Completed", "Not Initiated"),
    ]
    assert updates[0].key_action_id == updates[1].key_action_id
    assert KeyAction.objects.get(pk=updates[0].key_action_id).status == "Not Initiated"


def test_a_recommendation_removed_and_restored_in_one_batch_comes_back():
    list(importer().run([("002.txt", sample_text(S002))], workers=0))
    text = sample_text(S002)
    short = text[: text.index("Recommendation: Recommendation 4:")] + text[text.index("Recommendation: Recommendation 5:") :]
    results = list(Importer(Actor.system("import"), allow_removals=True).run([("002-short.txt", short), ("002.txt", text)], workers=0))
    assert [r.outcome for r in results] == [UPDATED, UPDATED]
    assert Recommendation.objects.count() == 5
    assert not Recommendation.objects.exclude(archived_at=None).exists()
    actions = list(ChangeRecord.objects.filter(content_type__model="recommendation").values_list("action", flat=True))
    assert (actions.count("delete"), actions.count("create")) == (0, 0)
