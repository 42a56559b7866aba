"""The accountability workflows through the API: verification, deadline revisions, adoption ratings, outcome
follow-up, and reopening a Completed action, each with its refusals, its If-Match, and its steps in /changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from tests.api.conftest import bearer
from tracking.models import ActionUpdate, ChangeRecord, KeyAction, Recommendation

pytestmark = pytest.mark.django_db
JSON = "application/json"
PROOF = "https://example.org/proof.pdf"


def _etag(url: str, headers: dict) -> str:
    response = Client().get(url, **headers)
    assert response.status_code == 200, response.content[:300]
    return response["ETag"]


def _post(url: str, body: dict, headers: dict, if_match: str | None = None, method: str = "post"):
    extra = {"HTTP_IF_MATCH": if_match} if if_match else {}
    return getattr(Client(), method)(url, body, content_type=JSON, **headers, **extra)


def _complete(record, headers) -> None:
    url = f"/api/v1/key-actions/{record['action'].pk}"
    response = _post(url + "/progress-updates", {"status": "Completed", "comment": "Guidance issued.", "evidence_url": PROOF},
                     headers, _etag(url, headers))
    assert response.status_code == 201, response.content[:300]


def _feed(headers) -> list[dict]:
    return Client().get("/api/v1/changes?limit=500", **headers).json()["items"]


def test_verification_lists_what_the_caller_may_verify_and_sends_back_with_a_reason(record, unlimited):
    unit, eo = bearer(record["unit_fp"]), bearer(record["eo"])
    _complete(record, unit)
    pk = record["action"].pk
    url = f"/api/v1/key-actions/{pk}"
    assert [a["id"] for a in Client().get("/api/v1/key-actions/awaiting-verification", **eo).json()["items"]] == [pk]
    # The unit that claimed it, the office's focal point and the public: nothing to verify.
    for headers in (unit, bearer(record["office_fp"]), {}):
        assert Client().get("/api/v1/key-actions/awaiting-verification", **headers).json()["items"] == []
    assert _post(url + "/verification", {"decision": "accept"}, unit, _etag(url, unit)).status_code == 403
    etag = _etag(url, eo)
    no_reason = _post(url + "/verification", {"decision": "send_back"}, eo, etag)
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    sent = _post(url + "/verification", {"decision": "send_back", "reason": "The annex is missing."}, eo, etag)
    assert sent.status_code == 201, sent.content[:300]
    assert sent.json()["decision"] == "sent_back" and sent["ETag"] != etag
    action = KeyAction.objects.get(pk=pk)
    assert (action.status, action.verification) == ("Initiated", "sent_back")
    # Open again, it is no longer to be verified.
    assert _post(url + "/verification", {"decision": "accept"}, eo, sent["ETag"]).status_code == 403
    assert Client().get("/api/v1/key-actions/awaiting-verification", **eo).json()["items"] == []
    models = [c["model"] for c in _feed(eo)]
    assert "verification" in models and models.count("actionupdate") == 2  # the claim, and the reopening


def test_verification_accepted(record, unlimited):
    unit, eo = bearer(record["unit_fp"]), bearer(record["eo"])
    _complete(record, unit)
    url = f"/api/v1/key-actions/{record['action'].pk}"
    etag = _etag(url, eo)
    _complete(record, unit)  # completed again, with more evidence, while the evaluation office looked
    stale = _post(url + "/verification", {"decision": "accept"}, eo, etag)
    assert stale.status_code == 412 and stale.json()["current"]["version"] == KeyAction.objects.get(pk=record["action"].pk).version
    assert ChangeRecord.objects.filter(action="refused", object_id=record["action"].pk, message__startswith="verification refused").exists()
    accepted = _post(url + "/verification", {"decision": "accept"}, eo, stale["ETag"])
    assert accepted.status_code == 201 and accepted.json()["author"] == "eval.office"
    assert Client().get(url, **eo).json()["verification"] == "verified"


def test_a_deadline_moves_only_with_a_reason_and_the_revisions_are_listed(record, unlimited):
    fp, eo = bearer(record["office_fp"]), bearer(record["eo"])
    action = record["action"]
    KeyAction.objects.filter(pk=action.pk).update(deadline=dt.date(2030, 1, 1))
    url = f"/api/v1/key-actions/{action.pk}"
    etag = _etag(url, fp)
    no_reason = _post(url + "/deadline-revisions", {"deadline": "2030-06"}, fp, etag)
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    assert _post(url + "/deadline-revisions", {"deadline": "2030-06", "reason": "x"}, eo, _etag(url, eo)).status_code == 403
    assert _post(url + "/deadline-revisions", {"deadline": "2030-06", "reason": "Late funds."}, fp).status_code == 428
    made = _post(url + "/deadline-revisions", {"deadline": "2030-06-17", "reason": "Late funds."}, fp, etag)
    assert made.status_code == 201, made.content[:300]
    assert made.json()["previous"] == "2030-01-01" and made.json()["deadline"] == "2030-06-01"
    again = _post(url + "/deadline-revisions", {"deadline": "2031-01", "reason": "Later still."}, fp, etag)
    assert again.status_code == 412
    assert ChangeRecord.objects.filter(action="refused", object_id=action.pk, after__reason="Later still.").exists()
    shown = Client().get(url, **fp).json()
    assert (shown["deadline"], shown["first_deadline"]) == ("2030-06-01", "2030-01-01")
    listed = Client().get(url + "/deadline-revisions").json()["items"]  # the public reads the revisions, not who made them
    assert [(r["reason"], r["author"]) for r in listed] == [("Late funds.", None)]
    assert "deadlinerevision" in [c["model"] for c in _feed(eo)]


def test_adoption_is_rated_by_management_and_validated_by_the_evaluation_office(record, unlimited):
    fp, eo = bearer(record["office_fp"]), bearer(record["eo"])
    url = f"/api/v1/recommendations/{record['rec'].pk}"
    rated = _post(url + "/adoption/management", {"rating": "full", "note": "All of it."}, fp, _etag(url, fp), method="put")
    assert rated.status_code == 200, rated.content[:300]
    assert rated.json()["adoption_by_management"] == "full"
    assert _post(url + "/adoption/evaluation-office", {"rating": "partial"}, fp, rated["ETag"], method="put").status_code == 403
    assert _post(url + "/adoption/management", {"rating": "full"}, eo, rated["ETag"], method="put").status_code == 403
    bad = _post(url + "/adoption/evaluation-office", {"rating": "most"}, eo, rated["ETag"], method="put")
    assert bad.status_code == 400 and bad.json()["field"] == "rating"
    validated = _post(url + "/adoption/evaluation-office", {"rating": "partial"}, eo, rated["ETag"], method="put")
    assert validated.status_code == 200
    assert (validated.json()["adoption_by_management"], validated.json()["adoption_validated"]) == ("full", "partial")
    stale = _post(url + "/adoption/management", {"rating": "negligible"}, fp, rated["ETag"], method="put")
    assert stale.status_code == 412 and stale.json()["current"]["adoption_validated"] == "partial"
    assert ChangeRecord.objects.filter(action="refused", object_id=record["rec"].pk, after__rating="negligible").exists()
    assert Recommendation.objects.get(pk=record["rec"].pk).adoption_by_management == "full"
    assert [c["message"] for c in _feed(eo) if c["model"] == "recommendation"] == [
        "adoption of recommendation 1 rated (management)", "adoption of recommendation 1 rated (evaluation office)",
        "adoption rating refused: the recommendation had changed"]


def test_the_outcome_question_is_scheduled_by_the_evaluation_office_and_answered_by_the_unit(record, unlimited):
    unit, eo = bearer(record["unit_fp"]), bearer(record["eo"])
    url = f"/api/v1/key-actions/{record['action'].pk}/outcome-question"
    assert Client().get(url, **eo).status_code == 404
    early = _post(url, {"ask_on": "2020-01-01"}, eo, method="put")
    assert early.status_code == 403  # not Completed yet
    _complete(record, unit)
    assert _post(url, {"ask_on": "2020-01-01"}, unit, method="put").status_code == 403
    scheduled = _post(url, {"ask_on": dt.date.today().isoformat()}, eo, method="put")
    assert scheduled.status_code == 201, scheduled.content[:300]
    assert scheduled.json()["confirmed"] is None and scheduled["ETag"]
    assert _post(url, {"ask_on": dt.date.today().isoformat()}, eo, method="put").status_code == 428
    moved = _post(url, {"ask_on": dt.date.today().isoformat(), "question": "Did stock-outs fall?"}, eo, scheduled["ETag"],
                  method="put")
    assert moved.status_code == 200 and moved.json()["question"] == "Did stock-outs fall?"
    stale = _post(url + "/answer", {"confirmed": True, "answer": "Yes."}, unit, scheduled["ETag"])
    assert stale.status_code == 412 and stale.json()["current"]["question"] == "Did stock-outs fall?"
    assert ChangeRecord.objects.filter(action="refused", message__startswith="outcome answer refused",
                                       evaluation_id=record["approved"].pk).exists()
    no_answer = _post(url + "/answer", {"confirmed": True}, unit, moved["ETag"])
    assert no_answer.status_code == 400 and no_answer.json()["field"] == "answer"
    answered = _post(url + "/answer", {"confirmed": True, "answer": "Stock-outs halved."}, unit, moved["ETag"])
    assert answered.status_code == 200 and answered.json()["confirmed"] is True
    assert Client().get(url).json()["answered_by"] is None  # the public reads the answer, not who gave it
    assert [c["action"] for c in _feed(eo) if c["model"] == "outcomequestion"] == ["create", "update", "refused", "update"]


def test_moving_a_completed_action_back_needs_a_reason_kept_on_the_timeline(record, unlimited):
    unit = bearer(record["unit_fp"])
    _complete(record, unit)
    url = f"/api/v1/key-actions/{record['action'].pk}"
    etag = _etag(url, unit)
    refused = _post(url + "/progress-updates", {"status": "Initiated", "comment": "More to do."}, unit, etag)
    assert refused.status_code == 400 and refused.json()["field"] == "reopen_reason"
    assert KeyAction.objects.get(pk=record["action"].pk).status == "Completed"
    made = _post(url + "/progress-updates", {"status": "Initiated", "reopen_reason": "The audit found gaps."}, unit, etag)
    assert made.status_code == 201 and made.json()["reopen_reason"] == "The audit found gaps."
    update = ActionUpdate.objects.get(pk=made.json()["id"])
    assert ChangeRecord.objects.get(object_id=update.pk, action="create", content_type__model="actionupdate").after[
        "reopen_reason"] == "The audit found gaps."
    # Not asked when the action was not Completed.
    again = _post(url + "/progress-updates", {"status": "Not Initiated", "comment": "Paused."}, unit, made["ETag"])
    assert again.status_code == 201 and again.json()["reopen_reason"] == ""
    page = Client().get(f"/actions/{record['action'].pk}/").content.decode()
    assert "Reason for reopening" in page and "The audit found gaps." in page
