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
from tracking.models import ActionUpdate, ChangeRecord, Evaluation, KeyAction, Recommendation, Role, RoleAssignment
from tracking.services import progress, sheets
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
        assert not result.conflicts
    assert counts() == before
