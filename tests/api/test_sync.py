"""A second database kept in step through GET /api/v1/changes alone ends identical to the first.

The second database is a separate SQLite file (Python's sqlite3, not
Django): one row per record, its fields as JSON. It is written only from
the changes feed, read as any client reads it (a token, `since`, small pages):
a create gives the record's fields, an update the fields that changed, a
delete removes the record (and, as the schema's cascades do, the progress
updates of a deleted key action); a refused attempt changes nothing.

A seeded random sequence of the workspace's changes runs through the API
(moves, which the API does not offer, through the service the web calls),
with stale writes among them, and the copy catches up at random moments.
At the end every evaluation, management response, recommendation, key
action and progress update of the first database equals its copy, field for
field, as the history records them: everything but the row's own
bookkeeping (created/updated times, version counters, the importer's split
confidence), which the history leaves out by design.
"""

from __future__ import annotations

import json
import random
import sqlite3

import pytest
from django.test import Client

from api.models import ApiToken
from tests.tracking.factories import make_office
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
from tracking.services import drafting, history

pytestmark = pytest.mark.django_db
JSON = "application/json"
MODELS = {"evaluation": Evaluation, "managementresponse": ManagementResponse, "recommendation": Recommendation,
          "keyaction": KeyAction, "actionupdate": ActionUpdate}
# How often each step is tried: the workflow moves on (submit, approve) and approved actions get progress.
WEIGHTS = {"add key action": 3, "submit": 2, "approve": 2, "progress": 4, "stale progress": 1, "edit key action": 2}
MUST = {"create evaluation", "add recommendation", "add key action", "edit key action", "submit", "approve", "progress",
        "stale progress", "move recommendation", "delete recommendation"}
DEFAULTS = {"managementresponse": {"units": []}, "recommendation": {"tags": []}, "keyaction": {"units": []}}


class Copy:
    """The second database."""

    def __init__(self, path, token: str):
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE record (model TEXT, id INTEGER, data TEXT, PRIMARY KEY (model, id))")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        self.since = ""
        self.applied = 0

    def catch_up(self, page: int) -> None:
        while True:
            url = f"/api/v1/changes?limit={page}" + (f"&since={self.since}" if self.since else "")
            response = Client().get(url, **self.headers)
            assert response.status_code == 200, response.content
            body = response.json()
            for change in body["items"]:
                self.apply(change)
            self.since = body["next"]
            if not body["items"]:
                return

    def apply(self, c: dict) -> None:
        if c["model"] not in MODELS or c["action"] == "refused":
            return
        key = (c["model"], c["object_id"])
        with self.db:
            if c["action"] == "create":
                self.db.execute("INSERT INTO record VALUES (?, ?, ?)", (*key, json.dumps(c["after"])))
            elif c["action"] == "update":
                (data,) = self.db.execute("SELECT data FROM record WHERE model = ? AND id = ?", key).fetchone()
                self.db.execute("UPDATE record SET data = ? WHERE model = ? AND id = ?",
                                (json.dumps({**json.loads(data), **c["after"]}), *key))
            elif c["action"] == "delete":
                self.db.execute("DELETE FROM record WHERE model = ? AND id = ?", key)
                if c["model"] == "keyaction":
                    self.db.execute("DELETE FROM record WHERE model = 'actionupdate' AND json_extract(data, '$.key_action') = ?",
                                    (c["object_id"],))
        self.applied += 1

    def rows(self) -> dict:
        return {(m, i): {**DEFAULTS.get(m, {}), **json.loads(d)} for m, i, d in self.db.execute("SELECT model, id, data FROM record")}


def original() -> dict:
    """The first database, as the history writes records."""
    rows = {}
    for name, model in MODELS.items():
        for obj in model.objects.all():
            data = history.snapshot(obj)
            if name in ("managementresponse", "keyaction"):
                data["units"] = sorted(obj.units.values_list("pk", flat=True))
            if name == "recommendation":
                data["tags"] = list(obj.tags.order_by("position").values_list("term_id", flat=True))
            rows[name, obj.pk] = data
    return rows


def _normal(rows: dict) -> dict:
    # Unit ids are a set (the copy keeps them in the order they were sent).
    return {k: {f: (sorted(v) if f == "units" else v) for f, v in d.items()} for k, d in rows.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_copy_kept_through_the_changes_feed_ends_identical(seed, tmp_path, settings):
    settings.API_TOKEN_RATE = settings.API_ADDRESS_RATE = (10**9, 60)
    rnd = random.Random(seed)
    office = make_office("Office Sync", region="Region Sync")
    units = [Unit.objects.create(office=office, name=f"Unit {i}") for i in range(3)]
    terms = [Term.objects.create(kind=Term.Kind.THEMATIC_AREA, name=f"Theme {i}") for i in range(3)]
    people = {}
    for name, role in (("eo", Role.EVALUATION_OFFICE), ("fp", Role.OFFICE_FOCAL_POINT), ("admin", Role.ADMINISTRATOR)):
        user = type(office.type)._meta.apps.get_model("auth", "User").objects.create(username=f"sync.{name}")
        RoleAssignment.objects.create(user=user, role=role, office=office if role == Role.OFFICE_FOCAL_POINT else None)
        people[name] = user
    tokens = {n: {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(u, 'sync')[1]}"} for n, u in people.items()}
    copy = Copy(tmp_path / "copy.sqlite3", ApiToken.issue(people["admin"], "copy", read_only=True)[1])
    api = Client()

    def etag(kind_url: str, who: str) -> str:
        return api.get(kind_url, **tokens[who])["ETag"]

    def call(method, url, who, body=None, if_match=None, ok=(200, 201, 204)):
        extra = {"HTTP_IF_MATCH": if_match} if if_match else {}
        response = getattr(api, method)(url, json.dumps(body) if body is not None else None, content_type=JSON, **tokens[who], **extra)
        assert response.status_code in ok, (method, url, response.status_code, response.content[:300])
        return response

    def responses(*statuses):
        return list(ManagementResponse.objects.filter(status__in=statuses).order_by("pk"))

    def drafts():
        return responses("Draft", "Returned")

    def submit(r):
        """Make the draft ready as its focal point would, through the API (the submission checks), then submit it."""
        r.refresh_from_db()
        if not r.overall_response:
            call("patch", f"/api/v1/management-responses/{r.pk}", "fp", {"overall_response": "Accepted.", "units": []},
                 etag(f"/api/v1/management-responses/{r.pk}", "fp"))
        for rec in Recommendation.objects.filter(management_response=r).order_by("pk"):
            if rec.category in ("Accepted", "Partially Accepted") and not rec.key_actions.exists():
                call("post", f"/api/v1/recommendations/{rec.pk}/key-actions", "fp",
                     {"number": f"{rec.number}.1", "text": "Act.", "deadline": "2030-01", "units": [units[0].pk]})
        for ka in KeyAction.objects.filter(recommendation__management_response=r).order_by("pk"):
            if not ka.units.exists() or ka.deadline is None:
                call("patch", f"/api/v1/key-actions/{ka.pk}", "fp", {"units": [units[0].pk], "deadline": "2030-01"},
                     etag(f"/api/v1/key-actions/{ka.pk}", "fp"))
        return call("post", f"/api/v1/management-responses/{r.pk}/submit", "fp", None, etag(f"/api/v1/management-responses/{r.pk}", "fp"))

    steps = {
        "create evaluation": lambda: call("post", "/api/v1/evaluations", "eo", {
            "office_id": office.pk, "start_year": 2020, "end_year": rnd.randint(2021, 2024), "title": f"Evaluation {rnd.random():.6f}"}),
        "edit response": lambda r=None: (r := rnd.choice(drafts())) and call(
            "patch", f"/api/v1/management-responses/{r.pk}", "fp",
            {"overall_response": f"Overall {rnd.random():.4f}", "units": [u.pk for u in rnd.sample(units, rnd.randint(0, 3))]},
            etag(f"/api/v1/management-responses/{r.pk}", "fp")),
        "add recommendation": lambda r=None: (r := rnd.choice(drafts())) and call(
            "post", f"/api/v1/management-responses/{r.pk}/recommendations", "fp",
            {"number": str(rnd.randint(1, 9)), "text": f"Recommend {rnd.random():.4f}", "category": rnd.choice(["Accepted", ""]),
             "terms": [t.pk for t in rnd.sample(terms, rnd.randint(0, 2))]}),
        "edit recommendation": lambda: (rec := _pick(Recommendation, drafts())) and call(
            "patch", f"/api/v1/recommendations/{rec.pk}", "fp",
            {"text": f"Changed {rnd.random():.4f}", "terms": [t.pk for t in rnd.sample(terms, rnd.randint(0, 3))]},
            etag(f"/api/v1/recommendations/{rec.pk}", "fp")),
        "delete recommendation": lambda: (rec := _pick(Recommendation, drafts())) and call(
            "delete", f"/api/v1/recommendations/{rec.pk}", "fp", None, etag(f"/api/v1/recommendations/{rec.pk}", "fp")),
        "move recommendation": lambda: (rec := _pick(Recommendation, drafts())) and drafting.move_recommendation(
            Actor(people["fp"]), rec, rnd.choice([-1, 1])) is None,
        "add key action": lambda: (rec := _pick(Recommendation, drafts())) and call(
            "post", f"/api/v1/recommendations/{rec.pk}/key-actions", "fp",
            {"number": f"{rec.number}.{rnd.randint(1, 9)}", "text": f"Act {rnd.random():.4f}",
             "deadline": f"20{rnd.randint(20, 35)}-{rnd.randint(1, 12):02d}", "units": [u.pk for u in rnd.sample(units, rnd.randint(0, 2))]}),
        "edit key action": lambda: (ka := _pick(KeyAction, drafts())) and call(
            "patch", f"/api/v1/key-actions/{ka.pk}", "fp",
            {"comments": f"Note {rnd.random():.4f}", "units": [u.pk for u in rnd.sample(units, rnd.randint(0, 3))],
             "status": rnd.choice(["Not Initiated", "Initiated"])}, etag(f"/api/v1/key-actions/{ka.pk}", "fp")),
        "delete key action": lambda: (ka := _pick(KeyAction, drafts())) and call(
            "delete", f"/api/v1/key-actions/{ka.pk}", "fp", None, etag(f"/api/v1/key-actions/{ka.pk}", "fp")),
        "move key action": lambda: (ka := _pick(KeyAction, drafts())) and drafting.move_action(
            Actor(people["fp"]), ka, rnd.choice([-1, 1])) is None,
        "submit": lambda: (r := next((r for r in drafts() if r.recommendations.exists()), None)) and submit(r),
        "return": lambda: (r := next(iter(responses("Submitted")), None)) and call(
            "post", f"/api/v1/management-responses/{r.pk}/return", "eo", {"reason": f"Why {rnd.random():.3f}"},
            etag(f"/api/v1/management-responses/{r.pk}", "eo")),
        "approve": lambda: (r := next(iter(responses("Submitted")), None)) and call(
            "post", f"/api/v1/management-responses/{r.pk}/approve", "eo", None, etag(f"/api/v1/management-responses/{r.pk}", "eo")),
        "progress": lambda: (ka := _pick(KeyAction, responses("Approved"))) and call(
            "post", f"/api/v1/key-actions/{ka.pk}/progress-updates", "fp",
            # A completion carries its evidence (the evaluation office verifies it).
            {"status": (done := rnd.choice(["Initiated", "Completed"])), "comment": f"Progress {rnd.random():.4f}",
             "evidence_url": "example.org/proof.pdf" if done == "Completed" else rnd.choice(["", "example.org/proof.pdf"]),
             "evidence_internal": rnd.random() < 0.3,
             # Moving a Completed action back asks why (kept on the update only when it reopens one).
             "reopen_reason": f"Reopened {rnd.random():.4f}" if done != "Completed" else ""},
            etag(f"/api/v1/key-actions/{ka.pk}", "fp")),
        "stale progress": lambda: (ka := _pick(KeyAction, responses("Approved"))) and call(
            "post", f"/api/v1/key-actions/{ka.pk}/progress-updates", "fp",
            {"status": "Completed", "comment": "from an old copy", "evidence_url": "https://example.org/old.pdf"},
            f'"keyaction-{ka.pk}-v0"', ok=(412,)),
    }

    def _pick(model, in_responses):
        rows = list(model.objects.filter(evaluation__management_response__in=in_responses).order_by("pk"))
        return rnd.choice(rows) if rows else None

    done = {}
    call("post", "/api/v1/evaluations", "eo", {"office_id": office.pk, "start_year": 2020, "end_year": 2021, "title": "First"})
    for _ in range(250):
        name = rnd.choices(list(steps), weights=[WEIGHTS.get(n, 1) for n in steps])[0]
        try:
            if steps[name]():
                done[name] = done.get(name, 0) + 1
        except IndexError:  # nothing to choose from yet
            pass
        if rnd.random() < 0.15:
            copy.catch_up(page=rnd.randint(1, 20))
    copy.catch_up(page=7)
    first = _normal(original())
    got = _normal(copy.rows())
    diff = {k: {f: (got.get(k, {}).get(f), first.get(k, {}).get(f)) for f in set(got.get(k, {})) | set(first.get(k, {}))
                if got.get(k, {}).get(f) != first.get(k, {}).get(f)} for k in set(got) | set(first) if got.get(k) != first.get(k)}
    assert got == first, diff
    assert len(first) > 20 and set(done) >= MUST, done  # the sequence did a bit of everything
    # Caught up: nothing more to read, and the cursor stays.
    assert Client().get(f"/api/v1/changes?since={copy.since}", **copy.headers).json() == {"items": [], "next": copy.since}
