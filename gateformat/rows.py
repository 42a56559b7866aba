"""Key action rows: `<number> <action text> <responsible> <YYYY/MM> <status> <comments>`.

A row is found by its anchor, a deadline followed by a status; the text before
it is the action and its responsible run together (told apart afterwards, by
`split.Splitter`), the text after it the comments. Rows copied from a browser
have their cells separated by tabs and need no anchor. `RowReader` is the half
of the reader that reads them; the header is read by `header.HeaderReader`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lines import _Line, _quote
from .model import GateFormatError, KeyAction, Recommendation
from .months import MONTH_IN_TEXT, month_key, read_month
from .vocab import ALL_KEY_ACTION_STATUSES, KEY_ACTION_STATUSES, canonical

_KEY_ACTIONS = re.compile(r"^Key\s+Actions?\s*:?\s*$", re.I)
_KA_HEADER = re.compile(
    r"^(?:Key\s+Actions?\s+)?Responsible\s+Deadline\s+Status(?:\s+Comments)?\s*$", re.I
)
_NO_KA = re.compile(r"^Key\s+Actions?\s+not\s+added\.?\s*$", re.I)
_STATUS_ALTS = "|".join(re.escape(s).replace(r"\ ", r"\s+") for s in ALL_KEY_ACTION_STATUSES)
_STATUS = re.compile(rf"\s+(?P<s>{_STATUS_ALTS})(?=\s|$)", re.I)
_UNKNOWN_STATUS = re.compile(r"\s+(?P<s>[A-Za-z][\w\-]*)")
_BLANK_TO_END = re.compile(r"\s*\Z")
_ACTION_NUMBER = re.compile(r"^(?P<n>\d{1,2}(?:\.\d{1,2})*)(?P<term>\.(?!\d)|\))?(?P<sp>\s*)")


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
    label: str = ""  # the number as written ("1)", "1.1.")


class RowReader:
    """Reads the key action rows of a recommendation (mixed into the reader, which gives `warn`)."""

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
                label=_number_label(head_text, body) if number is not None else "",
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
                    label=row.label,
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
            deadline = read_month(deadline_cell) or ""
            if not deadline:
                return None
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
            label=_number_label(head, text) if number is not None else "",
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
        for m in MONTH_IN_TEXT.finditer(line):
            deadline = month_key(m)
            if deadline is None:
                continue
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


def _number_label(head: str, rest: str) -> str:
    """The number as written at the start of `head` ("1)", "1.1."), `rest` being what follows it."""
    return head[: len(head) - len(rest)].strip()


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
