"""Read a GATE management-response page (text copy) into a `Document`.

The page is read top to bottom: the `Management Response` title, the header
(recognised by position and shape, since its labels were lost in copying;
four layouts are known, see SPEC.md), then one block per recommendation with
labelled fields and a table of key actions.

Structural damage (no header, a key-action row without deadline or status, a
recommendation block cut off) raises `GateFormatError` with the line number.
Everything the reader had to guess or repair is reported in
`Document.warnings`, each with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .model import (
    Document,
    Evaluation,
    GateFormatError,
    KeyAction,
    ManagementResponse,
    ParseWarning,
    Recommendation,
)
from .split import LOW_CONFIDENCE, Splitter, UnitVocabulary
from .vocab import (
    ALL_KEY_ACTION_STATUSES,
    CATEGORIES,
    KEY_ACTION_STATUSES,
    OFFICE_TYPES,
    RESPONSE_STATUSES,
    canonical,
    reference_office_names,
    split_list,
)

_TITLE = re.compile(r"^\s*management\s+response\s*:?\s*$", re.I)
_PLAN = re.compile(
    r"^(?P<start>\d{4})\s*-\s*(?P<end>\d{4})\s*,\s*(?P<office>\S.*?)\s*\((?P<type>[A-Za-z]{2,4})\)\s*$"
)
_REC = re.compile(r"^Recommendation\s*:\s?(?P<v>.*)$", re.I)
_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("category", re.compile(r"^Management\s+Response\s+Category\s*:?\s?(?P<v>.*)$", re.I)),
    ("management_response", re.compile(r"^Management\s+Response\s*:\s?(?P<v>.*)$", re.I)),
    ("description", re.compile(r"^Description\s*(?::\s?(?P<v>.*)|$)", re.I)),
    ("thematic_area", re.compile(r"^Thematic\s+Areas?\s*:\s?(?P<v>.*)$", re.I)),
    ("operating_principles", re.compile(r"^Operating\s+Principles?\s*:\s?(?P<v>.*)$", re.I)),
    (
        "organizational_priorities",
        re.compile(r"^Organi[sz]ational\s+Priorit(?:y|ies)\s*:\s?(?P<v>.*)$", re.I),
    ),
    ("uneg_criteria", re.compile(r"^UNEG\s+Criteri(?:a|on)\s*:\s?(?P<v>.*)$", re.I)),
)
# Every line that may be a label starts with one of these words (a superset: the patterns decide).
_LABEL_START = re.compile(r"\s*(?:management|description|thematic|operating|organi[sz]ational|uneg|key|responsible)", re.I)
_KEY_ACTIONS = re.compile(r"^Key\s+Actions?\s*:?\s*$", re.I)
_KA_HEADER = re.compile(
    r"^(?:Key\s+Actions?\s+)?Responsible\s+Deadline\s+Status(?:\s+Comments)?\s*$", re.I
)
_NO_KA = re.compile(r"^Key\s+Actions?\s+not\s+added\.?\s*$", re.I)

# A recommendation's own label inside its text: "Evaluation recommendation 1:",
# "Recommendation 8.", "RECOMMENDATION 1", "Recommendation:", "R1.", "1." ...
_REC_LABEL = re.compile(
    r"^(?:evaluation\s+)?recommendation\b\s*(?P<n>\d+(?:\.\d+)*[a-z]?)?\s*(?P<p>[:.)\-–])?\s*", re.I
)
_REC_SHORT = re.compile(
    r"^(?:R(?P<r>\d+(?:\.\d+)*)\s*[:.)\-–]|(?P<d>\d{1,2}(?:\.\d{1,2})*)[.):]"
    r"|(?P<s>\d{1,2}(?:\.\d{1,2})+)(?=\s+[A-Z]))(?:\s+|$)"
)
_DEADLINE = re.compile(r"(?<![\d/])(?P<y>(?:19|20)\d{2})\s?[/\-.]\s?(?P<m>\d{1,2})(?![\d/])")
_STATUS_ALTS = "|".join(re.escape(s).replace(r"\ ", r"\s+") for s in ALL_KEY_ACTION_STATUSES)
_STATUS = re.compile(rf"\s+(?P<s>{_STATUS_ALTS})(?=\s|$)", re.I)
_UNKNOWN_STATUS = re.compile(r"\s+(?P<s>[A-Za-z][\w\-]*)")
MAX_CHARACTERS = 2_000_000
_BLANK_TO_END = re.compile(r"\s*\Z")
_ACTION_NUMBER = re.compile(r"^(?P<n>\d{1,2}(?:\.\d{1,2})*)(?P<term>\.(?!\d)|\))?(?P<sp>\s*)")
# A page footer copied into running text: "... their 9/16 civil society ..."
_PAGE_NUMBER = re.compile(r"(?<=\S) (?P<n>\d{1,2})/(?P<m>\d{1,2}) (?=\S)")
_PAGE_NUMBER_LINE = re.compile(r"^\s*(?P<n>\d{1,2})\s*/\s*(?P<m>\d{1,2})\s*$")


@dataclass
class _Line:
    no: int
    text: str


@dataclass
class _Row:
    """A key-action row before its text and responsible are told apart."""

    number: str
    body: str
    deadline: str
    status: str
    comments: str
    line: int
    comment_lines: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def reference_vocabulary() -> UnitVocabulary:
    """The real offices, known to every reading (built once)."""
    return UnitVocabulary(reference_office_names())


def parse(
    text: str, *, known_units: Iterable[str] | UnitVocabulary = (), source: str = ""
) -> Document:
    """Read one GATE management-response page.

    `known_units` are unit names, acronyms and aliases the caller already
    knows (from earlier imports); they help tell action text from responsible.
    A caller reading many documents passes one `UnitVocabulary` (built on
    `reference_vocabulary().layer()`) instead of a list, to build it once.
    """
    if len(text) > MAX_CHARACTERS:
        # Reading is linear, but 10 MB of anything is no GATE page (the largest known are
        # under 100 KB): refused at once rather than read for seconds and held in memory.
        raise GateFormatError(
            f"the document is {len(text):,} characters long; a GATE page has at most {MAX_CHARACTERS:,}", 1
        )
    return _Reader(text, known_units, source).read()


class _Reader:
    def __init__(self, text: str, known_units: Iterable[str], source: str):
        self.source = source
        self.warnings: list[ParseWarning] = []
        self.lines = self._prepare(text)
        if isinstance(known_units, UnitVocabulary):
            self.vocabulary = known_units
        else:
            self.vocabulary = reference_vocabulary().layer()
            self.vocabulary.add_all(known_units)

    # --- input clean-up -------------------------------------------------

    def _prepare(self, text: str) -> list[_Line]:
        if text.startswith("\ufeff"):
            text = text[1:]
        raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines = []
        for no, line in enumerate(raw, start=1):
            line = line.rstrip()
            if "/" in line:  # both page-number forms hold one; most lines do not (a cheap test first)
                m = _PAGE_NUMBER_LINE.match(line)
                if m and self._is_page_number(m):
                    self.warn(no, f"removed a page number '{line.strip()}' on a line of its own", "artifact")
                    continue
                line = _PAGE_NUMBER.sub(lambda m, no=no: self._drop_page_number(m, no), line)
            lines.append(_Line(no, line))
        return lines

    @staticmethod
    def _is_page_number(m: re.Match[str]) -> bool:
        n, total = int(m["n"]), int(m["m"])
        return 1 <= n <= total and total >= 2

    def _drop_page_number(self, m: re.Match[str], no: int) -> str:
        if not self._is_page_number(m):
            return m.group()
        self.warn(no, f"removed a page number '{m['n']}/{m['m']}' from running text", "artifact")
        return " "

    def warn(self, line: int, message: str, kind: str = "notice") -> None:
        self.warnings.append(ParseWarning(line, message, kind))

    # --- the document ---------------------------------------------------

    def read(self) -> Document:
        i = 0
        while i < len(self.lines) and not self.lines[i].text.strip():
            i += 1
        if i == len(self.lines):
            raise GateFormatError("the document is empty: expected 'Management Response'", 1)
        if not _TITLE.match(self.lines[i].text):
            raise GateFormatError(
                f"expected 'Management Response' as the first line, found {_quote(self.lines[i].text)}",
                self.lines[i].no,
            )
        title_line = self.lines[i]
        j = i + 1
        while j < len(self.lines) and not _REC.match(self.lines[j].text):
            j += 1
        evaluation, response = self._header(title_line, self.lines[i + 1 : j])
        rows: list[_Row] = []
        recommendations = self._recommendations(self.lines[j:], rows)
        self._split_rows(recommendations, rows)
        return Document(
            evaluation=evaluation,
            management_response=response,
            recommendations=recommendations,
            source=self.source,
            warnings=self.warnings,
        )

    # --- the header -----------------------------------------------------

    def _header(self, title_line: _Line, lines: list[_Line]) -> tuple[Evaluation, ManagementResponse]:
        items = [ln for ln in lines]
        content = [ln for ln in items if ln.text.strip()]
        if not content:
            raise GateFormatError(
                "the header is missing: expected ': <office>' after 'Management Response'",
                title_line.no + 1,
            )
        office_line = content[0]
        if not office_line.text.startswith(":"):
            raise GateFormatError(
                f"expected the office as ': <office>', found {_quote(office_line.text)}",
                office_line.no,
            )
        office = _colon_value(office_line.text)
        if len(content) < 2 or not content[1].text.startswith(":"):
            where = content[1] if len(content) > 1 else office_line
            raise GateFormatError(
                "expected the plan line ': <start> - <end> , <office> (<type>)' after the office",
                where.no + (0 if len(content) > 1 else 1),
            )
        plan_line = content[1]
        m = _PLAN.match(_colon_value(plan_line.text))
        if not m:
            raise GateFormatError(
                "expected the plan line ': <start> - <end> , <office> (<type>)', "
                f"found {_quote(plan_line.text)}",
                plan_line.no,
            )
        start, end = int(m["start"]), int(m["end"])
        if end < start:
            self.warn(plan_line.no, f"the plan ends ({end}) before it starts ({start})")
        office_type = m["type"]
        if office_type.upper() in OFFICE_TYPES:
            office_type = office_type.upper()
        else:
            self.warn(plan_line.no, f"office type '{office_type}' is not one of {', '.join(OFFICE_TYPES)}", "vocabulary")

        # Everything after the plan line, as blank-separated items.
        body = items[items.index(plan_line) + 1 :]
        while body and not body[-1].text.strip():
            body.pop()
        status, status_line = self._header_status(body)
        if status_line is not None:
            body = body[: body.index(status_line)]
        title, units, overall = self._header_body(body, plan_line)
        if status_line is None:
            where = body[-1].no + 1 if body else plan_line.no + 1
            self.warn(where, "no approval status line (': Approved') at the end of the header", "structure")
        return (
            Evaluation(
                title=title,
                office=office,
                plan_office=m["office"],
                office_type=office_type,
                plan_start_year=start,
                plan_end_year=end,
            ),
            ManagementResponse(status=status, units=units, overall_response=overall),
        )

    def _header_status(self, body: list[_Line]) -> tuple[str, _Line | None]:
        """The approval status is the header's last line, `: Approved`."""
        if not body:
            return "", None
        last = body[-1]
        value = _colon_value(last.text) if last.text.startswith(":") else ""
        if not value:
            return "", None
        known = canonical(value, RESPONSE_STATUSES)
        after_blank = len(body) >= 2 and not body[-2].text.strip()
        if known:
            return known, last
        if after_blank and len(value) <= 40:
            self.warn(last.no, f"approval status '{value}' is not one of {', '.join(RESPONSE_STATUSES)}", "vocabulary")
            return value, last
        return "", None

    def _header_body(self, body: list[_Line], plan_line: _Line) -> tuple[str, list[str], str]:
        # The block of ': value' lines right under the plan line.
        block: list[_Line] = []
        k = 0
        while k < len(body) and body[k].text.startswith(":"):
            block.append(body[k])
            k += 1
        segments: list[list[_Line]] = []
        for ln in body[k:]:
            if not ln.text.strip():
                if segments and segments[-1]:
                    segments.append([])
                continue
            if not segments:
                segments.append([])
            segments[-1].append(ln)
        segments = [s for s in segments if s]

        if len(block) >= 2:
            title = _colon_value(block[0].text)
            units = [v for v in (_colon_value(b.text) for b in block[1:]) if v]
        elif len(block) == 1:
            # Only one ': value' line: the page has no title line (layout 4),
            # and that line is the coordinating unit.
            title = ""
            units = [v for v in [_colon_value(block[0].text)] if v]
            self.warn(block[0].no, "the header has no title line; the evaluation is untitled", "structure")
        else:
            title, units = "", []
            self.warn(plan_line.no + 1, "the header has no title and no coordinating unit", "structure")

        def is_marker(seg: list[_Line]) -> bool:
            return all(ln.text.startswith(":") and not _colon_value(ln.text) for ln in seg)

        def is_bare(seg: list[_Line]) -> bool:
            return all(not ln.text.startswith(":") for ln in seg)

        if not units and segments and is_bare(segments[0]) and any(is_marker(s) for s in segments[1:]):
            # Layout 3: the unit stands alone between blank lines, then ':'.
            units = [ln.text.strip() for ln in segments[0] if ln.text.strip() != ","]  # ',': none
            segments = segments[1:]
        paragraphs = []
        for seg in segments:
            if is_marker(seg):
                continue
            lines_ = []
            for ln in seg:
                if ln.text.startswith(":"):
                    value = _colon_value(ln.text)
                    if value:
                        self.warn(ln.no, f"unexpected header line {_quote(ln.text)} read as overall response", "structure")
                        lines_.append(value)
                else:
                    lines_.append(ln.text.strip())
            if lines_:
                paragraphs.append("\n".join(lines_))
        overall = "\n\n".join(paragraphs)
        if overall.strip() == ",":
            overall = ""  # an empty list, as the page prints it
        return title, units, overall

    # --- recommendations -----------------------------------------------

    def _recommendations(self, lines: list[_Line], rows: list[_Row]) -> list[Recommendation]:
        blocks: list[list[_Line]] = []
        for ln in lines:
            if _REC.match(ln.text):
                blocks.append([ln])
            elif blocks:
                blocks[-1].append(ln)
        recs = []
        for position, block in enumerate(blocks, start=1):
            recs.append(self._recommendation(block, position, rows))
        return recs

    def _recommendation(self, block: list[_Line], position: int, rows: list[_Row]) -> Recommendation:
        head = block[0]
        raw_text = _REC.match(head.text)["v"].strip()  # type: ignore[index]
        number, text = _recommendation_label(raw_text)
        if not number:
            number = str(position)
        values: dict[str, list[str]] = {"text": [text]}
        current = "text"
        seen_lines: dict[str, int] = {}
        ka_start: int | None = None
        for idx, ln in enumerate(block[1:], start=1):
            line = ln.text
            if not _LABEL_START.match(line):
                # Most lines are text running on: one cheap test instead of ten patterns.
                if line.strip():
                    values[current].append(line.strip())
                continue
            if _KEY_ACTIONS.match(line.strip()) or _NO_KA.match(line.strip()) or _KA_HEADER.match(line.strip()):
                ka_start = idx
                break
            for name, pattern in _FIELDS:
                m = pattern.match(line)
                if m:
                    if name in seen_lines:
                        self.warn(ln.no, f"a second '{_label(name)}' line in one recommendation; its text is added to the first", "structure")
                        values[name].append((m["v"] or "").strip())
                    else:
                        values[name] = [(m["v"] or "").strip()]
                        seen_lines[name] = ln.no
                    current = name
                    break
            else:
                if line.strip():
                    values[current].append(line.strip())
        if ka_start is None:
            # Name the block's last line with content, not a blank line after it.
            last = next(ln.no for ln in reversed(block) if ln.text.strip())
            raise GateFormatError(
                f"the block of recommendation {number} (line {head.no}) is cut off: "
                "expected 'Key Actions' before the next recommendation or the end",
                last,
            )
        if "management_response" not in seen_lines:
            self.warn(head.no, f"recommendation {number} has no 'Management Response:' line", "structure")

        def joined(name: str) -> str:
            return "\n".join(v for v in values.get(name, []) if v).strip()

        category_raw = joined("category")
        category = canonical(category_raw, CATEGORIES) if category_raw else ""
        if category is None:
            self.warn(seen_lines["category"], f"category '{category_raw}' is not one of {', '.join(CATEGORIES)}", "vocabulary")
            category = category_raw
        rec = Recommendation(
            number=number,
            text=joined("text"),
            management_response=joined("management_response"),
            description=joined("description"),
            category=category,
            thematic_area=joined("thematic_area"),
            operating_principles=split_list(joined("operating_principles")),
            organizational_priorities=split_list(joined("organizational_priorities")),
            uneg_criteria=split_list(joined("uneg_criteria")),
            line=head.no,
        )
        self._key_action_rows(block[ka_start:], rec, rows)
        return rec

    def _key_action_rows(self, lines: list[_Line], rec: Recommendation, rows: list[_Row]) -> None:
        pending: list[_Line] = []
        mine: list[_Row] = []
        none_added = False
        numbered_section = False
        for ln in lines:
            line = ln.text.strip()
            if not line or _KEY_ACTIONS.match(line) or _KA_HEADER.match(line):
                continue
            if _NO_KA.match(line):
                none_added = True
                continue
            # Unstripped: a leading tab is an empty first cell (an action without text).
            tab_row = self._tab_row(ln.text, ln.no)
            if tab_row is not None:
                if pending:
                    self._continue_comments(mine[-1], pending) if mine else None
                    if not mine:
                        raise GateFormatError(
                            f"key action row of recommendation {rec.number} has no deadline and status: "
                            f"{_quote(pending[0].text)}",
                            pending[0].no,
                        )
                    pending = []
                mine.append(tab_row)
                numbered_section = numbered_section or bool(tab_row.number)
                continue
            anchor = self._anchor(line, ln.no)
            starts_numbered = _action_number(line)[0] is not None
            if anchor is None:
                if starts_numbered and mine or starts_numbered and numbered_section:
                    raise GateFormatError(
                        f"key action row of recommendation {rec.number} has no deadline and status "
                        f"(expected '... <responsible> YYYY/MM <status> ...'): {_quote(line)}",
                        ln.no,
                    )
                pending.append(ln)
                continue
            start, end, deadline, status = anchor
            head_text = line[:start].strip()
            if pending and mine and not _action_number(pending[0].text.strip())[0]:
                # Lines between two rows: are they the previous row's comments
                # running on, or the first lines of this row's action text?
                if len(head_text.split()) >= 3 or _action_number(head_text)[0]:
                    self._continue_comments(mine[-1], pending)
                    pending = []
            if pending:
                if _action_number(pending[0].text.strip())[0] is not None and _action_number(head_text)[0] is not None:
                    # A numbered line cannot begin the text of a row that has its own number:
                    # it is a row of its own that lost its deadline and status.
                    raise GateFormatError(
                        f"key action row of recommendation {rec.number} has no deadline and status "
                        f"(expected '... <responsible> YYYY/MM <status> ...'): {_quote(pending[0].text)}",
                        pending[0].no,
                    )
                head_text = " ".join([p.text.strip() for p in pending] + [head_text]).strip()
                pending = []
            number, body = _action_number(head_text)
            if number is not None:
                numbered_section = True
            row = _Row(
                number=number or "",
                body=body,
                deadline=deadline,
                status=status,
                comments=line[end:].strip(),
                line=ln.no,
            )
            mine.append(row)
        if pending:
            if not mine:
                raise GateFormatError(
                    f"key action row of recommendation {rec.number} has no deadline and status "
                    f"(expected '... <responsible> YYYY/MM <status> ...'): {_quote(pending[0].text.strip())}",
                    pending[0].no,
                )
            self._continue_comments(mine[-1], pending)
        if none_added and mine:
            self.warn(lines[0].no, f"recommendation {rec.number} says 'Key Action not added.' but lists key actions")
        for i, row in enumerate(mine, start=1):
            if not row.number:
                row.number = f"{rec.number}.{i}"
            rec.key_actions.append(
                KeyAction(
                    number=row.number,
                    text="",
                    responsible="",
                    deadline=row.deadline,
                    status=row.status,
                    comments="\n".join([row.comments] + row.comment_lines).strip(),
                    line=row.line,
                )
            )
            rows.append(row)

    def _tab_row(self, line: str, no: int) -> _Row | None:
        """A row whose cells are tab-separated (copied from a browser, or our own export)."""
        cells = line.split("\t")
        if len(cells) < 3:
            return None
        if len(cells) >= 6 and re.fullmatch(r"\d{1,2}(?:\.\d{1,2})*[.)]?", cells[0].strip()):
            cells = [cells[0].strip() + " " + cells[1]] + cells[2:]
        cells += [""] * (5 - len(cells))
        head, responsible, deadline_cell, status_cell = (c.strip() for c in cells[:4])
        comments = "\t".join(cells[4:]).strip()
        deadline = ""
        if deadline_cell:
            m = _DEADLINE.fullmatch(deadline_cell)
            if not m or not 1 <= int(m["m"]) <= 12:
                return None
            deadline = f"{m['y']}-{int(m['m']):02d}"
        status = canonical(status_cell, ALL_KEY_ACTION_STATUSES) or status_cell
        if status and status not in KEY_ACTION_STATUSES:
            self.warn(no, f"status '{status}' is not one of {', '.join(KEY_ACTION_STATUSES)}; kept as written", "vocabulary")
        number, text = _action_number(head)
        return _Row(
            number=number or "",
            body=text + "\t" + responsible,
            deadline=deadline,
            status=status,
            comments=comments,
            line=no,
        )

    def _continue_comments(self, row: _Row, pending: list[_Line]) -> None:
        for p in pending:
            row.comment_lines.append(p.text.strip())
        self.warn(
            pending[0].no,
            f"line(s) {pending[0].no}-{pending[-1].no} have no deadline and status; "
            f"read as more comments of key action on line {row.line}",
            "structure",
        )

    def _anchor(self, line: str, no: int) -> tuple[int, int, str, str] | None:
        """Find `YYYY/MM <status>` in a row: (start, end, deadline, status)."""
        fallback = None
        for m in _DEADLINE.finditer(line):
            month = int(m["m"])
            if not 1 <= month <= 12:
                continue
            deadline = f"{m['y']}-{month:02d}"
            s = _STATUS.match(line, m.end())
            if s:
                status = canonical(s["s"], ALL_KEY_ACTION_STATUSES) or s["s"]
                if status not in KEY_ACTION_STATUSES:
                    self.warn(no, f"status '{status}' is not one of {', '.join(KEY_ACTION_STATUSES)}; kept as written", "vocabulary")
                return m.start(), s.end(), deadline, status
            if fallback is None:
                u = _UNKNOWN_STATUS.match(line, m.end())
                if u:
                    fallback = (m.start(), u.end(), deadline, u["s"], m)
                elif _BLANK_TO_END.match(line, m.end()):  # not line[m.end():].strip(): a copy per deadline is quadratic
                    raise GateFormatError(
                        f"the key action row ends at its deadline {m.group()}: expected a status after it",
                        no,
                    )
        if fallback:
            start, end, deadline, status, _ = fallback
            self.warn(no, f"unknown status '{status}' (after deadline {deadline}); kept as written", "vocabulary")
            return start, end, deadline, status
        return None

    def _split_rows(self, recs: list[Recommendation], rows: list[_Row]) -> None:
        splitter = Splitter(self.vocabulary)
        splits = splitter.split_all([r.body for r in rows])
        actions = [a for r in recs for a in r.key_actions]
        for action, split in zip(actions, splits):
            action.text = split.text
            action.responsible = split.responsible
            action.split_confidence = split.confidence
            if split.confidence < LOW_CONFIDENCE:
                self.warn(
                    action.line,
                    f"key action {action.number}: unsure where the action ends and the responsible "
                    f"begins (confidence {split.confidence:.2f}); read responsible as {_quote(split.responsible)}",
                    "split",
                )


def _colon_value(line: str) -> str:
    return line[1:].strip() if line.startswith(":") else line.strip()


def _quote(text: str, limit: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _label(name: str) -> str:
    return {
        "management_response": "Management Response:",
        "description": "Description:",
        "category": "Management Response Category:",
        "thematic_area": "Thematic Area:",
        "operating_principles": "Operating Principles:",
        "organizational_priorities": "Organizational Priorities:",
        "uneg_criteria": "UNEG Criteria:",
    }.get(name, name)


def _recommendation_label(text: str) -> tuple[str, str]:
    """("1", "Establish ...") from "Evaluation recommendation 1: Establish ..."."""
    m = _REC_LABEL.match(text)
    if m and (m["n"] or m["p"] == ":"):
        return m["n"] or "", text[m.end() :]
    m = _REC_SHORT.match(text)
    if m:
        return m["r"] or m["d"] or m["s"], text[m.end() :]
    return "", text


def _action_number(text: str) -> tuple[str | None, str]:
    """("1.1", "Establish ...") from "1.1 Establish ...", "1) ...", "1)Provide", "1.1. ..."."""
    m = _ACTION_NUMBER.match(text)
    if not m:
        return None, text
    rest = text[m.end() :]
    if m["term"]:
        return m["n"], rest
    # A bare number counts only when a word in capitals follows ("1.1 Establish"),
    # not in "5 workshops" or "1.5 million".
    if m["sp"] and rest[:1] and (rest[:1].isupper() or rest[:1] in "\"'“‘(["):
        return m["n"], rest
    return None, text
