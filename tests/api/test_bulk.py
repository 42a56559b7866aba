"""Bulk through the API: GATE documents (or their JSON form) in, with the command line's results; documents out."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.api.conftest import bearer
from tests.conftest import DEMO, SAMPLES, sample_text
from tracking.models import Evaluation

pytestmark = pytest.mark.django_db
JSON = "application/json"
BROKEN = "Management Response\n\nthis is not a GATE document\n"


def _import(headers, documents, dry_run=False):
    url = "/api/v1/imports" + ("?dry_run=true" if dry_run else "")
    return Client().post(url, {"documents": documents}, content_type=JSON, **headers)


def test_importing_gives_the_command_lines_results(record, unlimited, tmp_path):
    eo = bearer(record["eo"])
    docs = [{"source": name, "text": sample_text(name)} for name in SAMPLES] + [{"source": "broken.txt", "text": BROKEN}]
    dry = _import(eo, docs, dry_run=True)
    assert dry.status_code == 200, dry.content
    assert (dry.json()["created"], dry.json()["failed"]) == (2, 1) and dry.json()["dry_run"]
    assert not Evaluation.objects.filter(source__in=SAMPLES).exists() and Evaluation.objects.count() == 2  # nothing written
    made = _import(eo, docs).json()
    assert [r["outcome"] for r in made["results"]] == ["created", "created", "failed"]
    assert made["results"][0]["recommendations"] > 0 and made["results"][0]["key_actions"] > 0
    # The command line, on the same files, finds them unchanged, and fails the broken one with the same words.
    for name in SAMPLES:
        (tmp_path / f"{name}.txt").write_text(sample_text(name), encoding="utf-8")
    (tmp_path / "broken.txt").write_text(BROKEN, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_documents", str(tmp_path), "--no-progress", stdout=out, stderr=err)
    assert "0 created, 0 updated, 2 unchanged, 1 failed" in out.getvalue()
    assert made["results"][2]["error"] in err.getvalue()
    again = _import(eo, docs).json()
    assert [r["outcome"] for r in again["results"]] == ["unchanged", "unchanged", "failed"]
    assert DEMO.exists()


def test_a_document_exported_comes_back_unchanged_and_importing_is_for_the_evaluation_office(record, unlimited):
    eo = bearer(record["eo"])
    made = _import(eo, [{"source": SAMPLES[0], "text": sample_text(SAMPLES[0])}]).json()
    pk = made["results"][0]["evaluation_id"]
    exported = Client().get(f"/api/v1/evaluations/{pk}/document", **eo).json()
    assert exported["gate"].startswith("Management Response") and exported["json"]["id"] == pk
    back = _import(eo, [{"source": "as JSON", "document": exported["json"]}, {"source": "as GATE", "text": exported["gate"]}]).json()
    assert [r["outcome"] for r in back["results"]] == ["unchanged", "unchanged"], back
    bad = _import(eo, [{"source": "half", "document": {"evaluation": {}}}]).json()
    assert bad["failed"] == 1 and bad["results"][0]["error"].startswith("not a document")
    neither = _import(eo, [{"source": "empty"}])
    assert neither.status_code == 400 and neither.json()["field"] == "documents.0"
    refused = _import(bearer(record["office_fp"]), [{"source": "x", "text": sample_text(SAMPLES[1])}])
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert _import(bearer(record["eo"], read_only=True), [{"text": BROKEN}]).status_code == 403
    # A draft's document is for those who read the draft.
    assert Client().get(f"/api/v1/evaluations/{record['draft'].pk}/document").status_code == 404
