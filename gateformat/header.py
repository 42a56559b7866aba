"""The header of a page: office, plan, title, coordinating units, overall response, approval status.

Its labels were lost in copying: it is read by position and shape (four
layouts are known, see SPEC.md). `HeaderReader` is the half of the reader
that reads it; the rows are read by `rows.RowReader`.
"""

from __future__ import annotations

import re

from .lines import _colon_value, _Line, _quote
from .model import Evaluation, GateFormatError, ManagementResponse
from .vocab import OFFICE_TYPES, RESPONSE_STATUSES, canonical

_PLAN = re.compile(
    r"^(?P<start>\d{4})\s*-\s*(?P<end>\d{4})\s*,\s*(?P<office>\S.*?)\s*\((?P<type>[A-Za-z]{2,4})\)\s*$"
)


class HeaderReader:
    """Reads the header (mixed into the reader, which gives `warn`)."""

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
