"""Helpers for the gateformat tests: the samples' structure, variants that keep
track of where each original line went, and content-only comparison."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cache

import gateformat
from tests.conftest import SAMPLES, sample_expected, sample_text

KA_HEADER = "Responsible Deadline Status Comments"
# "1.1 Establish", "1) Provide", "1)Provide": the number a sample row starts with.
ROW_NUMBER = re.compile(r"^\d+(?:\.\d+)?\)?\s*")
# "Recommendation: Evaluation recommendation 1: ", "... recommendation 8. ", "Recommendation: Recommendation 2: "
REC_LABEL = re.compile(r"^Recommendation: (?:Evaluation recommendation|Recommendation) (?P<n>\d+)[:.] ")
FIELD_LABELS = (
    "Management Response:",
    "Description:",
    "Management Response Category:",
    "Thematic Area:",
    "Operating Principles:",
    "Organizational Priorities:",
    "UNEG Criteria:",
)

# Keys of Document.to_dict() that are not the document's content.
_NOT_CONTENT = {"source", "warnings", "thematic_areas", "split_confidence"}


def content(data):
    """A document's JSON form without source, warnings and derived keys."""
    if isinstance(data, dict):
        return {k: content(v) for k, v in data.items() if k not in _NOT_CONTENT}
    if isinstance(data, list):
        return [content(v) for v in data]
    return data


def assert_same_content(got: dict, want: dict) -> None:
    """Compare two documents part by part, so a failure names the part."""
    got, want = content(got), content(want)
    assert got["evaluation"] == want["evaluation"]
    assert got["management_response"] == want["management_response"]
    assert [r["number"] for r in got["recommendations"]] == [r["number"] for r in want["recommendations"]]
    for g, w in zip(got["recommendations"], want["recommendations"]):
        g, w = dict(g), dict(w)
        ga, wa = g.pop("key_actions"), w.pop("key_actions")
        assert g == w, f"recommendation {w['number']}"
        assert [a["number"] for a in ga] == [a["number"] for a in wa], f"recommendation {w['number']}"
        for a, b in zip(ga, wa):
            assert a == b, f"key action {b['number']} of recommendation {w['number']}"


@dataclass
class Row:
    no: int  # 1-based line number in the sample
    rec: int  # 0-based index of its recommendation
    pos: int  # 1-based position in its recommendation


@dataclass
class Sample:
    name: str
    lines: list[str]
    expected: dict
    rec_nos: list[int] = field(default_factory=list)
    fields: list[dict[str, int]] = field(default_factory=list)  # per recommendation: label -> line
    key_actions_nos: list[int] = field(default_factory=list)
    header_nos: list[int] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def line(self, no: int) -> str:
        return self.lines[no - 1]

    def want(self) -> dict:
        """A fresh copy of the expected content, to adjust for a variation."""
        return content(copy.deepcopy(self.expected))

    def action(self, row: Row) -> dict:
        return self.expected["recommendations"][row.rec]["key_actions"][row.pos - 1]

    def rows_of(self, rec: int) -> list[Row]:
        return [r for r in self.rows if r.rec == rec]

    def anchor(self, row: Row) -> re.Match[str]:
        """Where `<responsible> YYYY/MM <status>` ends the action part of a row's line."""
        a = self.action(row)
        deadline = a["deadline"].replace("-", "/")
        pattern = re.escape(a["responsible"]) + r" (?P<dl>" + re.escape(deadline) + r") (?P<st>" + re.escape(a["status"]) + r")(?= |$)"
        m = re.search(pattern, self.line(row.no))
        assert m, f"no anchor on line {row.no}"
        return m

    def variant(self) -> Variant:
        return Variant([(no, text) for no, text in enumerate(self.lines, start=1)])


@cache
def _load(name: str) -> Sample:
    lines = sample_text(name).split("\n")
    s = Sample(name, lines, sample_expected(name))
    in_table = False
    for no, text in enumerate(lines, start=1):
        if text.startswith("Recommendation:"):
            s.rec_nos.append(no)
            s.fields.append({})
            in_table = False
        elif not s.rec_nos:
            continue
        elif text == "Key Actions":
            s.key_actions_nos.append(no)
        elif text == KA_HEADER:
            s.header_nos.append(no)
            in_table = True
        elif in_table and text.strip():
            rec = len(s.rec_nos) - 1
            s.rows.append(Row(no, rec, len(s.rows_of(rec)) + 1))
        else:
            label = next(lb for lb in sorted(FIELD_LABELS, key=len, reverse=True) if text.startswith(lb))
            s.fields[-1][label] = no
    # The structure read here must agree with the expected file, or every test built on it is moot.
    recs = s.expected["recommendations"]
    assert len(s.rec_nos) == len(recs)
    assert [len(s.rows_of(i)) for i in range(len(recs))] == [len(r["key_actions"]) for r in recs]
    return s


def sample(name: str) -> Sample:
    return _load(name)


def all_samples() -> list[Sample]:
    return [sample(n) for n in SAMPLES]


class Variant:
    """A sample's lines being edited, each remembering its original line number (None if new)."""

    def __init__(self, lines: list[tuple[int | None, str]]):
        self.lines = lines

    def _index(self, no: int) -> int:
        for i, (orig, _) in enumerate(self.lines):
            if orig == no:
                return i
        raise KeyError(no)

    def get(self, no: int) -> str:
        return self.lines[self._index(no)][1]

    def set(self, no: int, text: str) -> Variant:
        i = self._index(no)
        self.lines[i] = (no, text)
        return self

    def edit(self, no: int, fn) -> Variant:
        return self.set(no, fn(self.get(no)))

    def delete(self, *nos: int) -> Variant:
        drop = set(nos)
        self.lines = [(o, t) for o, t in self.lines if o not in drop]
        return self

    def insert_before(self, no: int, *texts: str) -> Variant:
        i = self._index(no)
        self.lines[i:i] = [(None, t) for t in texts]
        return self

    def insert_after(self, no: int, *texts: str) -> Variant:
        i = self._index(no) + 1
        self.lines[i:i] = [(None, t) for t in texts]
        return self

    def new_no(self, no: int) -> int:
        """The 1-based line number that original line `no` has now."""
        return self._index(no) + 1

    def has(self, no: int) -> bool:
        return any(o == no for o, _ in self.lines)

    def text(self, newline: str = "\n") -> str:
        return newline.join(t for _, t in self.lines)

    def parse(self, newline: str = "\n") -> gateformat.Document:
        return gateformat.parse(self.text(newline))


def warning_lines(doc: gateformat.Document, kind: str | None = None) -> list[int]:
    return [w.line for w in doc.warnings if kind is None or w.kind == kind]


def sample_artifact_lines(s: Sample, v: Variant) -> list[int]:
    """The page number sample 000 carries in a comment (line 72), where it is in `v`."""
    return [v.new_no(no) for no in _artifact_nos(s) if v.has(no) and re.search(r" \d{1,2}/\d{1,2} ", v.get(no))]


def _artifact_nos(s: Sample) -> list[int]:
    return [no for no, text in enumerate(s.lines, start=1) if re.search(r"(?<=\S) 9/16 (?=\S)", text)]
