"""Lists as tables (evaluations, recommendations, key actions, progress updates, history), written as CSV, XLSX or JSON.

The one home of CSV writing (`csv_lines`) and of its formula escaping
(`escape_formula`): every CSV the app writes goes through here.

A table is a list of typed columns and a stream of rows of Python values
(int, str, date, datetime, bool, None). The writers keep the types: numbers
and dates are numbers and dates in XLSX, ISO strings in CSV and JSON. Cells
a spreadsheet would run as a formula are written as text: in XLSX the cell
is typed as text; in CSV the value gets a leading apostrophe (OWASP), which
`read_csv` takes off again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import Prefetch, QuerySet

from tracking import queries
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    KeyAction,
    Recommendation,
    RecommendationTerm,
    Term,
)
from tracking.models.responses import progress_comments, today

# What a spreadsheet may take as the start of a formula (OWASP's list), with the
# full-width forms some spreadsheets and input methods treat the same way.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A plain number ("-5", "+3.25") is no formula, whatever its sign: it stays a number.
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
# Characters XML 1.0 cannot carry (openpyxl refuses them): C0 controls but tab, line feed, carriage return.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_CELL_LIMIT = 32767  # characters a spreadsheet cell holds


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    get: Callable[[Any], Any]
    kind: str = "text"  # text, int, date, datetime, bool
    width: int = 16  # characters, for XLSX


@dataclass
class Table:
    name: str
    columns: list[Column]
    rows: Iterable[list[Any]]


def escape_formula(value: Any) -> Any:
    """A text value a spreadsheet would run as a formula, prefixed with ' (OWASP); anything else as it is.

    Only text is escaped: numbers (-5 as an int) and text that is a plain
    number ("-5") stay numbers.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value  # text that looks escaped already: escaped again, so `read_csv` gives it back exactly
    return value


def unescape_formula(value: str) -> str:
    """`escape_formula` undone (for reading an export back)."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


# --- the tables ---------------------------------------------------------------------------


def _names(terms) -> str:
    return "; ".join(t.name for t in terms)


def evaluations_table(qs: QuerySet[Evaluation]) -> Table:
    qs = queries.with_counts(
        qs.select_related("office__type", "office__region", "plan", "management_response").order_by("pk")
    )
    cols = [
        Column("id", "Evaluation id", lambda e: e.pk, "int", 10),
        Column("title", "Title", lambda e: e.title, width=60),
        Column("region", "Region", lambda e: e.office.region.name if e.office.region else "", width=24),
        Column("office", "Office", lambda e: e.office.name, width=36),
        Column("office_type", "Office type", lambda e: e.office.type.code, width=10),
        Column("plan_start", "Plan start", lambda e: e.plan.start_year, "int", 10),
        Column("plan_end", "Plan end", lambda e: e.plan.end_year, "int", 10),
        Column("year", "Year", lambda e: e.year, "int", 8),
        Column("type", "Type", lambda e: e.get_type_display() if e.type else "", width=16),
        Column("status", "Evaluation status", lambda e: e.get_status_display(), width=14),
        Column("completion_date", "Completed on", lambda e: e.completion_date, "date", 12),
        Column("response_status", "Response", lambda e: getattr(getattr(e, "management_response", None), "status", ""), width=12),
        Column("recommendations", "Recommendations", lambda e: e.n_recommendations, "int", 10),
        Column("key_actions", "Key actions", lambda e: e.n_key_actions, "int", 10),
        Column("overdue", "Overdue", lambda e: e.n_overdue, "int", 10),
    ]
    return Table("evaluations", cols, _rows(qs, cols))


def recommendations_table(qs: QuerySet[Recommendation]) -> Table:
    qs = (
        qs.select_related("evaluation__office")
        .prefetch_related(Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")))
        .order_by("evaluation_id", "position")
    )
    cols = [
        Column("id", "Recommendation id", lambda r: r.pk, "int", 10),
        Column("evaluation_id", "Evaluation id", lambda r: r.evaluation_id, "int", 10),
        Column("evaluation", "Evaluation", lambda r: r.evaluation.title, width=50),
        Column("office", "Office", lambda r: r.evaluation.office.name, width=30),
        Column("number", "Number", lambda r: r.number, width=8),
        Column("text", "Recommendation", lambda r: r.text, width=70),
        Column("management_response", "Management response", lambda r: r.response_text, width=70),
        Column("description", "Description", lambda r: r.description, width=40),
        Column("category", "Category", lambda r: r.category, width=18),
        Column("thematic_areas", "Thematic areas", lambda r: r.thematic_area_as_written or _names(r.thematic_areas), width=30),
        Column("operating_principles", "Operating principles", lambda r: _names(r.terms_of(Term.Kind.OPERATING_PRINCIPLE)), width=30),
        Column(
            "organizational_priorities",
            "Organizational priorities",
            lambda r: _names(r.terms_of(Term.Kind.ORGANIZATIONAL_PRIORITY)),
            width=30,
        ),
        Column("uneg_criteria", "UNEG criteria", lambda r: _names(r.terms_of(Term.Kind.UNEG_CRITERION)), width=24),
    ]
    return Table("recommendations", cols, _rows(qs, cols))


def key_actions_table(qs: QuerySet[KeyAction], on: dt.date | None = None) -> Table:
    on = on or today()
    qs = qs.select_related(
        "evaluation__office__type", "evaluation__office__region", "evaluation__plan", "evaluation__management_response", "recommendation"
    ).prefetch_related("units", progress_comments()).order_by("evaluation_id", "recommendation__position", "position")
    cols = [
        Column("id", "Key action id", lambda a: a.pk, "int", 10),
        Column("evaluation_id", "Evaluation id", lambda a: a.evaluation_id, "int", 10),
        Column("region", "Region", lambda a: a.evaluation.office.region.name if a.evaluation.office.region else "", width=22),
        Column("office", "Office", lambda a: a.evaluation.office.name, width=30),
        Column("office_type", "Office type", lambda a: a.evaluation.office.type.code, width=10),
        Column("plan", "Plan", lambda a: a.evaluation.plan.period, width=12),
        Column("evaluation", "Evaluation", lambda a: a.evaluation.title, width=50),
        Column(
            "response_status",
            "Response",
            lambda a: getattr(getattr(a.evaluation, "management_response", None), "status", ""),
            width=12,
        ),
        Column("recommendation", "Recommendation", lambda a: a.recommendation.number, width=8),
        Column("category", "Category", lambda a: a.recommendation.category, width=18),
        Column("number", "Number", lambda a: a.number, width=8),
        Column("text", "Key action", lambda a: a.text, width=70),
        Column("responsible", "Responsible", lambda a: a.responsible, width=40),
        Column("units", "Units", lambda a: "; ".join(u.name for u in a.units.all()), width=30),
        Column("deadline", "Deadline", lambda a: a.deadline, "date", 12),
        Column("status", "Status", lambda a: a.status, width=20),
        Column("overdue", "Overdue", lambda a: a.is_overdue(on), "bool", 9),
        Column("comments", "Comments", lambda a: a.gate_comments, width=60),
    ]
    return Table("key-actions", cols, _rows(qs, cols))


def updates_table(qs: QuerySet[ActionUpdate], *, internal: bool) -> Table:
    """Progress updates. For the public (`internal` False, see tracking.permissions): no author
    column, and no evidence marked internal."""
    qs = qs.select_related("key_action__evaluation", "key_action__recommendation").order_by("created_at", "pk")

    def shown(u: ActionUpdate) -> bool:
        return internal or not u.evidence_internal

    cols = [
        Column("id", "Update id", lambda u: u.pk, "int", 10),
        Column("key_action_id", "Key action id", lambda u: u.key_action_id, "int", 10),
        Column("evaluation_id", "Evaluation id", lambda u: u.key_action.evaluation_id, "int", 10),
        Column("evaluation", "Evaluation", lambda u: u.key_action.evaluation.title, width=50),
        Column("key_action", "Key action", lambda u: u.key_action.code, width=8),
        Column("recorded_on", "Recorded on", lambda u: u.created_at, "datetime", 20),
        *([Column("author", "Author", lambda u: u.author_name, width=18)] if internal else []),
        Column("status_before", "Status before", lambda u: u.status_before, width=20),
        Column("status_after", "Status after", lambda u: u.status_after, width=20),
        Column("comment", "Comment", lambda u: u.comment, width=60),
        Column("evidence_url", "Evidence link", lambda u: u.evidence_url if shown(u) else "", width=30),
        Column("evidence_file", "Evidence file", lambda u: u.evidence_file.name if u.evidence_file and shown(u) else "", width=30),
        *([Column("evidence_internal", "Evidence internal", lambda u: u.evidence_internal, "bool", 9)] if internal else []),
        Column("source", "Source", lambda u: u.source, width=10),
    ]
    return Table("progress-updates", cols, _rows(qs, cols))


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else ""


CHANGE_COLUMNS = ["time", "user", "source", "action", "record", "object_id", "evaluation_id", "changed", "before", "after", "message", "request_id"]


def changes_table(qs: QuerySet[ChangeRecord]) -> Table:
    """History records, oldest first (`before` and `after` as JSON text)."""
    qs = qs.select_related("content_type").order_by("time", "id")
    getters: dict[str, tuple[Callable[[ChangeRecord], Any], str]] = {
        "time": (lambda c: c.time, "datetime"),
        "user": (lambda c: c.user_name, "text"),
        "source": (lambda c: c.source, "text"),
        "action": (lambda c: c.action, "text"),
        "record": (lambda c: f"{c.content_type.model}: {c.object_repr}", "text"),
        "object_id": (lambda c: c.object_id, "int"),
        "evaluation_id": (lambda c: c.evaluation_id or "", "int"),
        "changed": (lambda c: ", ".join(k for k, _, _ in c.changed_fields()), "text"),
        "before": (lambda c: _json_text(c.before), "text"),
        "after": (lambda c: _json_text(c.after), "text"),
        "message": (lambda c: c.message, "text"),
        "request_id": (lambda c: str(c.request_id or ""), "text"),
    }
    cols = [Column(name, name, getters[name][0], getters[name][1]) for name in CHANGE_COLUMNS]
    return Table("history", cols, _rows(qs, cols))


def _rows(qs: QuerySet, cols: list[Column]) -> Iterator[list[Any]]:
    # Chunked: a list of 200,000 rows is written without holding it in memory.
    for obj in qs.iterator(chunk_size=2000):
        yield [c.get(obj) for c in cols]


# --- writers -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def csv_lines(table: Table) -> Iterator[str]:
    """The table as CSV, line by line (for streaming responses)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([c.name for c in table.columns])
    yield buf.getvalue()
    for row in table.rows:
        buf.seek(0)
        buf.truncate()
        # Text is escaped; numbers, dates and yes/no are written as they are.
        writer.writerow([escape_formula(v) if isinstance(v, str) else _text(v) for v in row])
        yield buf.getvalue()


def write_csv(table: Table, out: IO[str]) -> int:
    n = -1
    for n, line in enumerate(csv_lines(table)):  # noqa: B007 (n counts the rows written)
        out.write(line)
    return n


def read_csv(text: str) -> list[dict[str, str]]:
    """Rows of a CSV export, formula escapes undone."""
    return [{k: unescape_formula(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def json_lines(table: Table) -> Iterator[str]:
    yield "[\n"
    first = True
    for row in table.rows:
        item = {c.name: json_value(v) for c, v in zip(table.columns, row)}
        yield ("" if first else ",\n") + json.dumps(item, ensure_ascii=False)
        first = False
    yield "\n]\n"


def xlsx_text(value: str) -> str:
    """Text a spreadsheet cell can hold: control characters XML cannot carry dropped, line breaks as line
    feeds, cut at the cell limit.

    Only in XLSX cells: CSV, JSON and the pages keep the text as stored. A
    single ESC in a comment would otherwise make openpyxl refuse the whole file.
    """
    # XML reads a carriage return as a line feed: written as one, so the cell holds what was written.
    value = _XLSX_ILLEGAL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    if len(value) > XLSX_CELL_LIMIT:
        value = value[: XLSX_CELL_LIMIT - 1] + "…"
    return value


def write_xlsx(table: Table, out: IO[bytes]) -> int:
    """Typed cells, a bold frozen header, readable widths, an autofilter. Streams rows (write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table.name[:31])
    ws.freeze_panes = "A2"
    for i, c in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(c.width, len(c.header) + 2)
    header = []
    for c in table.columns:
        cell = WriteOnlyCell(ws, value=c.header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        header.append(cell)
    ws.append(header)
    wrap = Alignment(vertical="top", wrap_text=True)
    n = 0
    for row in table.rows:
        cells = []
        for c, value in zip(table.columns, row):
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)  # Excel has no time zones: UTC
            if isinstance(value, str):
                value = xlsx_text(value)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                # Text, never a formula, whatever it starts with: typed as a string, and marked
                # with the quote prefix (Excel's ') where it looks like one, so that editing the
                # cell in a spreadsheet keeps it text.
                cell.data_type = "s"
                if value.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
                if c.width >= 40:
                    cell.alignment = wrap
            elif c.kind == "date" and value is not None:
                cell.number_format = "yyyy-mm"
            elif c.kind == "datetime" and value is not None:
                cell.number_format = "yyyy-mm-dd hh:mm"
            cells.append(cell)
        ws.append(cells)
        n += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{n + 1}"
    wb.save(out)
    return n


def read_xlsx(data: bytes) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of an XLSX export (values as typed cells)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]
