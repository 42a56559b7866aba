"""Imports respect the record, exports carry it (issue 14): on SQLite and PostgreSQL.

A re-import keeps what was changed here and reports the page's other value
as a conflict; records no longer on a page are refused or archived, never
deleted; permission is checked per document; exports write the current
status and latest progress comment back in the page's own labels.
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

import gateformat
from gateformat.generate import Generator
from reports.documents import evaluations_for_export, to_document
from tests.conftest import DEMO, sample_text
from tracking import permissions
from tracking.actor import Actor
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Office,
    OfficeType,
    Recommendation,
    Role,
    RoleAssignment,
)
from tracking.services.importer import CREATED, FAILED, UNCHANGED, UPDATED, Importer
from tracking.services.progress import record_progress

pytestmark = pytest.mark.django_db
User = get_user_model()
S000 = "000_6da9e6de966dff24"
S002 = "002_543cb0e5625ab64b"


def importer(**options) -> Importer:
    return Importer(Actor.system("import"), **options)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Recommendation, KeyAction, ActionUpdate, ManagementResponse)}


def command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, "--no-progress", stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def progress_as_system(action: KeyAction, status: str, comment: str) -> ActionUpdate:
    action.refresh_from_db()
    # A completion carries its evidence (the evaluation office verifies it).
    evidence = "https://example.org/evidence" if status == "Completed" else ""
    # An imported action may be Completed: moving it back asks why (kept only when it reopens one).
    return record_progress(Actor.system("command"), action, version=action.version, status=status, comment=comment, evidence_url=evidence,
                           reopen_reason="Reopened in the test.")


def approved_action(evaluation_id: int, number: str) -> KeyAction:
    return KeyAction.objects.get(evaluation_id=evaluation_id, number=number)


# --- the acceptance walk -----------------------------------------------------------------------


def test_walk_unit_update_kept_on_reimport_conflict_reported_and_exported(no_page_cache):
    """loaddemo; the unit focal point updates an action; the demo pages again; export as GATE text."""
    call_command("loaddemo", stdout=io.StringIO())
    unit = User.objects.get(username="unit")
    action = permissions.restrict(unit, KeyAction, permissions.UPDATE).exclude(status="Completed").order_by("pk").first()
    assert action is not None, "the demo gives the unit focal point an open action"
    page_status = action.status
    record_progress(Actor(user=unit), action, version=action.version, status="Completed", comment="Guidance note published.",
                    evidence_url="https://example.org/guidance-note")

    code, out, err = command("import_documents", str(DEMO))
    assert code == 3, (out, err)
    assert "conflicts in 1 documents" in err
    action.refresh_from_db()
    assert action.status == "Completed"  # kept
    line = next(x for x in out.splitlines() if f"Key action {action.number} of recommendation {action.recommendation.number}, status" in x)
    assert f"ours 'Completed', page {page_status!r} (kept ours)" in line
    assert re.search(r"\.txt:\d+: ", line), line  # document and line
    refused = ChangeRecord.objects.filter(object_id=action.pk, content_type__model="keyaction", action="refused")
    assert sorted(k for r in refused for k in r.before) == ["comments", "status"]  # the comment typed here, too
    conflict = next(r for r in refused if "status" in r.before)
    assert (conflict.before, conflict.after) == ({"status": "Completed"}, {"status": page_status})
    assert "import conflict" in conflict.message and conflict.evaluation_id == action.evaluation_id
    # On the action's page, in its history, for the person who made the change.
    browser = Client()
    browser.force_login(unit)
    page = browser.get(reverse("web:action", args=[action.pk])).content.decode()
    assert "import conflict" in page and "kept the value changed here" in page

    export = io.StringIO()
    call_command("export_documents", "--evaluation", str(action.evaluation_id), "--format", "gate", stdout=export)
    row = next(x for x in export.getvalue().splitlines() if x.startswith(f"{action.label or action.number} {action.text}"))
    cells = row.split("\t")
    assert cells[3] == "Completed"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}: Guidance note published\.", cells[4])

    # Again: the conflict is still reported (and the exit status says so), recorded on the history once.
    code, out, _ = command("import_documents", str(DEMO))
    assert code == 3
    assert ChangeRecord.objects.filter(object_id=action.pk, content_type__model="keyaction", action="refused").count() == 2


# --- conflicts and the baseline ----------------------------------------------------------------


def test_a_page_change_where_nothing_changed_here_is_taken():
    first = importer().import_text(sample_text(S002), source="002.txt")
    changed = sample_text(S002).replace("Resilience Unit 2026/12 Initiated", "Resilience Unit 2026/12 Completed Done.")
    result = importer().import_text(changed, source="002-v2.txt")
    assert result.outcome == UPDATED and result.conflicts == []
    action = KeyAction.objects.get(evaluation_id=first.evaluation_id, status="Completed", comments="Done.")
    assert action.imported["status"] == "Completed"


def test_a_value_changed_here_is_kept_and_the_page_value_is_a_conflict_even_when_the_page_changed_too():
    first = importer().import_text(sample_text(S002), source="002.txt")
    action = KeyAction.objects.get(evaluation_id=first.evaluation_id, text__contains="Women in Peace Processes Monitor")
    progress_as_system(action, "No Longer Applicable", "Merged into another programme.")
    changed = sample_text(S002).replace("Resilience Unit 2026/12 Initiated", "Resilience Unit 2026/12 Completed Done.")
    result = importer().import_text(changed, source="002-v2.txt")
    action.refresh_from_db()
    assert action.status == "No Longer Applicable"
    fields = {(c.field, c.ours, c.theirs) for c in result.conflicts}
    assert ("status", "No Longer Applicable", "Completed") in fields
    assert any(f == "comments" and theirs == "Done." for f, _, theirs in fields)
    assert all(c.source == "002-v2.txt" and c.line > 0 for c in result.conflicts)
    assert not action.updates.filter(source="import").exists()


def test_prefer_page_takes_the_page_value_and_records_it():
    first = importer().import_text(sample_text(S002), source="002.txt")
    action = KeyAction.objects.get(evaluation_id=first.evaluation_id, text__contains="Women in Peace Processes Monitor")
    progress_as_system(action, "Completed", "Done here.")
    result = importer(prefer_page=True).import_text(sample_text(S002), source="002.txt")
    action.refresh_from_db()
    assert action.status == "Initiated"
    assert [c.taken for c in result.conflicts] == [True, True]
    record = ChangeRecord.objects.filter(object_id=action.pk, action="update", content_type__model="keyaction").latest("pk")
    assert record.after["status"] == "Initiated" and "prefer page" in record.message
    # The page's comments are the latest now: exports say so.
    assert action.gate_comments == action.comments
    assert importer().import_text(sample_text(S002), source="002.txt").outcome == UNCHANGED


def test_prefer_page_is_for_administrators_only():
    office = Office.objects.create(name="Office X", type=OfficeType.objects.create(code="XO", name="X"))
    evaluator = User.objects.create(username="eo")
    RoleAssignment.objects.create(user=evaluator, role=Role.EVALUATION_OFFICE, office=office)
    with pytest.raises(PermissionDenied):
        Importer(Actor(user=evaluator), prefer_page=True)
    admin = User.objects.create(username="adm")
    RoleAssignment.objects.create(user=admin, role=Role.ADMINISTRATOR)
    RoleAssignment.objects.create(user=admin, role=Role.EVALUATION_OFFICE)
    assert Importer(Actor(user=admin), prefer_page=True).prefer_page
    code, _, err = command("import_documents", str(DEMO), "--prefer", "page", "--user", "eo")
    assert code == 1 and "administrators only" in err


# --- records no longer on the page -------------------------------------------------------------


def test_a_vanished_key_action_keeps_its_progress(no_page_cache):
    first = importer().import_text(sample_text(S000), source="000.txt")
    action = approved_action(first.evaluation_id, "1.2")
    progress_as_system(action, "Completed", "Typed by a person.")
    row = next(x for x in sample_text(S000).splitlines() if x.startswith("1.2 "))
    without = sample_text(S000).replace(row + "\n", "")
    before = counts()
    refused = importer().import_text(without, source="000-short.txt")
    assert refused.outcome == FAILED and "key action 1.2 of recommendation 1 (with 1 progress update)" in refused.error
    assert counts() == before
    allowed = importer(allow_removals=True).import_text(without, source="000-short.txt")
    assert allowed.outcome == UPDATED and allowed.removals
    action.refresh_from_db()
    assert action.archived_at is not None and action.status == "Completed"
    assert action.updates.get().comment == "Typed by a person."
    # Shown, marked, on the evaluation's page.
    page = Client().get(reverse("web:evaluation", args=[first.evaluation_id])).content.decode()
    row = page[page.index(f'id="key-action-{action.pk}"') :]
    assert "Archived</span>" in row[: row.index("</tr>")]
    # Left out of what is exported: the page no longer has it.
    ev = evaluations_for_export(Evaluation.objects.filter(pk=first.evaluation_id)).get()
    assert "1.2" not in [a.number for a in to_document(ev).key_actions]


def test_a_page_cut_short_is_reported_and_refused_over_the_approved_evaluation():
    """The issue's example: the first 2 KB of a seed page, imported over the approved evaluation."""
    generator = Generator(0)
    doc = generator.document()
    doc.management_response.status = "Approved"
    text = generator.text(doc)
    first = importer().import_text(text, source="seed.txt")
    assert first.outcome == CREATED
    action = KeyAction.objects.filter(evaluation_id=first.evaluation_id).order_by("pk")[2]
    progress_as_system(action, "Completed", "Someone typed this.")
    before = counts()
    cut = text.encode("utf-8")[:2048].decode("utf-8", "replace")
    parsed = gateformat.parse(cut)
    assert [w.kind for w in parsed.warnings] == ["truncated"]

    code, out, err = command("import_documents", "--dry-run", str(_write(cut)))
    assert code == 1
    assert "refused" in err and "may be cut short" in err
    assert len(re.findall(r"recommendation \d+ \(with", err)) == len(doc.recommendations) - 1
    result = importer().import_text(cut, source="seed-2k.txt")
    assert result.outcome == FAILED and "Nothing was changed" in result.error
    assert counts() == before
    assert action.updates.filter(comment="Someone typed this.").exists()


_tmp_files: list = []


def _write(text: str):
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    path = folder / "cut.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_dry_run_lists_every_change_and_writes_nothing():
    importer().import_text(sample_text(S002), source="002.txt")
    changed = sample_text(S002).replace("Resilience Unit 2026/12 Initiated", "Resilience Unit 2026/12 Completed Done.")
    before = counts()
    code, out, _ = command("import_documents", "--dry-run", str(_write(changed)))
    assert code == 0
    assert "Dry run: would have imported 1 documents" in out and "1 updated" in out
    assert "status 'Initiated' → 'Completed'" in out and "comments '' → 'Done.'" in out
    assert counts() == before


# --- approved responses, permission per document -----------------------------------------------


def test_what_an_import_changes_on_an_approved_response_is_listed_and_marked():
    first = importer().import_text(sample_text(S000), source="000.txt")
    assert ManagementResponse.objects.get(evaluation_id=first.evaluation_id).is_approved
    changed = sample_text(S000).replace("Establish a sufficiently resourced", "Establish a well resourced")
    code, out, _ = command("import_documents", str(_write(changed)))
    assert code == 0
    assert "1 changes on an approved response:" in out and "Recommendation 1: text" in out
    record = ChangeRecord.objects.filter(content_type__model="recommendation", action="update").get()
    assert record.message.startswith("on an approved response")


def test_import_permission_is_checked_for_each_documents_office():
    call_command("loaddemo", stdout=io.StringIO())
    ies = Office.objects.get(name="Independent Evaluation Service (IES)")
    evaluator = User.objects.create(username="eo-ies")
    RoleAssignment.objects.create(user=evaluator, role=Role.EVALUATION_OFFICE, office=ies)
    other = sample_text(S002)
    assert "Independent Evaluation Service (IES)" not in other.splitlines()[2]
    mine = sample_text(S000).replace(": 2015 - 2016 ,", ": 2019 - 2020 ,")
    results = list(
        Importer(Actor(user=evaluator)).run([("mine.txt", mine), ("other.txt", other.replace("Initiated", "Completed"))], workers=0)
    )
    assert [r.outcome for r in results] == [CREATED, FAILED]
    assert "may not import documents" in results[1].error
    assert not KeyAction.objects.filter(evaluation__office__name__startswith="Peace", status="Completed").exclude(
        updates__source="web"
    ).filter(updates__source="import").exists()


# --- exports carry the record ------------------------------------------------------------------


def test_round_trip_of_an_unchanged_record_changes_nothing():
    first = importer().import_text(sample_text(S002), source="002.txt")
    action = KeyAction.objects.filter(evaluation_id=first.evaluation_id).order_by("pk").first()
    progress_as_system(action, "Completed", "Done,\n  with a second line.")
    ev = evaluations_for_export(Evaluation.objects.filter(pk=first.evaluation_id)).get()
    text = gateformat.render(to_document(ev))
    # Labels and numbers as the page wrote them.
    assert "Recommendation: Recommendation 1: UN-Women should" in text
    assert re.search(r"^1\) ", text, re.M)
    before = counts()
    history = ChangeRecord.objects.count()
    result = importer().import_text(text, source="export.txt")
    assert (result.outcome, result.conflicts, result.changes) == (UNCHANGED, [], [])
    assert counts() == before and ChangeRecord.objects.count() == history
    again = evaluations_for_export(Evaluation.objects.filter(pk=first.evaluation_id)).get()
    assert gateformat.render(to_document(again)) == text


def test_exports_show_the_latest_progress_comment_dated_in_json_too():
    first = importer().import_text(sample_text(S000), source="000.txt")
    action = approved_action(first.evaluation_id, "2.1")
    progress_as_system(action, "Initiated", "First step.")
    progress_as_system(action, "Completed", "All done.")
    ev = evaluations_for_export(Evaluation.objects.filter(pk=first.evaluation_id)).get()
    exported = next(a for a in to_document(ev).key_actions if a.number == "2.1")
    assert exported.status == "Completed"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}: All done\.", exported.comments)
    data = to_document(ev).to_dict()
    assert any(a["comments"] == exported.comments for r in data["recommendations"] for a in r["key_actions"])


def test_the_pdf_and_the_key_action_list_carry_the_latest_progress_comment(client, no_page_cache):
    from tests.reports.test_pdf import pages

    first = importer().import_text(sample_text(S000), source="000.txt")
    action = approved_action(first.evaluation_id, "3.1")
    progress_as_system(action, "Completed", "Strategy integrated across all units.")
    pdf = client.get(reverse("web:evaluation_export", args=[first.evaluation_id, "pdf"]))
    text = " ".join(" ".join(t.split()) for t, _ in pages(pdf.content))
    assert re.search(r"\d{4}-\d{2}-\d{2}: Strategy integrated across all units\.", text)
    listing = client.get(reverse("web:export", args=["key-actions", "csv"]) + f"?evaluation={first.evaluation_id}")
    csv_text = b"".join(listing.streaming_content).decode()
    assert re.search(r"\d{4}-\d{2}-\d{2}: Strategy integrated across all units\.", csv_text)


def test_one_bad_document_is_reported_and_the_good_ones_are_imported(tmp_path):
    importer().import_text(sample_text(S002), source="002.txt")
    text = sample_text(S002)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a-good.txt").write_text(sample_text(S000), encoding="utf-8")
    lines = text.splitlines()
    (folder / "b-broken.txt").write_text("\n".join(lines[:3] + ["no plan here"] + lines[4:]), encoding="utf-8")
    short = text[: text.index("Recommendation: Recommendation 4:")] + text[text.index("Recommendation: Recommendation 5:") :]
    (folder / "c-removes.txt").write_text(short, encoding="utf-8")
    (folder / "d-good.txt").write_text(sample_text(S000).replace(": 2015 - 2016 ,", ": 2017 - 2018 ,"), encoding="utf-8")
    code, out, err = command("import_documents", str(folder), "--batch-size", "1")
    assert code == 1
    assert "2 created, 0 updated, 0 unchanged, 2 failed" in out
    assert re.search(r"b-broken\.txt:4: expected the plan line", err)
    assert re.search(r"c-removes\.txt: refused: .*recommendation 4", err)
    assert Evaluation.objects.count() == 3
