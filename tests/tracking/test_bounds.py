"""Every value written is bounded and checked in one place (tracking.text), the same on SQLite and PostgreSQL.

SQLite would store a 126,000-character title or a NUL; PostgreSQL refuses
both. Each case here runs on either database and expects the same outcome:
refused with a message naming the field, or stored exactly as the rules say.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

import gateformat
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking import text
from tracking.actor import Actor
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    KeyAction,
    Recommendation,
    Role,
    RoleAssignment,
)
from tracking.services import drafting, progress
from tracking.services.importer import CREATED, FAILED, Importer

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Evaluation, Recommendation, KeyAction, ActionUpdate, ChangeRecord)}


def document(title: str = "A bounded evaluation", **rec) -> gateformat.Document:
    fields = {"number": "1", "text": "Do better.", "management_response": "Agreed.", "category": "Accepted"}
    fields.update(rec)
    return gateformat.Document(
        evaluation=gateformat.Evaluation(
            title=title, office="Office of bounds", plan_office="Office of bounds", office_type="CO",
            plan_start_year=2024, plan_end_year=2025,
        ),
        management_response=gateformat.ManagementResponse(status="Approved", units=[], overall_response="Overall."),
        recommendations=[
            gateformat.Recommendation(
                **fields,
                key_actions=[gateformat.KeyAction(number="1.1", text="Act.", responsible="Evaluation Office",
                                                  deadline="2030-01", status="Initiated", comments="Noted.")],
            )
        ],
        source="bounds.txt",
    )


def importer() -> Importer:
    return Importer(Actor.system("import"))


# --- the rules --------------------------------------------------------------------------------------


def test_the_rules_name_the_field_and_the_lengths():
    assert text.problem("x" * 501, label="title", max_length=500) == "The title is 501 characters long; at most 500 fit."
    assert "NUL" in text.problem("a\x00b", label="comment")
    assert "surrogate" in text.problem("a\ud800b", label="comment")
    assert text.problem("x" * 500, label="title", max_length=500) == ""
    # Harmless characters are kept: tabs, line breaks, ESC, zero-width and bidirectional marks.
    assert text.problem("a\tb\nc\x1bd\u200b\u202e", label="comment") == ""
    assert text.strip_unstorable("a\x00b\ud800c") == ("abc", 2)


# --- the importer: titles over 500 characters, NUL bytes ----------------------------------------


@pytest.mark.parametrize("length", [501, 2_048, 126_000])
def test_an_imported_title_longer_than_the_field_is_refused_and_nothing_written(length):
    before = counts()
    result = importer().import_document(document(title="T" * length))
    assert result.outcome == FAILED
    assert result.error == f"the evaluation title is {length:,} characters long; at most 500 fit"
    assert counts() == before


def test_a_title_of_exactly_500_characters_is_stored_exactly():
    result = importer().import_document(document(title="T" * 499 + "é"))
    assert result.outcome == CREATED
    assert Evaluation.objects.get(pk=result.evaluation_id).title == "T" * 499 + "é"


def test_nul_bytes_in_an_imported_page_are_removed_and_reported_the_same_on_every_database():
    page = gateformat.render(document(title="Title\x00 with NUL", text="Recommendation\x00 text"))
    result = importer().import_text(page, source="nul.txt")
    assert result.outcome == CREATED, result.error
    ev = Evaluation.objects.get(pk=result.evaluation_id)
    assert ev.title == "Title with NUL"
    assert Recommendation.objects.get(evaluation=ev).text == "Recommendation text"
    assert any("NUL" in w and "evaluation title" in w for w in result.warnings)
    assert any("NUL" in w and "recommendation 1" in w for w in result.warnings)


def test_over_long_numbers_categories_and_terms_refuse_the_document_naming_each():
    before = counts()
    result = importer().import_document(
        document(number="9" * 21, category="C" * 41, operating_principles=["P" * 201])
    )
    assert result.outcome == FAILED
    assert "the number of recommendation" in result.error and "21 characters long; at most 20 fit" in result.error
    assert "category" in result.error and "operating principles" in result.error
    assert counts() == before


def test_a_refused_document_in_a_batch_leaves_the_others_to_land():
    docs = [document(title="First"), document(title="x" * 600), document(title="Third")]
    results = importer().import_documents(docs)
    assert [r.outcome for r in results] == [CREATED, FAILED, CREATED]
    assert sorted(Evaluation.objects.values_list("title", flat=True)) == ["First", "Third"]


# --- the services: the same rules for web, command line and any other caller ----------------------------


@pytest.fixture
def people():
    # The system actor may do everything: these are the rules on values, not on who.
    return make_office("Office of limits"), Actor.system("command")


def test_services_refuse_what_a_database_could_not_store(people):
    office, actor = people
    before = counts()
    with pytest.raises(ValidationError) as exc:
        drafting.create_evaluation(actor, office=office, start_year=2024, end_year=2025, title="T" * 501)
    assert exc.value.message_dict["title"] == ["The title is 501 characters long; at most 500 fit."]
    with pytest.raises(ValidationError) as exc:
        drafting.create_evaluation(actor, office=office, start_year=2024, end_year=2025, title="Nul\x00")
    assert "NUL" in exc.value.message_dict["title"][0]
    assert counts() == before

    ev = drafting.create_evaluation(actor, office=office, start_year=2024, end_year=2025, title="Fine")
    response = ev.management_response
    with pytest.raises(ValidationError) as exc:
        drafting.add_recommendation(actor, response, fields={"number": "1" * 21, "text": "ok\x00"})
    assert set(exc.value.message_dict) == {"number", "text"}
    rec = drafting.add_recommendation(actor, response, fields={"number": "1", "text": "Fine \x1b with ESC"})
    assert Recommendation.objects.get(pk=rec.pk).text == "Fine \x1b with ESC"  # harmless: kept as typed
    with pytest.raises(ValidationError) as exc:
        drafting.add_action(actor, rec, fields={"number": "1.1", "text": "Act", "comments": "\x00"})
    assert "comments" in exc.value.message_dict
    response.refresh_from_db()
    with pytest.raises(ValidationError):
        drafting.update_response(actor, response, version=response.version, overall_response="\x00", units=[])


def test_a_progress_comment_with_nul_is_refused_by_the_service(people):
    office, _ = people
    action = make_action(make_recommendation(make_evaluation(office)))
    with pytest.raises(ValidationError) as exc:
        progress.record_progress(Actor.system("api"), action, version=action.version, status="Initiated", comment="a\x00b")
    assert "NUL" in exc.value.message_dict["comment"][0]


# --- the evidence link: 501 to 2,048 characters -------------------------------------------------------


@pytest.mark.parametrize("length", [501, 1_000, 2_048])
def test_a_long_evidence_link_is_refused_with_a_message_and_the_comment_is_not_lost(client, length):
    from django.contrib.auth import get_user_model

    office = make_office("Office of links")
    focal = get_user_model().objects.create(username="focal-links")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    action = make_action(make_recommendation(make_evaluation(office)))
    client.force_login(focal)
    link = "https://example.org/" + "a" * (length - len("https://example.org/"))
    assert len(link) == length
    before = counts()
    r = client.post(
        reverse("web:action_update", args=[action.pk]),
        {"version": action.version, "status": "Initiated", "comment": "What was done, kept.", "evidence_url": link},
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "longer than 500 characters" in html
    assert "What was done, kept." in html  # sent back in the form, to be sent again without the link
    assert counts() == before
