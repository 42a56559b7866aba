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
from functools import lru_cache

from .header import HeaderReader
from .lines import _Line, _quote
from .model import (
    Document,
    GateFormatError,
    ParseWarning,
    Recommendation,
)
from .rows import _KA_HEADER, _KEY_ACTIONS, _NO_KA, RowReader, _Row
from .split import LOW_CONFIDENCE, Splitter, UnitVocabulary
from .vocab import (
    CATEGORIES,
    canonical,
    reference_office_names,
    split_list,
)

_TITLE = re.compile(r"^\s*management\s+response\s*:?\s*$", re.I)
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

# A recommendation's own label inside its text: "Evaluation recommendation 1:",
# "Recommendation 8.", "RECOMMENDATION 1", "Recommendation:", "R1.", "1." ...
_REC_LABEL = re.compile(
    r"^(?:evaluation\s+)?recommendation\b\s*(?P<n>\d+(?:\.\d+)*[a-z]?)?\s*(?P<p>[:.)\-–])?\s*", re.I
)
_REC_SHORT = re.compile(
    r"^(?:R(?P<r>\d+(?:\.\d+)*)\s*[:.)\-–]|(?P<d>\d{1,2}(?:\.\d{1,2})*)[.):]"
    r"|(?P<s>\d{1,2}(?:\.\d{1,2})+)(?=\s+[A-Z]))(?:\s+|$)"
)
# A page footer copied into running text: "... their 9/16 civil society ..."
_PAGE_NUMBER = re.compile(r"(?<=\S) (?P<n>\d{1,2})/(?P<m>\d{1,2}) (?=\S)")
_PAGE_NUMBER_LINE = re.compile(r"^\s*(?P<n>\d{1,2})\s*/\s*(?P<m>\d{1,2})\s*$")
MAX_CHARACTERS = 2_000_000


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
        raise GateFormatError(f"the document is {len(text):,} characters long; a GATE page has at most {MAX_CHARACTERS:,}", 1)
    return _Reader(text, known_units, source).read()


class _Reader(HeaderReader, RowReader):
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
        self.ends_with_newline = text.endswith(("\n", "\r"))
        # A file cut at a buffer's size (the first 2 KB of a page) is a round number of bytes long.
        self.round_size = len(text.encode("utf-8", "surrogatepass")) % 512 == 0
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
        self._check_end(text_ends_with_newline=self.ends_with_newline, recommendations=recommendations)
        return Document(
            evaluation=evaluation,
            management_response=response,
            recommendations=recommendations,
            source=self.source,
            warnings=self.warnings,
        )

    # --- the header -----------------------------------------------------

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
        label = raw_text[: len(raw_text) - len(text)] if number else ""
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
            label=label,
        )
        self._key_action_rows(block[ka_start:], rec, rows)
        return rec

    def _check_end(self, *, text_ends_with_newline: bool, recommendations: list[Recommendation]) -> None:
        """A page cut short (the first few KB of a file, a copy that stopped) ends inside a word of its last row.

        Reported (kind "truncated") when the text ends without a line break
        inside the comments of its last key action, either on an undecodable
        byte (a character cut in two) or on a letter or digit with the text a
        round number of bytes long (512, 1,024, 2,048 ...: a buffer's size).
        Real pages often end without a line break, and comments without a
        full stop, so neither alone says anything. The importer does not let
        a document remove records unless asked to; this warning says why it
        would have.
        """
        if text_ends_with_newline or not recommendations or not self.lines:
            return
        last_line = self.lines[-1]
        actions = recommendations[-1].key_actions
        if not actions or actions[-1].line != last_line.no:
            return
        last = actions[-1]
        tail = last_line.text.rstrip()
        if tail.endswith("\ufffd") or (self.round_size and last.comments and _CUT_WORD.search(tail)):
            self.warn(
                last_line.no,
                f"the document ends inside key action {last.number} (no line break, a word cut): "
                "it may have been cut short",
                "truncated",
            )

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


_CUT_WORD = re.compile(r"[^\W_]$")  # a letter or digit: a word the end of the text cuts


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

