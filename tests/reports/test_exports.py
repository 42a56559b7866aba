"""Exports round-trip: CSV and XLSX read back give the same rows; formula-like text stays text."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports import tables
from tests.conftest import sample_expected, sample_text, subset
from tests.tracking.factories import make_action, make_evaluation, make_recommendation
from tracking.actor import Actor
from tracking.models import ActionUpdate, Evaluation, KeyAction
from tracking.services.importer import Importer

pytestmark = pytest.mark.django_db

FORMULAS = ["=SUM(A1:A9)", "+1+1", "-2+3", "@cmd", "\tTab first", "=HYPERLINK(\"http://evil.example\",\"click\")"]


@pytest.fixture
def data():
    Importer(Actor.system()).import_text(sample_text("000_6da9e6de966dff24"), source="000")
    rec = make_recommendation(make_evaluation(title="Formula test"))
    for i, text in enumerate(FORMULAS):
        make_action(rec, text=f"Action {i}", comments=text, deadline=dt.date(2020, 1 + i, 1), status="Initiated")
    return KeyAction.objects.all()


def _stream(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _expected_rows(qs):
    table = tables.key_actions_table(qs)
    return [c.name for c in table.columns], list(table.rows)


def test_csv_export_reads_back_to_the_same_rows(client, data):
    names, rows = _expected_rows(KeyAction.objects.all())
    body = _stream(client.get(reverse("web:export", args=["key-actions", "csv"])))
    text = body.decode("utf-8")
    # Formula-like cells are defused in the file...
    assert "\n'=SUM(A1:A9)" in text or ",'=SUM(A1:A9)" in text
    assert ",=SUM" not in text and "\n=SUM" not in text
    back = tables.read_csv(text)
    assert len(back) == len(rows) == KeyAction.objects.count()
    # ...and read back exactly as written.
    for got, want in zip(back, rows):
        assert list(got) == names
        assert [got[n] for n in names] == [tables._text(v) for v in want]


def test_xlsx_export_has_typed_cells_frozen_header_and_text_formulas(client, data):
    names, rows = _expected_rows(KeyAction.objects.all())
    body = _stream(client.get(reverse("web:export", args=["key-actions", "xlsx"])))
    wb = load_workbook(io.BytesIO(body))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b
    headers = [c.value for c in ws[1]]
    assert headers[0] == "Key action id"
    assert ws.column_dimensions["L"].width >= 40  # the key action text is readable
    comments_col = names.index("comments") + 1
    deadline_col = names.index("deadline") + 1
    id_col = names.index("id") + 1
    for row_cells, want in zip(ws.iter_rows(min_row=2), rows):
        values = [c.value for c in row_cells]
        assert row_cells[id_col - 1].data_type == "n"
        if want[names.index("deadline")] is not None:
            assert isinstance(values[deadline_col - 1], dt.datetime)
            assert values[deadline_col - 1].date() == want[names.index("deadline")]
        comment = row_cells[comments_col - 1]
        assert comment.data_type == "s"  # never a formula
        assert (comment.value or "") == want[names.index("comments")]
    # Read back through the same reader as the tests of any export.
    header, back = tables.read_xlsx(body)
    assert len(back) == len(rows)
    assert {r[comments_col - 1] for r in back} >= set(FORMULAS)


def test_json_export_of_each_list(client, data):
    ActionUpdate.objects.create(key_action=KeyAction.objects.first(), status_before="", status_after="Completed", comment="=1+1")
    for kind, count in [
        ("evaluations", Evaluation.objects.count()),
        ("recommendations", 9),
        ("key-actions", KeyAction.objects.count()),
        ("updates", 1),
    ]:
        rows = json.loads(_stream(client.get(reverse("web:export", args=[kind, "json"]))))
        assert len(rows) == count, kind
    updates = json.loads(_stream(client.get(reverse("web:export", args=["updates", "json"]))))
    assert updates[0]["comment"] == "=1+1" and updates[0]["status_after"] == "Completed"


def test_exports_follow_the_list_filters_and_visibility(client, data):
    make_action(make_recommendation(make_evaluation(title="Secret draft", status="Draft")), text="Hidden.")
    rows = json.loads(_stream(client.get(reverse("web:export", args=["key-actions", "json"]), {"status": "Completed"})))
    assert rows and all(r["status"] == "Completed" for r in rows)
    everything = json.loads(_stream(client.get(reverse("web:export", args=["key-actions", "json"]))))
    assert "Hidden." not in {r["text"] for r in everything}


def test_unknown_export_is_404(client, data):
    assert client.get(reverse("web:export", args=["secrets", "csv"])).status_code == 404
    assert client.get(reverse("web:export", args=["key-actions", "exe"])).status_code == 404


def test_whole_evaluation_as_gate_text_and_json(client, data):
    ev = Evaluation.objects.get(title__startswith="Evaluation of UN Women strategic")
    txt = client.get(reverse("web:evaluation_export", args=[ev.pk, "txt"])).content.decode()
    import gateformat

    assert subset(sample_expected("000_6da9e6de966dff24"), gateformat.parse(txt).to_dict())
    doc = json.loads(client.get(reverse("web:evaluation_export", args=[ev.pk, "json"])).content)
    assert subset(sample_expected("000_6da9e6de966dff24"), doc)
    assert doc["id"] == ev.pk
