"""Importing a spreadsheet: the export read back changes nothing; bad cells located; conflicts kept; all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from reports import tables
from tests.conftest import sample_text
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
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
from tracking.services import sheets
from tracking.services.importer import Importer

pytestmark = pytest.mark.django_db
User = get_user_model()


def counts():
    return (Evaluation.objects.count(), Recommendation.objects.count(), KeyAction.objects.count(),
            ActionUpdate.objects.count(), ChangeRecord.objects.count())


def xlsx(table) -> bytes:
    out = io.BytesIO()
    tables.write_xlsx(table, out)
    return out.getvalue()


def csv_bytes(table, *, bom=False, delimiter=",") -> bytes:
    text = "".join(tables.csv_lines(table))
    if delimiter != ",":
        rows = list(csv.reader(io.StringIO(text)))
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter).writerows(rows)
        text = buf.getvalue()
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def workbook(sheets_rows: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets_rows.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def imported():
    Importer(Actor.system()).import_text(sample_text("000_6da9e6de966dff24"), source="000")
    ev = Evaluation.objects.get()
    # A record made here (no page baseline), with a progress comment.
    rec = make_recommendation(make_evaluation(title="Made here"), number="1")
    make_action(rec, text="Train staff.", responsible="HR", deadline=dt.date(2026, 3, 1))
    return ev


@pytest.fixture
def eo():
    user = User.objects.create(username="eo-sheets")
    RoleAssignment.objects.create(user=user, role=Role.EVALUATION_OFFICE)
    return Actor(user=user, source="web")


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "csv-bom-semicolon"])
def test_an_export_imported_back_changes_nothing(imported, fmt):
    before = counts()
    for table in (tables.recommendations_table(Recommendation.objects.all()), tables.key_actions_table(KeyAction.objects.all())):
        if fmt == "xlsx":
            data, name = xlsx(table), "export.xlsx"
        else:
            data, name = csv_bytes(table, bom=fmt != "csv", delimiter=";" if fmt != "csv" else ","), "export.csv"
        result = sheets.import_sheet(Actor.system(), data, name)
        assert result.ok, result.summary()
        assert [r.outcome for r in result.results] == ["unchanged", "unchanged"], result.summary()
        assert not result.conflicts and not result.warnings
    assert counts() == before


def _ka_rows(qs=None):
    table = tables.key_actions_table(qs if qs is not None else KeyAction.objects.all())
    return [c.header for c in table.columns], [list(r) for r in table.rows]


def _edited(headers, rows, edits: dict[tuple[int, str], object]) -> bytes:
    for (i, header), value in edits.items():
        rows[i][headers.index(header)] = value
    return workbook({"key-actions": [headers, *rows]})


def test_edits_in_the_sheet_are_taken_with_their_history(imported):
    action = KeyAction.objects.get(evaluation__title="Made here")
    headers, rows = _ka_rows(KeyAction.objects.filter(pk=action.pk))
    data = _edited(headers, rows, {(0, "Deadline"): dt.datetime(2027, 6, 30), (0, "Status"): "completed", (0, "Key action"): "Train all staff."})
    preview = sheets.import_sheet(Actor.system(), data, "edits.xlsx", dry_run=True)
    assert preview.ok and [r.outcome for r in preview.results] == ["updated"]
    action.refresh_from_db()
    assert (action.status, action.text) == ("Initiated", "Train staff.")  # the preview wrote nothing
    result = sheets.import_sheet(Actor.system(), data, "edits.xlsx")
    assert result.ok and result.written
    action.refresh_from_db()
    assert (action.status, action.text, action.deadline) == ("Completed", "Train all staff.", dt.date(2027, 6, 1))
    update = ActionUpdate.objects.get(key_action=action)
    assert (update.status_before, update.status_after, update.source) == ("Initiated", "Completed", "import")
    assert update.comment == "Status changed by the import of edits.xlsx."
    change = ChangeRecord.objects.filter(object_id=action.pk, action="update").latest("id")
    assert change.after["text"] == "Train all staff."
    # The same file again: nothing more to do.
    again = sheets.import_sheet(Actor.system(), data, "edits.xlsx")
    assert [r.outcome for r in again.results] == ["unchanged"]


def test_a_new_comment_in_the_sheet_is_a_progress_update(imported):
    action = KeyAction.objects.get(evaluation__title="Made here")
    headers, rows = _ka_rows(KeyAction.objects.filter(pk=action.pk))
    data = _edited(headers, [list(r) for r in rows], {(0, "Comments"): "2026-11-30: Two sessions held."})
    assert sheets.import_sheet(Actor.system(), data, "c.xlsx").ok
    update = ActionUpdate.objects.get(key_action=action)
    assert (update.status_before, update.status_after, update.comment) == ("Initiated", "Initiated", "Two sessions held.")
    data = _edited(headers, [list(r) for r in rows], {(0, "Comments"): "Finished.", (0, "Status"): "No Longer Applicable"})
    assert sheets.import_sheet(Actor.system(), data, "d.xlsx").ok
    latest = ActionUpdate.objects.filter(key_action=action).latest("id")
    assert (latest.status_before, latest.status_after, latest.comment) == ("Initiated", "No Longer Applicable", "Finished.")
    # Exported again, the comments column gives what the sheet said: imported back, nothing changes.
    headers, rows = _ka_rows(KeyAction.objects.filter(pk=action.pk))
    assert rows[0][headers.index("Comments")] == "Finished."
    again = sheets.import_sheet(Actor.system(), workbook({"key-actions": [headers, *rows]}), "e.xlsx")
    assert [r.outcome for r in again.results] == ["unchanged"]
    assert ActionUpdate.objects.filter(key_action=action).count() == 2


def test_new_rows_add_key_actions_and_recommendations(imported):
    ev = Evaluation.objects.get(title="Made here")
    data = workbook({
        "Recommendations": [["Evaluation id", "Number", "Recommendation", "Category"], [ev.pk, "2", "Share the lessons.", "partially accepted"]],
        "Key actions": [
            ["Evaluation id", "Recommendation", "Number", "Key action", "Responsible", "Deadline", "Status"],
            [ev.pk, "2", "2.1", "Write a brief.", "Communications", "2026-09", ""],
            [ev.pk, "1", "1.2", "Train managers.", "HR", dt.datetime(2026, 12, 1), "Initiated"],
        ],
    })
    result = sheets.import_sheet(Actor.system(), data, "new.xlsx")
    assert result.ok, result.summary()
    rec = Recommendation.objects.get(evaluation=ev, number="2")
    assert (rec.text, rec.category) == ("Share the lessons.", "Partially Accepted")
    assert rec.key_actions.get().status == "Not Initiated"
    assert list(KeyAction.objects.filter(evaluation=ev).order_by("recommendation__position", "position").values_list("number", flat=True)) == ["1.1", "1.2", "2.1"]


def test_a_new_evaluation_from_the_template_columns(eo):
    office = make_office("Office Sheet")
    ident = ["Office Sheet", "CO", "2022 - 2025", "New from a sheet"]
    data = workbook({
        "Recommendations": [["Office", "Office type", "Plan", "Evaluation", "Number", "Recommendation"], [*ident, "1", "Do better."]],
        "Key actions": [["Office", "Office type", "Plan", "Evaluation", "Recommendation", "Number", "Key action", "Responsible", "Deadline", "Status"],
                        [*ident, "1", "1.1", "Plan it.", "Programme", "2025-03", "Not Initiated"]],
    })
    result = sheets.import_sheet(eo, data, "template.xlsx")
    assert result.ok, result.summary()
    ev = Evaluation.objects.get(title="New from a sheet")
    assert ev.office == office and (ev.plan.start_year, ev.plan.end_year) == (2022, 2025)
    assert ev.key_actions.get().deadline == dt.date(2025, 3, 1)


def test_bad_cells_and_headers_are_located_and_nothing_is_written(imported):
    ev = Evaluation.objects.get(title="Made here")
    before = counts()
    data = workbook({
        "Key actions": [
            ["Evaluation id", "Recommendation", "Number", "Key action", "Deadline", "Status", "Notes"],
            [ev.pk, "1", "1.1", "Train staff.", "2026-03", "Initiated", ""],
            [ev.pk, "1", "1.2", "Fine row.", "2026-04", "Initiated", ""],
            *[[ev.pk, "1", f"1.{i}", "x", "2026-04", "Initiated", ""] for i in range(3, 13)],
            [ev.pk, "1", "1.13", "Bad date.", "31/02/2025", "Initiated", ""],
            [ev.pk, "1", "1.14", "Bad status.", "2026-01", "Done", ""],
            ["x", "1", "1.15", "Bad id.", "2026-01", "Initiated", ""],
            [ev.pk, "9", "9.1", "No such recommendation.", "", "Initiated", ""],
        ],
    })
    result = sheets.import_sheet(Actor.system(), data, "bad.xlsx")
    assert not result.ok and not result.written
    assert 'sheet "Key actions", row 14, column E (Deadline): "31/02/2025" is not a date' in result.errors[0]
    assert any('row 15, column F (Status): "Done" is not a status' in e for e in result.errors)
    assert any('row 16, column A (Evaluation id): "x" is not a whole number' in e for e in result.errors)
    assert any('row 17, column B (Recommendation): recommendation "9" is neither stored' in e for e in result.errors)
    assert 'sheet "Key actions", column G ("Notes") is not one the import reads: ignored' in result.warnings
    assert counts() == before

    missing = sheets.import_sheet(Actor.system(), workbook({"Key actions": [["Evaluation id", "Number", "Deadline"], [ev.pk, "1.1", ""]]}), "m.xlsx")
    assert missing.errors == ['sheet "Key actions": missing columns Recommendation, Key action']
    csv_missing = sheets.import_sheet(Actor.system(), b"Key action id;Status\n1;Completed\n", "m.csv")
    assert csv_missing.errors[0] == 'sheet "Key actions": missing columns Recommendation, Number, Key action'
    assert counts() == before


def test_one_bad_evaluation_writes_nothing_of_the_others(imported):
    """All or nothing for the file: a refusal in one evaluation rolls back the changes to the others."""
    headers, rows = _ka_rows()
    made_here = [i for i, r in enumerate(rows) if r[headers.index("Evaluation")] == "Made here"][0]
    other = [i for i, r in enumerate(rows) if r[headers.index("Evaluation")] != "Made here"][0]
    # Renumbering a key action the page imported: the importer refuses it (it would leave the stored one out).
    data = _edited(headers, rows, {(made_here, "Key action"): "Changed.", (other, "Number"): "99.9"})
    before = counts()
    result = sheets.import_sheet(Actor.system(), data, "half.xlsx")
    assert not result.ok and not result.written
    assert any(r.outcome == "failed" for r in result.results)
    assert KeyAction.objects.get(evaluation__title="Made here").text == "Train staff."
    assert counts() == before


def test_a_value_changed_here_since_the_last_sheet_is_kept_and_listed(imported, eo):
    action = KeyAction.objects.get(evaluation__title="Made here")
    headers, rows = _ka_rows(KeyAction.objects.filter(pk=action.pk))
    first = _edited(headers, [list(r) for r in rows], {(0, "Responsible"): "HR unit"})
    assert sheets.import_sheet(Actor.system(), first, "a.xlsx").ok
    # Changed here since: the responsible edited on the web.
    KeyAction.objects.filter(pk=action.pk).update(responsible="People team")
    second = _edited(headers, [list(r) for r in rows], {(0, "Responsible"): "Human resources"})
    result = sheets.import_sheet(Actor.system(), second, "b.xlsx")
    assert [(c.field, c.ours, c.theirs, c.taken) for c in result.conflicts] == [("responsible", "People team", "Human resources", False)]
    assert KeyAction.objects.get(pk=action.pk).responsible == "People team"
    assert any("1 conflicts" in line for line in result.summary())
    refused = ChangeRecord.objects.filter(object_id=action.pk, action=ChangeRecord.Action.REFUSED).get()
    assert refused.after == {"responsible": "Human resources"}
    # The administrator may take the sheet's value, recorded.
    taken = sheets.import_sheet(Actor.system(), second, "b.xlsx", prefer_page=True)
    assert taken.ok and KeyAction.objects.get(pk=action.pk).responsible == "Human resources"


def test_who_may_import(imported):
    ev = Evaluation.objects.get(title="Made here")
    data = workbook({"Key actions": [["Evaluation id", "Recommendation", "Number", "Key action"], [ev.pk, "1", "1.1", "Changed."]]})
    nobody = Actor(user=User.objects.create(username="nobody"), source="web")
    with pytest.raises(PermissionDenied):
        sheets.import_sheet(nobody, data, "x.xlsx")
    # An office's own focal point reads the evaluation but may not import into it.
    focal = User.objects.create(username="focal")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=ev.office)
    with pytest.raises(PermissionDenied):
        sheets.import_sheet(Actor(user=focal, source="web"), data, "x.xlsx")
    assert KeyAction.objects.get(evaluation=ev).text == "Train staff."


def test_limits_and_unreadable_files():
    assert "not a spreadsheet" in sheets.import_sheet(Actor.system(), b"x", "a.txt").errors[0]
    assert "not a readable XLSX file" in sheets.import_sheet(Actor.system(), b"PK not really", "a.xlsx").errors[0]
    assert "not UTF-8" in sheets.import_sheet(Actor.system(), "Key action id\n\xe9".encode("latin-1"), "a.csv").errors[0]
    big = b"x" * (sheets.MAX_BYTES + 1)
    assert "5 MB at most" in sheets.import_sheet(Actor.system(), big, "a.csv").errors[0]
    rows = "Evaluation id,Recommendation,Number,Key action\n" + "".join(f"1,1,1.{i},x\n" for i in range(sheets.MAX_ROWS + 1))
    assert f"takes {sheets.MAX_ROWS} at most" in sheets.import_sheet(Actor.system(), rows.encode(), "a.csv").errors[0]


def test_the_template_has_the_columns_lists_and_an_example_that_imports(eo):
    out = io.BytesIO()
    sheets.template_xlsx(out)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    assert wb.sheetnames == ["Read me", "Recommendations", "Key actions"]
    ka = wb["Key actions"]
    headers = [c.value for c in ka[1]]
    assert headers[:4] == ["Evaluation id", "Office", "Office type", "Plan"] and "Deadline" in headers
    lists = {dv.formula1 for dv in ka.data_validations.dataValidation}
    assert '"Not Initiated,Initiated,Completed,No Longer Applicable"' in lists
    assert any("Accepted" in dv.formula1 for dv in wb["Recommendations"].data_validations.dataValidation)
    # The example rows read (the example office does not exist: a located error, not a crash).
    make_office("Country office name")
    result = sheets.import_sheet(Actor.system(), out.getvalue(), "template.xlsx", dry_run=True)
    assert result.ok, result.summary()
    assert [r.outcome for r in result.results] == ["created"]
    assert not Evaluation.objects.filter(title="Evaluation title").exists()


def test_the_command_line_imports_a_spreadsheet_with_the_exit_codes_of_documents(imported, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    action = KeyAction.objects.get(evaluation__title="Made here")
    headers, rows = _ka_rows(KeyAction.objects.filter(pk=action.pk))
    path = tmp_path / "actions.xlsx"
    path.write_bytes(_edited(headers, [list(r) for r in rows], {(0, "Responsible"): "HR unit"}))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_documents", str(path), "--dry-run", stdout=out, stderr=err)
    assert out.getvalue().startswith("Dry run: would import 1 evaluations from actions.xlsx: 0 created, 1 updated")
    assert KeyAction.objects.get(pk=action.pk).responsible == "HR"
    call_command("import_documents", str(path), stdout=out, stderr=err)
    assert KeyAction.objects.get(pk=action.pk).responsible == "HR unit"
    # Changed here since, the old sheet again: kept, exit status 3.
    KeyAction.objects.filter(pk=action.pk).update(responsible="People")
    path.write_bytes(_edited(headers, [list(r) for r in rows], {(0, "Responsible"): "HR team"}))
    with pytest.raises(CommandError) as conflict:
        call_command("import_documents", str(path), stdout=out, stderr=err)
    assert conflict.value.returncode == 3 and KeyAction.objects.get(pk=action.pk).responsible == "People"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Evaluation id,Recommendation,Number,Key action,Deadline\n{action.evaluation_id},1,1.1,x,soon\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_documents", str(bad), stdout=out, stderr=err)
    assert failed.value.returncode == 1
    assert 'sheet "Key actions", row 2, column E (Deadline): "soon" is not a date' in err.getvalue()
    with pytest.raises(CommandError) as mixed:
        call_command("import_documents", str(bad), str(tmp_path / "page.txt"), stdout=out, stderr=err)
    assert mixed.value.returncode == 2
