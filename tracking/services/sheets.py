"""Spreadsheets in: recommendations, key actions and their progress from an XLSX or CSV file.

The columns are those the exports write (reports/tables.py: the headers of the
XLSX, the names of the CSV), matched case- and space-insensitively, or those of
the template (`template_xlsx`). A spreadsheet is one more reader of the GATE
import: each evaluation it names becomes a `gateformat.Document` (the stored
response, with the values the sheet gives laid over it) that the importer
consumes with its own matching, update and conflict rules
(tracking/services/importer/update.py). What the sheet does not give is left
as stored; rows the sheet leaves out are kept (never archived, never deleted).

A sheet keeps its own baseline beside the GATE page's (`imported["@sheet"]`):
a value the sheet gave last time and changed here since is kept, and the
sheet's other value reported as a conflict, as for a page. Where the sheet gave
nothing yet, the page's baseline stands in for it.

The whole file is read and checked before anything is written; every bad cell
is reported by sheet, row and column; the file is then imported in one
transaction, all or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch

import gateformat
from gateformat.months import month_text
from gateformat.vocab import (
    ALL_KEY_ACTION_STATUSES,
    CATEGORIES,
    KEY_ACTION_STATUSES,
    OFFICE_TYPES,
    canonical,
    join_list,
)

from .. import permissions
from ..actor import Actor
from ..models import ActionUpdate, Evaluation, KeyAction, Office, Recommendation, RecommendationTerm, Term
from ..models.responses import progress_comments
from ..permissions import restrict
from .importer import FAILED, Importer, ImportResult
from .importer.document import DocumentImport
from .importer.update import CONFLICTS

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000  # data rows in a file, all sheets together
MAX_ERRORS = 200  # listed; the count says how many more
SHEET = "@sheet"  # in a record's baseline: what spreadsheets gave last, by field

# What a spreadsheet may take as the start of a formula: the CSV export escapes these with ' (reports/tables.py).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class SheetError(ValueError):
    """A file that cannot be imported as it stands: every problem found, located."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""))


@dataclass(frozen=True)
class Col:
    field: str
    header: str  # as the XLSX export and the template write it
    kind: str = "text"  # text, int, month, status, category, plan
    required: bool = False

    def keys(self) -> set[str]:
        return {_key(self.field), _key(self.header)}


KEY_ACTIONS, RECOMMENDATIONS = "Key actions", "Recommendations"

# Where a row belongs: the same columns head both sheets.
EVALUATION_COLUMNS = [
    Col("evaluation_id", "Evaluation id", "int"),
    Col("office", "Office"),
    Col("office_type", "Office type"),
    Col("plan", "Plan", "plan"),
    Col("evaluation", "Evaluation"),
]

COLUMNS: dict[str, list[Col]] = {
    RECOMMENDATIONS: [
        Col("id", "Recommendation id", "int"),
        *EVALUATION_COLUMNS,
        Col("number", "Number", required=True),
        Col("text", "Recommendation", required=True),
        Col("management_response", "Management response"),
        Col("description", "Description"),
        Col("category", "Category", "category"),
        Col("thematic_areas", "Thematic areas"),
        Col("operating_principles", "Operating principles"),
        Col("organizational_priorities", "Organizational priorities"),
        Col("uneg_criteria", "UNEG criteria"),
    ],
    KEY_ACTIONS: [
        Col("id", "Key action id", "int"),
        *EVALUATION_COLUMNS,
        Col("recommendation", "Recommendation", required=True),
        Col("number", "Number", required=True),
        Col("text", "Key action", required=True),
        Col("responsible", "Responsible"),
        Col("deadline", "Deadline", "month"),
        Col("status", "Status", "status"),
        Col("comments", "Comments"),
    ],
}
# Columns the exports write that an import does not read (counts, derived values, the region of the office).
IGNORED = {
    RECOMMENDATIONS: {"region"},
    KEY_ACTIONS: {"region", "response", "responsestatus", "category", "units", "overdue"},
}
# Sheets of a workbook known by their title ("key-actions" as the export names it, "Key actions" as the template).
SHEET_TITLES = {"keyactions": KEY_ACTIONS, "recommendations": RECOMMENDATIONS}
SKIPPED_TITLES = {"readme", "about", "notes", "instructions"}

# Sheet field -> the importer's field (what a record's baseline holds).
REC_FIELDS = {
    "number": ("number",),
    "text": ("text",),
    "management_response": ("response_text",),
    "description": ("description",),
    "category": ("category",),
    "thematic_areas": ("thematic_area_as_written", "tags"),
    "operating_principles": ("tags",),
    "organizational_priorities": ("tags",),
    "uneg_criteria": ("tags",),
}
ACTION_FIELDS = {f: (f,) for f in ("number", "text", "responsible", "deadline", "status", "comments")}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).casefold()


# --- reading -----------------------------------------------------------------------------------


@dataclass
class Cell:
    value: Any
    raw: str
    column: str  # letter
    header: str


@dataclass
class Row:
    sheet: str
    number: int  # in the sheet, 1-based (the header is row 1, or where it was found)
    cells: dict[str, Cell]
    bad: bool = False  # a cell could not be read (reported): the row is not used

    def at(self, name: str) -> str:
        cell = self.cells[name]
        return f'sheet "{self.sheet}", row {self.number}, column {cell.column} ({cell.header})'

    def where(self) -> str:
        return f'sheet "{self.sheet}", row {self.number}'

    def get(self, name: str, default: Any = None) -> Any:
        cell = self.cells.get(name)
        return default if cell is None else cell.value


@dataclass
class Table:
    kind: str
    title: str
    rows: list[Row]
    columns: set[str]


@dataclass
class SheetResult:
    """What reading and importing a file gave: its errors (nothing written), or the importer's results."""

    source: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    results: list[ImportResult] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and all(r.outcome != FAILED for r in self.results)

    @property
    def conflicts(self) -> list:
        return [c for r in self.results for c in r.conflicts]

    def counts(self) -> dict[str, int]:
        return {k: sum(r.outcome == k for r in self.results) for k in ("created", "updated", "unchanged", "failed")}

    def summary(self) -> list[str]:
        """The lines the command line prints, and the page shows."""
        if self.errors:
            more = len(self.errors) - MAX_ERRORS
            return [
                f"{self.source}: nothing was imported: {len(self.errors)} problem{'s' if len(self.errors) != 1 else ''}.",
                *self.errors[:MAX_ERRORS],
                *([f"(and {more} more)"] if more > 0 else []),
            ]
        n = self.counts()
        verb = "Imported" if self.written else "Would import"
        lines = [
            f"{verb} {len(self.results)} evaluations from {self.source}: {n['created']} created, {n['updated']} updated, "
            f"{n['unchanged']} unchanged, {n['failed']} failed."
        ]
        changes = sum(r.status_changes for r in self.results)
        units = sum(r.units_created for r in self.results)
        if changes or units:
            lines.append(f"{changes} key action status changes recorded; {units} new units.")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        for r in self.results:
            for w in r.warnings:
                lines.append(f"warning: {w}")
        if self.conflicts:
            taken = sum(c.taken for c in self.conflicts)
            lines.append(
                f"{len(self.conflicts)} conflicts (a value changed here since the sheet or page was last imported"
                + (f"; the sheet's value taken for {taken}" if taken else "; ours kept")
                + "):"
            )
            lines += [f"  {c}" for c in self.conflicts]
        for r in self.results:
            if r.outcome == FAILED:
                lines.append(f"failed: {r.error}")
            elif r.changes:
                lines.append(f"{len(r.changes)} changes{' on an approved response' if r.approved else ''}:")
                lines += [f"  {c}" for c in r.changes]
        return lines


def read_tables(data: bytes, filename: str) -> tuple[list[Table], list[str], list[str]]:
    """The sheets of an XLSX or CSV file, their cells typed, warnings and the problems found (rows with a bad
    cell marked `bad`); raises SheetError when no sheet can be read at all."""
    if len(data) > MAX_BYTES:
        raise SheetError([f"{filename}: the file is {len(data) / 1048576:.1f} MB; a spreadsheet import takes {MAX_BYTES // 1048576} MB at most"])
    name = filename.lower()
    if name.endswith(".xlsx"):
        raw = _xlsx_sheets(data, filename)
    elif name.endswith(".csv"):
        raw = [("", _csv_rows(data, filename))]
    else:
        raise SheetError([f"{filename}: not a spreadsheet this import reads (an .xlsx or .csv file)"])
    errors: list[str] = []
    warnings: list[str] = []
    tables: list[Table] = []
    total = 0
    for title, rows in raw:
        table = _table(title, rows, errors, warnings)
        if table is None:
            continue
        total += len(table.rows)
        tables.append(table)
    if total > MAX_ROWS:
        raise SheetError([f"{filename}: {total} rows; a spreadsheet import takes {MAX_ROWS} at most (split the file)"])
    if not tables and not errors:
        errors.append(f"{filename}: no sheet of recommendations or key actions (their header rows name the export's columns)")
    if not tables:
        raise SheetError(errors)
    return tables, warnings, errors


def _xlsx_sheets(data: bytes, filename: str) -> list[tuple[str, list[list[Any]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SheetError([f"{filename}: not a readable XLSX file ({type(exc).__name__})"]) from None
    sheets = []
    try:
        for ws in wb.worksheets:
            rows = []
            for row in ws.iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 10:
                    raise SheetError([f'{filename}: sheet "{ws.title}" has more than {MAX_ROWS} rows; a spreadsheet import takes {MAX_ROWS} at most'])
            sheets.append((ws.title, rows))
    finally:
        wb.close()
    return sheets


def _csv_rows(data: bytes, filename: str) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError([f"{filename}: not UTF-8 text (byte {exc.start + 1}); save the CSV as UTF-8"]) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        rows.append([_unescape(v) for v in row])
        if len(rows) > MAX_ROWS + 10:
            raise SheetError([f"{filename}: more than {MAX_ROWS} rows; a spreadsheet import takes {MAX_ROWS} at most"])
    return rows


def _unescape(value: str) -> str:
    """The CSV export's formula escape (a leading ') taken off again."""
    if value.startswith("'") and value.lstrip("'").startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _table(title: str, rows: list[list[Any]], errors: list[str], warnings: list[str]) -> Table | None:
    kind = SHEET_TITLES.get(_key(title)) if title else None
    if title and kind is None and _key(title) in SKIPPED_TITLES:
        return None
    # The header: the first of the first rows that names two columns or more.
    header_at = None
    for i, row in enumerate(rows[:10]):
        keys = {_key(v) for v in row if v is not None and str(v).strip()}
        if kind is None:
            # A CSV file (or a sheet of another title): told by the columns only one kind has.
            if keys & {_key(h) for h in ("Key action id", "Responsible", "Key action", "Deadline", "Status")}:
                kind = KEY_ACTIONS
            elif keys & {_key(h) for h in ("Recommendation id", "Management response", "Thematic areas", "Description")}:
                kind = RECOMMENDATIONS
            if kind is None:
                continue
        known = set().union(*(c.keys() for c in COLUMNS[kind]))
        if len(keys & known) >= 2:
            header_at = i
            break
    shown = title or (kind or "CSV")
    if kind is None:
        if title:
            warnings.append(f'sheet "{title}" was not read: neither recommendations nor key actions')
            return None
        errors.append("the CSV file's header names neither key actions (Key action id, Key action, Responsible, Deadline, Status) nor recommendations (Recommendation id, Management response, Description)")
        return None
    title = title or kind
    if header_at is None:
        errors.append(f'sheet "{shown}": no header row naming the columns ({", ".join(c.header for c in COLUMNS[kind] if c.required)})')
        return None
    header = rows[header_at]
    by_key = {k: c for c in COLUMNS[kind] for k in c.keys()}
    found: dict[int, Col] = {}
    seen: dict[str, str] = {}
    for i, h in enumerate(header):
        if h is None or not str(h).strip():
            continue
        k = _key(h)
        col = by_key.get(k)
        if col is None:
            if k not in IGNORED[kind]:
                warnings.append(f'sheet "{title}", column {_letter(i)} ("{h}") is not one the import reads: ignored')
            continue
        if col.field in seen:
            errors.append(f'sheet "{title}", column {_letter(i)} ("{h}"): {col.header} is given twice (also column {seen[col.field]})')
            continue
        seen[col.field] = _letter(i)
        found[i] = col
    fields = {c.field for c in found.values()}
    missing = [c.header for c in COLUMNS[kind] if c.required and c.field not in fields]
    if missing:
        errors.append(f'sheet "{title}": missing column{"s" if len(missing) > 1 else ""} {", ".join(missing)}')
    if "evaluation_id" not in fields and not {"office", "evaluation"} <= fields:
        errors.append(f'sheet "{title}": which evaluation each row belongs to: an Evaluation id column, or Office and Evaluation (title) columns')
    if missing:
        return Table(kind, title, [], fields)
    out = []
    for n, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        cells = {}
        r = Row(title, n, cells)
        for i, col in found.items():
            value = row[i] if i < len(row) else None
            raw = "" if value is None else (value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value))
            cells[col.field] = Cell(None, raw, _letter(i), col.header)
            try:
                cells[col.field].value = _typed(col.kind, value)
            except ValueError as exc:
                errors.append(f'{r.at(col.field)}: "{raw}" {exc}')
                r.bad = True
        out.append(r)
    return Table(kind, title, out, fields)


def _typed(kind: str, value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and kind != "month":
        value = int(value)
    if kind == "int":
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if not text.isdigit():
            raise ValueError("is not a whole number")
        return int(text)
    if kind == "month":
        return _month(value)
    if kind == "plan":
        if value is None or str(value).strip() == "":
            return None
        m = re.fullmatch(r"\s*((?:19|20)\d\d)\s*[-–/]\s*((?:19|20)\d\d)\s*", str(value))
        if not m or int(m[1]) > int(m[2]):
            raise ValueError("is not a plan period (as 2022 - 2025)")
        return (int(m[1]), int(m[2]))
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    text = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)
    text = text.replace("\r\n", "\n")
    # Text as written (a round trip gives back what was exported); a status or category trimmed.
    return text if kind == "text" else text.strip()


def _month(value: Any) -> str:
    """A deadline as the importer reads it ("2025-03"), from a date cell or text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    formats = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m", "%Y/%m", "%m/%Y", "%b %Y", "%B %Y")
    for fmt in formats:
        try:
            day = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return f"{day.year:04d}-{day.month:02d}"
    raise ValueError("is not a date (write it as 2025-03 or 2025-03-31)")


# --- the documents the sheets describe ------------------------------------------------------


@dataclass
class _Stored:
    evaluation: Evaluation
    doc: gateformat.Document
    recs: dict[int, gateformat.Recommendation]  # by stored id
    actions: dict[int, tuple[gateformat.Recommendation, gateformat.KeyAction]]


def _stored(evaluations: list[Evaluation]) -> dict[int, _Stored]:
    """The stored responses as documents (as the GATE export writes them), with their records' ids."""
    qs = Evaluation.objects.filter(pk__in=[e.pk for e in evaluations]).select_related(
        "office__type", "plan__office", "management_response"
    ).prefetch_related(
        Prefetch(
            "recommendations",
            queryset=Recommendation.objects.order_by("position").prefetch_related(
                Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
                Prefetch("key_actions", queryset=KeyAction.objects.order_by("position").prefetch_related(progress_comments())),
            ),
        )
    )
    out = {}
    for ev in qs:
        recs, actions, by_id = [], {}, {}
        for rec in ev.recommendations.all():
            if rec.archived_at is not None:
                continue  # archived: not on any page, left as it is
            thematic = rec.thematic_area_as_written or join_list([t.name for t in rec.terms_of(Term.Kind.THEMATIC_AREA)])
            item = gateformat.Recommendation(
                number=rec.number,
                text=rec.text,
                management_response=rec.response_text,
                description=rec.description,
                category=rec.category,
                thematic_area=thematic,
                operating_principles=[t.name for t in rec.terms_of(Term.Kind.OPERATING_PRINCIPLE)],
                organizational_priorities=[t.name for t in rec.terms_of(Term.Kind.ORGANIZATIONAL_PRIORITY)],
                uneg_criteria=[t.name for t in rec.terms_of(Term.Kind.UNEG_CRITERION)],
                label=rec.label,
            )
            item.sheet_given = set()
            for a in rec.key_actions.all():
                if a.archived_at is not None:
                    continue
                action = gateformat.KeyAction(
                    number=a.number,
                    text=a.text,
                    responsible=a.responsible,
                    deadline=month_text(a.deadline),
                    status=a.status,
                    comments=a.gate_comments,
                    label=a.label,
                )
                action.sheet_given = set()
                item.key_actions.append(action)
                actions[a.pk] = (item, action)
            recs.append(item)
            by_id[rec.pk] = item
        header, response = ev.gate_header()
        doc = gateformat.Document(evaluation=header, management_response=response, recommendations=recs)
        out[ev.pk] = _Stored(ev, doc, by_id, actions)
    return out


class _Builder:
    """Rows laid over the stored documents (or new ones), every problem collected with its place."""

    def __init__(self, actor: Actor, tables: list[Table], source: str):
        self.actor = actor
        self.tables = tables
        self.source = source
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.docs: dict[Any, gateformat.Document] = {}  # evaluation key -> document
        self.stored: dict[int, _Stored] = {}
        self.seen: dict[tuple, str] = {}

    def build(self) -> list[gateformat.Document]:
        readable = restrict(self.actor, Evaluation)
        ids = {r.get("evaluation_id") for t in self.tables for r in t.rows if r.get("evaluation_id")}
        found = {e.pk: e for e in readable.filter(pk__in=ids)}
        offices: dict[str, Office] = {}
        for office in Office.objects.select_related("type"):
            for name in [office.name, *office.aliases]:
                offices.setdefault(name.casefold(), office)
        titled: dict[tuple, list[Evaluation]] = {}
        titles = {r.get("evaluation").strip() for t in self.tables for r in t.rows if not r.get("evaluation_id") and r.get("evaluation")}
        if titles:
            for e in readable.filter(title__in=titles).select_related("plan"):
                titled.setdefault((e.office_id, e.title.casefold()), []).append(e)
        # Rows to the evaluations they belong to.
        keyed: list[tuple[Table, Row, Any]] = []
        for table in self.tables:
            for row in table.rows:
                if row.bad:
                    continue
                key = self._evaluation_key(row, found, offices, titled)
                if key is not None:
                    keyed.append((table, row, key))
        wanted = [found[k[1]] if k[0] == "id" else k[1] for _, _, k in keyed if k[0] in ("id", "ev")]
        self.stored = _stored(list({e.pk: e for e in wanted}.values()))
        for table, row, key in sorted(keyed, key=lambda t: t[0].kind != RECOMMENDATIONS):
            doc = self._document(key, row)
            if doc is None:
                continue
            if table.kind == RECOMMENDATIONS:
                self._recommendation(doc, key, row)
            else:
                self._action(doc, key, row)
        for key, doc in self.docs.items():
            if key[0] == "new" and not doc.recommendations:
                self.errors.append(f'evaluation "{doc.evaluation.title}": a new evaluation with no recommendation')
        return [d for d in self.docs.values() if d is not None]

    def _evaluation_key(self, row: Row, found, offices, titled) -> tuple | None:
        pk = row.get("evaluation_id")
        if pk:
            if pk not in found:
                self.errors.append(f'{row.at("evaluation_id")}: no evaluation {pk} that you may read')
                return None
            return ("id", pk)
        office_name = (row.get("office") or "").strip()
        title = (row.get("evaluation") or "").strip()
        if not office_name or not title:
            self.errors.append(f"{row.where()}: which evaluation? Give its Evaluation id, or its Office and Evaluation (title)")
            return None
        office = offices.get(office_name.casefold())
        plan = row.get("plan")
        if office is not None:
            known = [e for e in titled.get((office.pk, title.casefold()), []) if plan is None or (e.plan.start_year, e.plan.end_year) == plan]
            if len(known) == 1:
                return ("ev", known[0])
            if len(known) > 1:
                self.errors.append(f'{row.at("evaluation")}: {len(known)} evaluations of {office.name} are titled "{title}": give the Evaluation id or the Plan')
                return None
        if plan is None:
            where = row.at("plan") if "plan" in row.cells else row.where()
            self.errors.append(f'{where}: no evaluation "{title}" of {office_name} is stored: for a new one, give its Plan (as 2022 - 2025)')
            return None
        code = (row.get("office_type") or "").strip() or (office.type.code if office else "")
        code = canonical(code, OFFICE_TYPES) or ""
        if not code:
            where = row.at("office_type") if "office_type" in row.cells else row.where()
            self.errors.append(f"{where}: a new evaluation's office needs its Office type (one of: {', '.join(OFFICE_TYPES)})")
            return None
        return ("new", office.name if office else office_name, code, plan, title)

    def _document(self, key: tuple, row: Row) -> gateformat.Document | None:
        if key[0] == "new":
            dkey: tuple = ("new", key[1].casefold(), key[3], key[4].casefold())
        else:
            dkey = ("ev", key[1].pk if key[0] == "ev" else key[1])
        if dkey in self.docs:
            return self.docs[dkey]
        if key[0] in ("id", "ev"):
            stored = self.stored[dkey[1]]
            ev = stored.evaluation
            if not permissions.can(self.actor, permissions.IMPORT_DOCUMENTS, ev.office):
                self.errors.append(f'{row.where()}: you may not import into "{ev.title}" ({ev.office.name})')
                self.docs[dkey] = None
                return None
            doc = stored.doc
            doc.stored = stored
        else:
            _, office, code, (start, end), title = key
            doc = gateformat.Document(
                evaluation=gateformat.Evaluation(title, office, office, code, start, end),
                management_response=gateformat.ManagementResponse(status=""),
            )
            doc.stored = None
        doc.source = self.source
        self.docs[dkey] = doc
        return doc

    def _once(self, what: tuple, row: Row, label: str) -> bool:
        if what in self.seen:
            self.errors.append(f"{row.where()}: {label} is given twice (also {self.seen[what]})")
            return False
        self.seen[what] = row.where()
        return True

    def _recommendation(self, doc: gateformat.Document, key, row: Row) -> None:
        stored = doc.stored
        rec = None
        number = (row.get("number") or "").strip()
        if row.get("id"):
            rec = stored.recs.get(row.get("id")) if stored else None
            if rec is None:
                self.errors.append(f'{row.at("id")}: no recommendation {row.get("id")} in "{doc.evaluation.title}"')
                return
        if not number:
            self.errors.append(f"{row.at('number')}: a recommendation needs its number")
            return
        if rec is None:
            rec = next((r for r in doc.recommendations if r.number == number), None)
        if not self._once(("rec", id(doc), id(rec) if rec else number), row, f"recommendation {number}"):
            return
        text = row.get("text") or ""
        if not text.strip():
            self.errors.append(f"{row.at('text')}: a recommendation needs its text")
            return
        if rec is None:
            rec = gateformat.Recommendation(number=number, text=text)
            rec.sheet_given = set()
            doc.recommendations.append(rec)
        rec.line = row.number
        values = {
            "number": number,
            "text": text,
            "management_response": ("management_response", row.get("management_response")),
            "description": ("description", row.get("description")),
            "category": ("category", row.get("category")),
            "thematic_areas": ("thematic_area", row.get("thematic_areas")),
            "operating_principles": ("operating_principles", _list(row.get("operating_principles"))),
            "organizational_priorities": ("organizational_priorities", _list(row.get("organizational_priorities"))),
            "uneg_criteria": ("uneg_criteria", _list(row.get("uneg_criteria"))),
        }
        if "category" in row.cells and row.get("category") and row.get("category") != rec.category:
            category = canonical(row.get("category"), CATEGORIES)
            if category is None:
                self.errors.append(f'{row.at("category")}: "{row.get("category")}" is not a category (one of: {", ".join(CATEGORIES)})')
                return
            values["category"] = ("category", category)
        for name, value in values.items():
            if name not in row.cells:
                continue
            attr, v = (name, value) if not isinstance(value, tuple) else value
            setattr(rec, attr, v)
            rec.sheet_given |= set(REC_FIELDS[name])

    def _action(self, doc: gateformat.Document, key, row: Row) -> None:
        stored = doc.stored
        rec_number = (row.get("recommendation") or "").strip()
        number = (row.get("number") or "").strip()
        rec = next((r for r in doc.recommendations if r.number == rec_number), None)
        action = None
        if row.get("id"):
            pair = stored.actions.get(row.get("id")) if stored else None
            if pair is None:
                self.errors.append(f'{row.at("id")}: no key action {row.get("id")} in "{doc.evaluation.title}"')
                return
            if rec is not pair[0]:
                self.errors.append(
                    f'{row.at("recommendation")}: key action {row.get("id")} belongs to recommendation {pair[0].number}, '
                    f'the row says "{rec_number}" (a key action cannot move between recommendations here)'
                )
                return
            action = pair[1]
        if rec is None:
            self.errors.append(
                f'{row.at("recommendation")}: recommendation "{rec_number}" is neither stored for "{doc.evaluation.title}" '
                f'nor in the sheet "{RECOMMENDATIONS}"'
            )
            return
        if not number:
            self.errors.append(f"{row.at('number')}: a key action needs its number")
            return
        if action is None:
            action = next((a for a in rec.key_actions if a.number == number), None)
        if not self._once(("action", id(doc), id(action) if action else (rec_number, number)), row, f"key action {rec_number}: {number}"):
            return
        text = row.get("text") or ""
        if not text.strip():
            self.errors.append(f"{row.at('text')}: a key action needs its text")
            return
        status = row.get("status") or ""
        if "status" in row.cells and status and (action is None or status != action.status):
            good = canonical(status, ALL_KEY_ACTION_STATUSES)
            if good is None:
                self.errors.append(f'{row.at("status")}: "{status}" is not a status (one of: {", ".join(KEY_ACTION_STATUSES)})')
                return
            status = good
        if action is None:
            action = gateformat.KeyAction(number=number, text=text, responsible="", deadline="", status=status or "Not Initiated")
            action.sheet_given = set()
            rec.key_actions.append(action)
        action.line = row.number
        for name in ACTION_FIELDS:
            if name not in row.cells:
                continue
            value = {"number": number, "text": text, "status": status}.get(name, row.get(name))
            if name == "status" and not value:
                continue  # no status given: the stored one stands
            setattr(action, name, value)
            action.sheet_given |= set(ACTION_FIELDS[name])


def _list(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").split(";") if p.strip()]


# --- importing ------------------------------------------------------------------------------


class SheetDocumentImport(DocumentImport):
    """The GATE import of one document, for a document a spreadsheet made.

    Only the fields the sheet gives are compared and taken; their baseline is
    the sheet's own (`imported["@sheet"]`), the page's standing in where the
    sheet gave nothing yet.
    """

    _given: set[str] | None = None

    def recommendation_values(self, rec, tags):
        self._given = getattr(rec, "sheet_given", None)
        return super().recommendation_values(rec, tags)

    def action_values(self, action):
        self._given = getattr(action, "sheet_given", None)
        return super().action_values(action)

    def response_values(self, status):
        self._given = set()  # a sheet gives nothing of the response itself
        return super().response_values(status)

    def merge(self, row, record, page, ours, line):
        given, self._given = self._given, None
        if given is None:
            return super().merge(row, record, page, ours, line)
        full = dict(row.imported or {})
        sheet = dict(full.get(SHEET, {}))
        page_base = {k: v for k, v in full.items() if not k.startswith("@")}
        base = {**page_base, **{k: v for k, v in sheet.items() if k != CONFLICTS}}
        if sheet.get(CONFLICTS):
            base[CONFLICTS] = sheet[CONFLICTS]
        row.imported = base
        taken = super().merge(row, record, {k: v for k, v in page.items() if k in given}, ours, line)
        merged = row.imported
        sheet.update({k: merged[k] for k in page if k in given and k in merged})
        sheet.pop(CONFLICTS, None)
        if merged.get(CONFLICTS):
            sheet[CONFLICTS] = merged[CONFLICTS]
        row.imported = {**full, SHEET: sheet}
        row._baseline_changed = row.imported != full
        return taken


    def _update_actions(self, rec_row, matched, evaluation):
        """As for a page; and a new comment the sheet gives is a progress update, with the status change if any."""
        before = {row.pk: row.comments for row, _ in matched[0] if row is not None}
        n = len(self.updates)
        super()._update_actions(rec_row, matched, evaluation)
        by_action = {u.key_action.pk: u for u in self.updates[n:]}
        for row, _ in matched[0]:
            if row is None or row.comments == before[row.pk] or not row.comments.strip():
                continue
            comment = _UNDATED.sub("", row.comments).strip()
            update = by_action.get(row.pk)
            if update is not None:
                update.comment = comment
                continue
            self.updates.append(
                ActionUpdate(
                    key_action=row,
                    status_before=row.status,
                    status_after=row.status,
                    comment=comment,
                    author=self.actor.user if self.actor.is_authenticated else None,
                    author_name=self.actor.name,
                    source=ActionUpdate.Source.IMPORT,
                )
            )


# "2026-12-02: " before a comment, as the exports date the latest one.
_UNDATED = re.compile(r"^\s*\d{4}-\d{2}-\d{2}:\s*")


class SheetImporter(Importer):
    document_class = SheetDocumentImport


def read(actor: Actor, data: bytes, filename: str) -> tuple[list[gateformat.Document], SheetResult]:
    """The documents a file describes, or its problems (in the result); writes nothing."""
    result = SheetResult(source=filename)
    try:
        tables, result.warnings, result.errors = read_tables(data, filename)
    except SheetError as exc:
        result.errors = exc.errors
        return [], result
    builder = _Builder(actor, tables, filename)
    docs = builder.build()
    result.errors += builder.errors
    result.warnings += builder.warnings
    return ([] if result.errors else docs), result


def import_sheet(actor: Actor, data: bytes, filename: str, *, prefer_page: bool = False, dry_run: bool = False) -> SheetResult:
    """Read the whole file, then import it in one transaction: all of it, or (on any error or refusal) nothing.

    `dry_run`: everything checked and done, then rolled back (the preview).
    Raises PermissionDenied if the actor may not import at all.
    """
    importer = SheetImporter(actor, prefer_page=prefer_page)  # refuses whoever may not import
    with transaction.atomic():
        docs, result = read(actor, data, filename)
        if result.errors:
            return result
        result.results = importer.import_documents(docs)
        if dry_run or not result.ok:
            transaction.set_rollback(True)
        else:
            result.written = True
    return result


# --- an upload kept between its preview and its confirmation ---------------------------------
#
# The file stays on the server under a generated name, with who uploaded it, its hash and
# when; the browser holds only the name. Confirming claims the file by renaming it (one
# request wins: a double click or Back imports once), checks its hash, imports it, and
# keeps the summary for the page the person is sent back to.

PENDING_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


class PendingGone(Exception):
    """No such upload of this person's (never made, expired, or someone else's)."""


def _pending_dir():
    return Path(settings.MEDIA_ROOT) / "sheet-imports"


@dataclass
class Pending:
    token: str
    user_id: int
    filename: str
    sha256: str
    created: float
    state: str = "pending"  # pending, importing, done
    summary: list[str] = field(default_factory=list)
    ok: bool = True

    @property
    def data_path(self):
        return _pending_dir() / f"{self.token}.data"

    def save(self) -> None:

        meta = _pending_dir() / f"{self.token}.json"
        tmp = meta.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__), encoding="utf-8")
        os.replace(tmp, meta)

    def data(self) -> bytes:

        data = self.data_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise PendingGone("the uploaded file changed on the server since it was checked: upload it again")
        return data


def keep_upload(actor: Actor, data: bytes, filename: str) -> Pending:
    """Keep an upload for its preview; refuses whoever may not import, and files too large."""

    permissions.require(actor, permissions.IMPORT_DOCUMENTS)
    if len(data) > MAX_BYTES:
        raise SheetError([f"{filename}: the file is {len(data) / 1048576:.1f} MB; a spreadsheet import takes {MAX_BYTES // 1048576} MB at most"])
    if not filename.lower().endswith((".xlsx", ".csv")):
        raise SheetError([f"{filename}: not a spreadsheet this import reads (an .xlsx or .csv file)"])
    folder = _pending_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(time.time())
    pending = Pending(secrets.token_urlsafe(24), actor.user.pk, filename[-200:], hashlib.sha256(data).hexdigest(), time.time())
    pending.data_path.write_bytes(data)
    pending.save()
    return pending


def _sweep(now: float) -> None:
    """Uploads older than their expiry removed (files and summaries)."""
    for path in _pending_dir().iterdir():
        try:
            if now - path.stat().st_mtime > PENDING_SECONDS:
                path.unlink()
        except FileNotFoundError:
            pass


def pending(actor: Actor, token: str) -> Pending:
    """This person's upload by its name; PendingGone if there is none (or it expired)."""

    if not _TOKEN.fullmatch(token or "") or not actor.is_authenticated:
        raise PendingGone("no such upload")
    try:
        meta = json.loads((_pending_dir() / f"{token}.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        raise PendingGone("no such upload (uploads are kept for an hour)") from None
    item = Pending(**meta)
    if item.user_id != actor.user.pk:
        raise PendingGone("no such upload")
    if item.state == "pending" and time.time() - item.created > PENDING_SECONDS:
        raise PendingGone("this upload expired (uploads are kept for an hour): upload the file again")
    return item


def preview(actor: Actor, item: Pending) -> SheetResult:
    """What importing the upload would do; writes nothing."""
    return import_sheet(actor, item.data(), item.filename, dry_run=True)


def confirm(actor: Actor, item: Pending) -> Pending:
    """Import the upload, once: the first request claims it, any other finds it claimed or done."""

    claimed = item.data_path.with_suffix(".importing")
    try:
        os.rename(item.data_path, claimed)
    except FileNotFoundError:
        return pending(actor, item.token)  # claimed by another request: its state as it stands
    item.state = "importing"
    item.save()
    try:

        data = claimed.read_bytes()
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise PendingGone("the uploaded file changed on the server since it was checked: upload it again")
        result = import_sheet(actor, data, item.filename)
    except BaseException:
        os.rename(claimed, item.data_path)  # nothing written: it may be confirmed again
        item.state = "pending"
        item.save()
        raise
    if not result.ok:
        os.rename(claimed, item.data_path)  # refused as a whole: shown again, nothing written
        item.state, item.summary, item.ok = "pending", result.summary(), False
        item.save()
        return item
    claimed.unlink()
    item.state, item.summary, item.ok = "done", result.summary(), True
    item.save()
    return item


def may_import(actor: Actor) -> bool:
    try:
        permissions.require(actor, permissions.IMPORT_DOCUMENTS)
    except PermissionDenied:
        return False
    return True


# --- the template ----------------------------------------------------------------------------

TEMPLATE_NOTE = (
    "Fill in one row per recommendation (sheet Recommendations) and one per key action (sheet Key actions). "
    "Name the evaluation by its Evaluation id, or by Office, Plan and Evaluation title for a new one. "
    "Deadlines as 2025-03 or a date; Status one of: " + ", ".join(KEY_ACTION_STATUSES) + ". "
    "An exported XLSX or CSV file of recommendations or key actions can be imported back as it is."
)


def template_xlsx(out: io.BytesIO) -> None:
    """The template: a note, the two sheets with the export's headers, lists for status and category, one example row each."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    note = wb.active
    note.title = "Read me"
    note["A1"] = "Importing recommendations and key actions"
    note["A1"].font = Font(bold=True, size=14)
    note["A3"] = TEMPLATE_NOTE
    note["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    note.column_dimensions["A"].width = 100
    note.row_dimensions[3].height = 90
    example_eval = {"office": "Country office name", "office_type": "CO", "plan": "2022 - 2025", "evaluation": "Evaluation title"}
    sheets = {
        RECOMMENDATIONS: (
            [c for c in COLUMNS[RECOMMENDATIONS] if c.field != "id"],
            {**example_eval, "number": "1", "text": "Strengthen the monitoring of results.", "management_response": "Agreed.",
             "category": "Accepted"},
        ),
        KEY_ACTIONS: (
            [c for c in COLUMNS[KEY_ACTIONS] if c.field != "id"],
            {**example_eval, "recommendation": "1", "number": "1.1", "text": "Set up a results framework.",
             "responsible": "Programme unit", "deadline": "2025-06", "status": "Not Initiated"},
        ),
    }
    for title, (cols, example) in sheets.items():
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        for i, c in enumerate(cols, start=1):
            cell = ws.cell(row=1, column=i, value=c.header)
            cell.font = Font(bold=True)
            ws.column_dimensions[get_column_letter(i)].width = 40 if c.field in ("text", "management_response") else max(14, len(c.header) + 2)
            value = example.get(c.field)
            ws.cell(row=2, column=i, value=value).data_type = "s" if value is not None else "n"
            lists = {"status": KEY_ACTION_STATUSES, "category": CATEGORIES, "office_type": OFFICE_TYPES}.get(c.field)
            if lists:
                dv = DataValidation(type="list", formula1='"' + ",".join(lists) + '"', allow_blank=True)
                dv.error = f"Choose one of: {', '.join(lists)}"
                dv.add(f"{get_column_letter(i)}2:{get_column_letter(i)}{MAX_ROWS + 1}")
                ws.add_data_validation(dv)
    wb.save(out)
