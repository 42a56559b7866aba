"""The API's read and write matrices: every endpoint × every role × in and out of scope, generated.

The same fixture world and the same rules, written independently, as the
pages' matrix (tests/web/test_read_matrix.py): offices A and C in region
One, B in region Two, a record in each response status in each office, each
text a marker. Reads: every list shows exactly the markers the rules allow,
every detail answers 200 or 404 accordingly, and who reported and internal
evidence go to people with a role only. Writes: every write endpoint, for
every role, on a record of office A and of office B: done by those the
rules allow, 403 for the others who read the record, 404 for those who do
not; each write rolled back after. The last test holds the matrices to the
API's routes, so a new endpoint must be added here.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction

from tests.web.test_read_matrix import (
    INTERNAL,
    OFFICES,
    OTHER_HISTORY,
    RECORDS,
    REGION_OF,
    ROLES,
    STATUSES,
    client_for,
    found,
    mark,
    marks,
    readable,
    reads,
)
from tracking.models import (
    ActionUpdate,
    KeyAction,
    ManagementResponse,
    Office,
    OutcomeQuestion,
    Recommendation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _unlimited(settings):
    settings.API_TOKEN_RATE = (10**9, 60)
    settings.API_ADDRESS_RATE = (10**9, 60)


def _all(client, url: str) -> str:
    """Every page of a list, as one text."""
    texts, cursor = [], ""
    while True:
        response = client.get(url + ("&" if "?" in url else "?") + "limit=500" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, (url, response.status_code)
        body = response.json()
        texts.append(json.dumps(body["items"]))
        cursor = body["next"]
        if not cursor:
            return "\n".join(texts)


# --- reads ---------------------------------------------------------------------------------------------------

LISTS = {
    "/api/v1/evaluations": ("EV", lambda role: marks("EV", readable(role))),
    "/api/v1/recommendations": ("REC", lambda role: marks("REC", readable(role))),
    "/api/v1/key-actions": ("KA", lambda role: marks("KA", readable(role))),
    "/api/v1/progress-updates": ("UPD", lambda role: marks("UPD", readable(role), ("PUBLIC", "INTERNAL"))),
    "/api/v1/history": ("CR", lambda role: marks("CR", readable(role)) if role in INTERNAL else set()),
    "/api/v1/changes": ("CR", lambda role: marks("CR", readable(role)) if role in INTERNAL else set()),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_list_shows_what_the_rules_allow(world, role):
    client = client_for(world, role)
    for url, (kind, expected) in LISTS.items():
        text = _all(client, url) if url != "/api/v1/changes" else json.dumps(client.get(url + "?limit=500").json()["items"])
        assert found(text, kind) == expected(role), f"{url} as {role}"
        if kind == "CR":
            for name, readers in OTHER_HISTORY.items():
                assert (name in text) == (role in readers), f"{url}: {name} as {role}"
    # The management responses: by the evaluation they answer.
    responses = {r["evaluation_id"] for r in json.loads(_all(client, "/api/v1/management-responses"))}
    assert responses == {world.ev[k] for k in readable(role)}
    # Evidence marked internal and who reported: people with a role.
    updates = _all(client, "/api/v1/progress-updates")
    assert (found(updates, "EVID") == marks("EVID", readable(role), ("PUBLIC", "INTERNAL") if role in INTERNAL else ("PUBLIC",)))
    assert ("author.zq" in updates) == (role in INTERNAL and bool(readable(role)))
    # Filters narrow what is read, never widen it.
    for office in OFFICES:
        pk = Office.objects.get(slug=world.office_slug[office]).pk
        assert found(_all(client, f"/api/v1/key-actions?office={pk}"), "KA") == {
            mark("KA", o, s) for o, s in readable(role) if o == office}
    # Reference data is public.
    names = _all(client, "/api/v1/offices")
    assert all(f"Office {o}" in names for o in OFFICES)


@pytest.mark.parametrize("role", ROLES)
def test_every_detail_answers_as_the_rules_allow(world, role):
    client = client_for(world, role)
    for office, status in RECORDS:
        key = (office, status)
        visible = reads(role, office, status)
        for url in (f"/api/v1/evaluations/{world.ev[key]}", f"/api/v1/evaluations/{world.ev[key]}/document",
                    f"/api/v1/management-responses/{world.resp[key]}",
                    f"/api/v1/recommendations/{world.rec[key]}", f"/api/v1/key-actions/{world.act[key]}",
                    f"/api/v1/progress-updates/{world.update[office, status, 'PUBLIC']}",
                    f"/api/v1/progress-updates/{world.update[office, status, 'INTERNAL']}"):
            response = client.get(url)
            assert response.status_code == (200 if visible else 404), f"{url} ({office}, {status}) as {role}"
            if visible and not url.endswith("/document"):
                assert response["ETag"]
        internal = client.get(f"/api/v1/progress-updates/{world.update[office, status, 'INTERNAL']}")
        if visible:
            assert (internal.json()["evidence_url"] is not None) == (role in INTERNAL)
    first_history = client.get("/api/v1/history?limit=1")
    assert first_history.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_the_accountability_reads_answer_as_the_rules_allow(world, role):
    """Completions awaiting verification (those the caller may verify), deadline revisions, outcome questions."""
    client = client_for(world, role)
    with transaction.atomic():
        for office in OFFICES:
            action = _completed(world, office)
            action.deadline_revisions.create(previous=None, deadline=dt.date(2031, 1, 1), reason=f"REV-{office}",
                                             author_name="author.zq")
            OutcomeQuestion.objects.create(key_action=action, question=f"OQ-{office}", ask_on=dt.date(2024, 2, 1),
                                           asked_by_name="author.zq")
        awaiting = json.dumps(client.get("/api/v1/key-actions/awaiting-verification?limit=500").json()["items"])
        assert found(awaiting, "KA") == {mark("KA", o, "Approved") for o in OFFICES if _verifies(role, o)}, role
        for office, status in RECORDS:
            key = (office, status)
            visible = reads(role, office, status)
            revisions = client.get(f"/api/v1/key-actions/{world.act[key]}/deadline-revisions")
            question = client.get(f"/api/v1/key-actions/{world.act[key]}/outcome-question")
            if not visible:
                assert (revisions.status_code, question.status_code) == (404, 404), (key, role)
            elif status == "Approved":
                assert [r["reason"] for r in revisions.json()["items"]] == [f"REV-{office}"]
                assert question.json()["question"] == f"OQ-{office}" and question["ETag"]
                # Who revised or asked: people with a role.
                assert (revisions.json()["items"][0]["author"] is not None) == (role in INTERNAL)
                assert (question.json()["asked_by"] is not None) == (role in INTERNAL)
            else:
                assert revisions.json()["items"] == [] and question.status_code == 404
        transaction.set_rollback(True)


# --- writes ----------------------------------------------------------------------------------------------------


def _in_scope_of_review(role: str, office: str) -> bool:
    return role in ("su", "eo") or (role == "eo_r1" and REGION_OF[office] == "One") or (role == "eo_b" and office == "B")


def _drafts(role: str, office: str) -> bool:
    return role == "su" or (role == "fp_a" and office == "A")


def _reports(role: str, office: str) -> bool:
    return role == "su" or (role in ("fp_a", "ufp_ua") and office == "A")


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof", content_type="application/pdf")


def _tag(kind: str, row) -> str:
    return f'"{kind}-{row.pk}-v{row.version}"'


def _completed(w, o, verification: str = "awaiting") -> KeyAction:
    """The approved response's key action, Completed (set up inside the write's transaction, rolled back after)."""
    KeyAction.objects.filter(pk=w.act[o, "Approved"]).update(
        status="Completed", verification=verification, completed_on=dt.date(2024, 1, 1))
    return KeyAction.objects.get(pk=w.act[o, "Approved"])


def _asked(w, o) -> OutcomeQuestion:
    action = _completed(w, o, "verified")
    return OutcomeQuestion.objects.create(key_action=action, question="Did it change?", ask_on=dt.date(2024, 2, 1))


def _verifies(role: str, office: str) -> bool:
    # The evaluation office of the action's office; none of the roles here is a focal point of an office it reviews.
    return _in_scope_of_review(role, office)


# name: (status of the record written to, who may, (world, office) -> (method, url, body, If-Match))
WRITES = {
    "evaluation_create": (None, _in_scope_of_review, lambda w, o: (
        "post", "/api/v1/evaluations",
        {"office_id": Office.objects.get(slug=w.office_slug[o]).pk, "start_year": 2030, "end_year": 2031, "title": "New"}, None)),
    "response_update": ("Draft", _drafts, lambda w, o: (
        "patch", f"/api/v1/management-responses/{w.resp[o, 'Draft']}", {"overall_response": "Agreed."},
        _tag("response", ManagementResponse.objects.get(pk=w.resp[o, "Draft"])))),
    "response_submit": ("Draft", _drafts, lambda w, o: (
        "post", f"/api/v1/management-responses/{w.resp[o, 'Draft']}/submit", None,
        _tag("response", ManagementResponse.objects.get(pk=w.resp[o, "Draft"])))),
    "response_approve": ("Submitted", _in_scope_of_review, lambda w, o: (
        "post", f"/api/v1/management-responses/{w.resp[o, 'Submitted']}/approve", None,
        _tag("response", ManagementResponse.objects.get(pk=w.resp[o, "Submitted"])))),
    "response_return": ("Submitted", _in_scope_of_review, lambda w, o: (
        "post", f"/api/v1/management-responses/{w.resp[o, 'Submitted']}/return", {"reason": "More detail."},
        _tag("response", ManagementResponse.objects.get(pk=w.resp[o, "Submitted"])))),
    "recommendation_add": ("Returned", _drafts, lambda w, o: (
        "post", f"/api/v1/management-responses/{w.resp[o, 'Returned']}/recommendations", {"number": "9", "text": "More."}, None)),
    "recommendation_update": ("Draft", _drafts, lambda w, o: (
        "patch", f"/api/v1/recommendations/{w.rec[o, 'Draft']}", {"text": "Changed."},
        _tag("recommendation", Recommendation.objects.get(pk=w.rec[o, "Draft"])))),
    "recommendation_delete": ("Draft", _drafts, lambda w, o: (
        "delete", f"/api/v1/recommendations/{w.rec[o, 'Draft']}", None,
        _tag("recommendation", Recommendation.objects.get(pk=w.rec[o, "Draft"])))),
    "key_action_add": ("Draft", _drafts, lambda w, o: (
        "post", f"/api/v1/recommendations/{w.rec[o, 'Draft']}/key-actions", {"number": "1.9", "text": "More."}, None)),
    "key_action_update": ("Returned", _drafts, lambda w, o: (
        "patch", f"/api/v1/key-actions/{w.act[o, 'Returned']}", {"text": "Changed."},
        _tag("keyaction", KeyAction.objects.get(pk=w.act[o, "Returned"])))),
    "key_action_delete": ("Draft", _drafts, lambda w, o: (
        "delete", f"/api/v1/key-actions/{w.act[o, 'Draft']}", None, _tag("keyaction", KeyAction.objects.get(pk=w.act[o, "Draft"])))),
    "progress_add_with_file": ("Approved", _reports, lambda w, o: (
        "post", f"/api/v1/key-actions/{w.act[o, 'Approved']}/progress-updates/with-file",
        {"multipart": {"status": "Initiated", "evidence_file": _pdf()}},
        _tag("keyaction", KeyAction.objects.get(pk=w.act[o, "Approved"])))),
    # Importing is for the evaluation office (each document then by its office's scope, in the importer).
    "import_documents": (None, lambda role, office: role in ("su", "eo", "eo_r1", "eo_b"), lambda w, o: (
        "post", "/api/v1/imports?dry_run=true", {"documents": [{"source": "x", "text": "not a document"}]}, None)),
    "progress_add": ("Approved", _reports, lambda w, o: (
        "post", f"/api/v1/key-actions/{w.act[o, 'Approved']}/progress-updates", {"status": "Completed", "comment": "Done.", "evidence_url": "https://example.org/done.pdf"},
        _tag("keyaction", KeyAction.objects.get(pk=w.act[o, "Approved"])))),
    "verify": ("Approved", _verifies, lambda w, o: (
        "post", f"/api/v1/key-actions/{w.act[o, 'Approved']}/verification", {"decision": "send_back", "reason": "No annex."},
        _tag("keyaction", _completed(w, o)))),
    "deadline_revise": ("Approved", _reports, lambda w, o: (
        "post", f"/api/v1/key-actions/{w.act[o, 'Approved']}/deadline-revisions", {"deadline": "2031-07", "reason": "Funds late."},
        _tag("keyaction", KeyAction.objects.get(pk=w.act[o, "Approved"])))),
    "adoption_by_management": ("Approved", _drafts, lambda w, o: (
        "put", f"/api/v1/recommendations/{w.rec[o, 'Approved']}/adoption/management", {"rating": "full"},
        _tag("recommendation", Recommendation.objects.get(pk=w.rec[o, "Approved"])))),
    "adoption_validated": ("Approved", _in_scope_of_review, lambda w, o: (
        "put", f"/api/v1/recommendations/{w.rec[o, 'Approved']}/adoption/evaluation-office", {"rating": "partial"},
        _tag("recommendation", Recommendation.objects.get(pk=w.rec[o, "Approved"])))),
    "outcome_schedule": ("Approved", _in_scope_of_review, lambda w, o: (
        "put", f"/api/v1/key-actions/{_completed(w, o, 'verified').pk}/outcome-question", {"ask_on": "2024-06-01"}, None)),
    "outcome_answer": ("Approved", _reports, lambda w, o: (
        "post", f"/api/v1/key-actions/{w.act[o, 'Approved']}/outcome-question/answer", {"confirmed": True, "answer": "Yes."},
        _tag("outcome", _asked(w, o)))),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("office", ["A", "B"])
def test_every_write_is_done_by_those_the_rules_allow_and_refused_to_the_others(world, role, office, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(world, role)
    for name, (status, may, request) in WRITES.items():
        with transaction.atomic():
            if name == "response_submit":  # the submission checks ask for an overall response (rolled back below)
                ManagementResponse.objects.filter(pk=world.resp[office, "Draft"]).update(overall_response="Accepted.")
            method, url, body, if_match = request(world, office)
            extra = {"HTTP_IF_MATCH": if_match} if if_match else {}
            if body and "multipart" in body:
                response = client.post(url, body["multipart"], **extra)
            else:
                response = getattr(client, method)(url, json.dumps(body) if body is not None else None,
                                                   content_type="application/json", **extra)
            if may(role, office):
                expected = {200, 201, 204}
            elif status is None or reads(role, office, status):
                expected = {403}
            else:
                expected = {404}
            assert response.status_code in expected, f"{name} on office {office} as {role}: {response.status_code} {response.content[:200]}"
            if response.status_code == 201 and name == "progress_add":
                assert ActionUpdate.objects.filter(key_action_id=world.act[office, "Approved"], source="api").exists()
            transaction.set_rollback(True)


def test_the_matrices_cover_every_endpoint_of_the_api(client):
    from api.v1 import api

    covered_reads = {p for p in LISTS} | {
        "/api/v1/management-responses", "/api/v1/offices", "/api/v1/evaluations/{pk}", "/api/v1/management-responses/{pk}",
        "/api/v1/recommendations/{pk}", "/api/v1/key-actions/{pk}", "/api/v1/progress-updates/{pk}", "/api/v1/history",
        "/api/v1/evaluations/{pk}/document", "/api/v1/key-actions/awaiting-verification",
        "/api/v1/key-actions/{pk}/deadline-revisions", "/api/v1/key-actions/{pk}/outcome-question",
    }
    # Reference data is public (the same for every reader): tests/api/test_api.py and the schema test read it.
    reference = {"/api/v1/regions", "/api/v1/regions/{pk}", "/api/v1/offices/{pk}", "/api/v1/units", "/api/v1/units/{pk}",
                 "/api/v1/plans", "/api/v1/plans/{pk}", "/api/v1/history/{pk}"}
    writes = set(WRITES)
    routes_get, routes_write = set(), set()
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                full = "/api/v1" + prefix + path.replace("{int:pk}", "{pk}")
                if "GET" in op.methods:
                    routes_get.add(full)
                else:
                    routes_write.add(op.view_func.__name__)
    assert routes_get == covered_reads | reference
    assert routes_write == writes
    assert {s for s in STATUSES} and RECORDS
