"""The API's behaviour: tokens, the public record, CSRF, throttling, ETags and If-Match, errors, feeds, docs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from api.models import ApiToken, hash_token
from tests.api.conftest import bearer
from tracking.models import ActionUpdate, ChangeRecord, KeyAction

pytestmark = pytest.mark.django_db
User = get_user_model()
JSON = "application/json"


def _error_shape(response, status: int, code: str | None = None, field: str | None = "any"):
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) >= {"code", "message", "field"} and body["message"], body
    if code:
        assert body["code"] == code, body
    if field != "any":
        assert body["field"] == field, body
    return body


# --- tokens -------------------------------------------------------------------------------------------


def test_a_token_is_stored_hashed_and_shown_once(record, unlimited):
    client = Client()
    client.force_login(record["unit_fp"])
    page = client.post("/accounts/tokens/", {"name": "results framework", "expires": "30", "read_only": ""})
    assert page.status_code == 200
    raw = re.search(r"ft_[\w-]{20,}", page.content.decode()).group(0)
    token = ApiToken.objects.get(user=record["unit_fp"])
    assert token.key_hash == hash_token(raw) and raw not in (token.key_hash, token.hint)
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    # Listed afterwards without the secret.
    listing = client.get("/accounts/tokens/").content.decode()
    assert "results framework" in listing and raw not in listing and token.hint in listing
    assert token.last_used_at is None
    assert Client().get("/api/v1/key-actions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_expired_revoked_and_unknown_tokens_are_refused_not_taken_for_anonymous(record, unlimited):
    user = record["unit_fp"]
    expired = bearer(user, expires_at=timezone.now() - dt.timedelta(seconds=1))
    _error_shape(Client().get("/api/v1/regions", **expired), 401, "unauthenticated", "Authorization")
    revoked_headers = bearer(user)
    token = ApiToken.objects.order_by("-id").first()
    client = Client()
    client.force_login(user)
    client.post("/accounts/tokens/", {"revoke": str(token.pk)})
    token.refresh_from_db()
    assert token.revoked_at is not None
    _error_shape(Client().get("/api/v1/regions", **revoked_headers), 401, "unauthenticated")
    _error_shape(Client().get("/api/v1/regions", HTTP_AUTHORIZATION="Bearer ft_nope"), 401, "unauthenticated")
    _error_shape(Client().get("/api/v1/regions", HTTP_AUTHORIZATION="Basic abc"), 401, "unauthenticated")
    # Someone else's token cannot be revoked by posting its id.
    other = bearer(record["eo"])
    theirs = ApiToken.objects.order_by("-id").first()
    client.post("/accounts/tokens/", {"revoke": str(theirs.pk)})
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and Client().get("/api/v1/regions", **other).status_code == 200
    # An account made inactive: its tokens stop working.
    record["eo"].is_active = False
    record["eo"].save()
    _error_shape(Client().get("/api/v1/regions", **other), 401)


def test_a_read_only_token_changes_nothing(record, unlimited):
    action = record["action"]
    headers = bearer(record["unit_fp"], read_only=True)
    etag = Client().get(f"/api/v1/key-actions/{action.pk}", **headers)["ETag"]
    response = Client().post(f"/api/v1/key-actions/{action.pk}/progress-updates", {"status": "Initiated"},
                             content_type=JSON, HTTP_IF_MATCH=etag, **headers)
    _error_shape(response, 403, "read_only")
    assert not ActionUpdate.objects.filter(key_action=action).exists()


# --- the new user's way: a token from the profile page updates a key action; the web timeline shows it ----------------


def test_a_token_made_on_the_profile_page_updates_a_key_action_shown_on_the_web_timeline(record, unlimited):
    browser = Client()
    browser.force_login(record["unit_fp"])
    raw = re.search(r"ft_[\w-]{20,}", browser.post("/accounts/tokens/", {"name": "curl", "expires": "90"}).content.decode()).group(0)
    action = record["action"]
    curl = Client()  # no session, no cookies: what curl sends
    got = curl.get(f"/api/v1/key-actions/{action.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert got.status_code == 200 and got.json()["status"] == "Not Initiated"
    response = curl.post(
        f"/api/v1/key-actions/{action.pk}/progress-updates",
        {"status": "Initiated", "comment": "Consultant hired (sent through the API).", "evidence_url": "example.org/tor.pdf"},
        content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_IF_MATCH=got["ETag"],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status_after"] == "Initiated" and body["evidence_url"] == "https://example.org/tor.pdf"
    assert body["author"] == "unit.fp"
    assert response["ETag"] != got["ETag"]
    update = ActionUpdate.objects.get(pk=body["id"])
    assert update.source == "api" and update.author == record["unit_fp"]
    assert KeyAction.objects.get(pk=action.pk).status == "Initiated"
    timeline = Client().get(f"/actions/{action.pk}/").content.decode()
    assert "Consultant hired (sent through the API)." in timeline
    assert ChangeRecord.objects.filter(source="api", object_id=update.pk).exists()


# --- reading rules ------------------------------------------------------------------------------------------


def test_anonymous_reads_the_public_record_only(record, unlimited):
    client = Client()
    titles = {e["title"] for e in client.get("/api/v1/evaluations").json()["items"]}
    assert titles == {"Approved evaluation"}
    _error_shape(client.get(f"/api/v1/evaluations/{record['draft'].pk}"), 404, "not_found")
    _error_shape(client.get(f"/api/v1/key-actions/{record['draft_action'].pk}"), 404)
    assert client.get("/api/v1/history").json()["items"] == []
    signed = Client()
    signed.force_login(record["office_fp"])
    assert {e["title"] for e in signed.get("/api/v1/evaluations").json()["items"]} == {"Approved evaluation", "Draft evaluation"}


def test_who_reported_and_internal_evidence_are_for_people_with_a_role(record, unlimited):
    action = record["action"]
    ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment="inside", author_name="someone",
                                evidence_url="https://example.org/internal", evidence_internal=True)
    public = Client().get("/api/v1/progress-updates").json()["items"][0]
    assert public["author"] is None and public["evidence_url"] is None and public["evidence_internal"] is None
    inside = Client().get("/api/v1/progress-updates", **bearer(record["unit_fp"])).json()["items"][0]
    assert inside["author"] == "someone" and inside["evidence_url"] == "https://example.org/internal"


def test_lists_page_by_cursor_in_a_stable_order(record, unlimited):
    ids = [r["id"] for r in Client().get("/api/v1/units?limit=500").json()["items"]]
    seen, cursor = [], ""
    while True:
        page = Client().get(f"/api/v1/regions?limit=1{'&cursor=' + cursor if cursor else ''}").json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 1
    assert ids == sorted(ids)
    _error_shape(Client().get("/api/v1/regions?cursor=%%%"), 400, "invalid", "cursor")


def test_list_filters_are_the_pages(record, unlimited):
    other = record["unit_fp"]
    rows = Client().get(f"/api/v1/key-actions?unit={record['unit'].pk}", **bearer(other)).json()["items"]
    assert [r["id"] for r in rows] == [record["action"].pk]
    assert Client().get("/api/v1/key-actions?status=Completed").json()["items"] == []
    mine = Client().get("/api/v1/key-actions?mine=true", **bearer(other)).json()["items"]
    assert [r["id"] for r in mine] == [record["action"].pk]  # not the draft's (progress is on approved responses)
    assert Client().get("/api/v1/key-actions?mine=true").json()["items"] == []


# --- concurrency ------------------------------------------------------------------------------------------


def test_writes_take_if_match_and_a_stale_one_is_refused_and_recorded(record, unlimited):
    action = record["action"]
    headers = bearer(record["unit_fp"])
    first = Client().get(f"/api/v1/key-actions/{action.pk}", **headers)
    etag = first["ETag"]
    assert Client().get(f"/api/v1/key-actions/{action.pk}", HTTP_IF_NONE_MATCH=etag, **headers).status_code == 304
    url = f"/api/v1/key-actions/{action.pk}/progress-updates"
    _error_shape(Client().post(url, {"status": "Initiated"}, content_type=JSON, **headers), 428, "precondition_required", "If-Match")
    ok = Client().post(url, {"status": "Initiated", "comment": "first"}, content_type=JSON, HTTP_IF_MATCH=etag, **headers)
    assert ok.status_code == 201
    stale = Client().post(url, {"status": "Completed", "comment": "second, from an old copy", "evidence_url": "https://example.org/b.pdf"}, content_type=JSON,
                          HTTP_IF_MATCH=etag, **headers)
    body = _error_shape(stale, 412, "stale", "If-Match")
    assert body["current"]["status"] == "Initiated" and body["etag"] == stale["ETag"] == ok["ETag"]
    refused = ChangeRecord.objects.get(action=ChangeRecord.Action.REFUSED, object_id=action.pk)
    assert refused.after["comment"] == "second, from an old copy" and refused.source == "api"
    assert KeyAction.objects.get(pk=action.pk).status == "Initiated"
    # An ETag of another record is not a version of this one.
    other = Client().get(f"/api/v1/key-actions/{record['draft_action'].pk}", **bearer(record["office_fp"]))["ETag"]
    _error_shape(Client().post(url, {"status": "Completed", "comment": "x", "evidence_url": "https://example.org/x.pdf"}, content_type=JSON, HTTP_IF_MATCH=other, **headers), 412)


def test_session_writes_keep_csrf(record, unlimited):
    action = record["action"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(record["unit_fp"])
    got = client.get(f"/api/v1/key-actions/{action.pk}")
    assert got.status_code == 200
    url = f"/api/v1/key-actions/{action.pk}/progress-updates"
    _error_shape(client.post(url, {"status": "Initiated"}, content_type=JSON, HTTP_IF_MATCH=got["ETag"]), 403, "csrf")
    client.get("/accounts/tokens/")  # a page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(url, {"status": "Initiated"}, content_type=JSON, HTTP_IF_MATCH=got["ETag"], HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "Done"}, "status"),
        ({"status": "Completed", "comment": ""}, "comment"),
        ({"status": "Initiated", "evidence_url": "javascript:alert(1)"}, "evidence_url"),
        ({"status": 3}, "status"),
        ({"status": "Initiated", "comment": "a\x00b"}, "comment"),
        ({}, "status"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(record, unlimited, body, field):
    action = record["action"]
    headers = bearer(record["unit_fp"])
    etag = Client().get(f"/api/v1/key-actions/{action.pk}", **headers)["ETag"]
    response = Client().post(f"/api/v1/key-actions/{action.pk}/progress-updates", body, content_type=JSON, HTTP_IF_MATCH=etag, **headers)
    _error_shape(response, 400, "invalid", field)
    assert not ActionUpdate.objects.filter(key_action=action).exists()


def test_malformed_json_and_permissions_are_4xx(record, unlimited):
    action = record["action"]
    headers = bearer(record["eo"])
    etag = Client().get(f"/api/v1/key-actions/{action.pk}", **headers)["ETag"]
    url = f"/api/v1/key-actions/{action.pk}/progress-updates"
    assert Client().post(url, "{not json", content_type=JSON, HTTP_IF_MATCH=etag, **headers).status_code == 400
    # The evaluation office reads the action but does not report on it.
    _error_shape(Client().post(url, {"status": "Initiated"}, content_type=JSON, HTTP_IF_MATCH=etag, **headers), 403, "forbidden")
    _error_shape(Client().get("/api/v1/regions?limit=0"), 400, "invalid", "limit")
    _error_shape(Client().get("/api/v1/regions?cursor=%00"), 400, "invalid")


# --- throttling --------------------------------------------------------------------------------------------------


def test_requests_are_throttled_per_token_and_per_address_with_retry_after(record, settings):
    settings.API_TOKEN_RATE = (2, 60)
    settings.API_ADDRESS_RATE = (5, 60)
    headers = bearer(record["unit_fp"])
    assert [Client().get("/api/v1/regions", **headers).status_code for _ in range(2)] == [200, 200]
    over = Client().get("/api/v1/regions", **headers)
    _error_shape(over, 429, "throttled")
    assert 1 <= int(over["Retry-After"]) <= 60
    # Another token has its own count; the address counts them all.
    other = bearer(record["eo"])
    assert Client().get("/api/v1/regions", **other).status_code == 200
    assert Client().get("/api/v1/regions", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert Client().get("/api/v1/regions").status_code == 200
    _error_shape(Client().get("/api/v1/regions"), 429, "throttled")
    assert Client().get("/api/v1/regions", REMOTE_ADDR="192.0.2.9").status_code == 200
    # Guessing tokens counts against the address too.
    guesses = [Client().get("/api/v1/regions", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION=f"Bearer ft_guess{i}").status_code
               for i in range(6)]
    assert guesses == [401] * 5 + [429]


# --- the workflow through the API ------------------------------------------------------------------------------


def test_drafting_submitting_and_approving_through_the_api(record, unlimited):
    eo, fp = bearer(record["eo"]), bearer(record["office_fp"])
    made = Client().post("/api/v1/evaluations", {"office_id": record["office"].pk, "start_year": 2024, "end_year": 2025,
                                                  "title": "Made through the API"}, content_type=JSON, **eo)
    assert made.status_code == 201, made.content
    response_id = made.json()["management_response_id"]
    _error_shape(Client().post("/api/v1/evaluations", {"office_id": record["office"].pk, "start_year": 2024, "end_year": 2025,
                                                       "title": "Not mine to make"}, content_type=JSON, **fp), 403)
    rec = Client().post(f"/api/v1/management-responses/{response_id}/recommendations",
                        {"number": "1", "text": "Do better."}, content_type=JSON, **fp)
    assert rec.status_code == 201, rec.content
    ka = Client().post(f"/api/v1/recommendations/{rec.json()['id']}/key-actions",
                       {"number": "1.1", "text": "A plan.", "deadline": "2030-06", "units": [record["unit"].pk]},
                       content_type=JSON, **fp)
    assert ka.status_code == 201, ka.content
    assert ka.json()["deadline"] == "2030-06-01" and ka.json()["units"] == [record["unit"].pk]
    patched = Client().patch(f"/api/v1/key-actions/{ka.json()['id']}", {"text": "A better plan."}, content_type=JSON,
                             HTTP_IF_MATCH=ka["ETag"], **fp)
    assert patched.status_code == 200 and patched.json()["text"] == "A better plan." and patched.json()["number"] == "1.1"
    etag = Client().get(f"/api/v1/management-responses/{response_id}", **fp)["ETag"]
    # Not ready: the submission checks name what is missing.
    _error_shape(Client().post(f"/api/v1/management-responses/{response_id}/submit", HTTP_IF_MATCH=etag, **fp), 400, "invalid")
    header = Client().patch(f"/api/v1/management-responses/{response_id}", {"overall_response": "Accepted.", "units": []},
                            content_type=JSON, HTTP_IF_MATCH=etag, **fp)
    assert header.status_code == 200, header.content
    submitted = Client().post(f"/api/v1/management-responses/{response_id}/submit", HTTP_IF_MATCH=header["ETag"], **fp)
    assert submitted.status_code == 200 and submitted.json()["status"] == "Submitted"
    _error_shape(Client().post(f"/api/v1/management-responses/{response_id}/approve", HTTP_IF_MATCH=submitted["ETag"], **fp), 403)
    returned = Client().post(f"/api/v1/management-responses/{response_id}/return", {"reason": ""}, content_type=JSON,
                             HTTP_IF_MATCH=submitted["ETag"], **eo)
    _error_shape(returned, 400, "invalid", "reason")
    approved = Client().post(f"/api/v1/management-responses/{response_id}/approve", HTTP_IF_MATCH=submitted["ETag"], **eo)
    assert approved.status_code == 200 and approved.json()["status"] == "Approved"
    # Approved: locked for drafting (progress updates only).
    action = Client().get(f"/api/v1/key-actions/{ka.json()['id']}", **fp)
    _error_shape(Client().patch(f"/api/v1/key-actions/{ka.json()['id']}", {"text": "late"}, content_type=JSON,
                                HTTP_IF_MATCH=action["ETag"], **fp), 403)
    _error_shape(Client().delete(f"/api/v1/key-actions/{ka.json()['id']}", HTTP_IF_MATCH=action["ETag"], **fp), 403)


# --- the changes feed, the Atom feeds, the docs page -------------------------------------------------------------


def test_the_changes_feed_gives_what_the_caller_reads_in_order(record, unlimited):
    fp = bearer(record["office_fp"])
    draft_response = record["draft"].management_response
    etag = Client().get(f"/api/v1/management-responses/{draft_response.pk}", **fp)["ETag"]
    Client().patch(f"/api/v1/management-responses/{draft_response.pk}", {"overall_response": "Agreed."}, content_type=JSON,
                   HTTP_IF_MATCH=etag, **fp)
    ka = Client().get(f"/api/v1/key-actions/{record['action'].pk}", **fp)
    Client().post(f"/api/v1/key-actions/{record['action'].pk}/progress-updates", {"status": "Initiated"}, content_type=JSON,
                  HTTP_IF_MATCH=ka["ETag"], **fp)
    feed = Client().get("/api/v1/changes", **fp).json()
    ids = [c["id"] for c in feed["items"]]
    assert ids == sorted(ids) and len(ids) == 3
    assert [c["model"] for c in feed["items"]] == ["managementresponse", "actionupdate", "keyaction"]
    assert Client().get(f"/api/v1/changes?since={feed['next']}", **fp).json() == {"items": [], "next": feed["next"]}
    # The public reads no history; a unit focal point of another office reads no draft's.
    assert Client().get("/api/v1/changes").json()["items"] == []
    from tests.tracking.factories import make_office
    from tracking.models import Role, RoleAssignment, Unit

    elsewhere = User.objects.create(username="elsewhere")
    RoleAssignment.objects.create(user=elsewhere, role=Role.UNIT_FOCAL_POINT, unit=Unit.objects.create(office=make_office(), name="U"))
    models = [c["model"] for c in Client().get("/api/v1/changes", **bearer(elsewhere)).json()["items"]]
    assert models == ["actionupdate", "keyaction"]  # the approved evaluation's, not the draft's


def test_atom_feeds_carry_the_public_record_only(record, unlimited):
    action = record["action"]
    ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment="Public step.", author_name="secret.author",
                                evidence_url="https://example.org/open")
    ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment="Still public.", author_name="secret.author",
                                evidence_url="https://example.org/closed-evidence", evidence_internal=True)
    draft_action = record["draft_action"]
    ActionUpdate.objects.create(key_action=draft_action, status_after="Initiated", comment="Draft step.")
    for url in (f"/api/feeds/offices/{record['office'].slug}.atom", f"/api/feeds/regions/{record['office'].region.slug}.atom",
                f"/api/feeds/evaluations/{record['approved'].pk}.atom"):
        response = Client().get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml"), url
        text = response.content.decode()
        assert "Public step." in text and "https://example.org/open" in text and "Still public." in text
        assert "Draft step." not in text and "closed-evidence" not in text and "secret.author" not in text
    assert Client().get(f"/api/feeds/evaluations/{record['draft'].pk}.atom").status_code == 404


def test_the_docs_page_uses_the_apps_own_files_under_the_strict_policy(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))", html)
    policy = page["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy
    from django.contrib.staticfiles import finders

    for s in sources:
        assert finders.find(s.removeprefix("/static/")), f"{s} is not one of the app's static files"
    assert client.get("/api/v1/openapi.json").json()["openapi"].startswith("3.")


def test_evidence_files_go_up_as_multipart_with_the_web_forms_rules(record, unlimited, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    action = record["action"]
    headers = bearer(record["unit_fp"])
    url = f"/api/v1/key-actions/{action.pk}/progress-updates/with-file"
    etag = Client().get(f"/api/v1/key-actions/{action.pk}", **headers)["ETag"]
    bad = Client().post(url, {"status": "Initiated", "evidence_file": SimpleUploadedFile("run.exe", b"MZ")}, HTTP_IF_MATCH=etag, **headers)
    _error_shape(bad, 400, "invalid", "evidence_file")
    ok = Client().post(url, {"status": "Initiated", "comment": "Report attached.", "evidence_internal": "true",
                             "evidence_file": SimpleUploadedFile("report.pdf", b"%PDF-1.4 report")}, HTTP_IF_MATCH=etag, **headers)
    assert ok.status_code == 201, ok.content
    body = ok.json()
    assert body["evidence_file"] == f"/updates/{body['id']}/evidence/" and body["evidence_internal"] is True
    assert ActionUpdate.objects.get(pk=body["id"]).evidence_file.read() == b"%PDF-1.4 report"
    # Internal: the public sees the update, not its file.
    assert Client().get(f"/api/v1/progress-updates/{body['id']}").json()["evidence_file"] is None


def test_unknown_api_addresses_answer_in_the_error_shape(client):
    _error_shape(client.get("/api/v1/no-such-thing"), 404, "not_found")
    _error_shape(client.get("/api/v2/evaluations"), 404, "not_found")
