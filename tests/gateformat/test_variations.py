"""Other documents of the same system, varied as SPEC.md describes.

Each variant is built from the text of a real sample (both samples, unless a
variation cannot apply to one), and must read as the sample's expected JSON
adjusted for the variation: same content, the right warnings on the right
lines, and key actions that remember the line they came from.
"""

from __future__ import annotations

import re

import pytest

import gateformat
from gateformat import KeyAction
from tests.conftest import SAMPLES
from tests.gateformat.support import (
    KA_HEADER,
    REC_LABEL,
    ROW_NUMBER,
    Sample,
    Variant,
    assert_same_content,
    sample,
    sample_artifact_lines,
    warning_lines,
)

S000, S002 = SAMPLES


@pytest.fixture(params=SAMPLES)
def s(request) -> Sample:
    return sample(request.param)


def row_lines(s: Sample, v: Variant) -> list[int]:
    """Where the sample's key-action rows are in `v` (rows deleted from `v` left out)."""
    return [v.new_no(r.no) for r in s.rows if v.has(r.no)]


def check(s: Sample, v: Variant, want: dict, *, newline: str = "\n", warnings: list[tuple[int, str]] | None = None):
    """`v` reads as `want`; its key actions know their lines; its warnings are exactly `warnings`
    (by default: the sample's own page-number artifact, wherever it moved)."""
    doc = v.parse(newline)
    assert_same_content(doc.to_dict(), want)
    assert [a.line for a in doc.key_actions] == row_lines(s, v)
    if warnings is None:
        warnings = [(no, "artifact") for no in sample_artifact_lines(s, v)]
    assert sorted((w.line, w.kind) for w in doc.warnings) == sorted(warnings), doc.warnings
    return doc


# --- the unchanged samples, as the baseline every variant is measured from ---------


def test_unchanged_sample_reads_as_expected_with_its_lines(s):
    doc = check(s, s.variant(), s.want())
    if s.name == S000:
        assert warning_lines(doc, "artifact") == [72]


# --- line endings, BOM, blank lines, trailing spaces ---------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_other_line_endings(s, newline):
    v = s.variant()
    assert "\r" not in v.text()
    check(s, v, s.want(), newline=newline)


def test_utf8_bom(s):
    v = s.variant()
    v.edit(1, lambda t: "\ufeff" + t)
    check(s, v, s.want())


def test_bom_and_crlf_together_from_bytes(s):
    # What a Windows editor saves: BOM + CRLF, read back through utf-8 bytes.
    raw = ("\ufeff" + "\r\n".join(s.lines)).encode("utf-8")
    doc = gateformat.parse(raw.decode("utf-8"))
    assert_same_content(doc.to_dict(), s.want())
    assert [a.line for a in doc.key_actions] == [r.no for r in s.rows]


def test_extra_blank_lines_between_fields_rows_and_recommendations(s):
    v = s.variant()
    first_rec = s.rec_nos[0]
    for no in range(first_rec, len(s.lines) + 1):
        v.insert_after(no, "", "  ")
    # Blank lines in the header come in runs now, too.
    for no in range(2, first_rec):
        if not s.line(no).strip():
            v.insert_after(no, "", "")
    v.insert_before(first_rec, "", "")
    assert len(v.lines) > 3 * len(s.lines) - 3 * first_rec
    check(s, v, s.want())


def test_trailing_spaces_and_tabs(s):
    v = s.variant()
    for no in range(1, len(s.lines) + 1):
        v.edit(no, lambda t, no=no: t + (" \t  " if no % 2 else "   "))
    check(s, v, s.want())


# --- the plan line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rewrite,office_type,warned",
    [
        (lambda v: v.replace(" (EO)", " (eo)").replace(" (HQ)", " (hq)"), None, False),  # type in lower case
        (lambda v: v.replace(" - ", "-", 1).replace(" , ", ", ", 1), None, False),  # spacing
        (lambda v: v.replace(" (EO)", " (SRO)").replace(" (HQ)", " (SRO)"), "SRO", True),  # a type not known
    ],
    ids=["lower-case-type", "tight-spacing", "unknown-type"],
)
def test_plan_line_variations(s, rewrite, office_type, warned):
    v, want = s.variant(), s.want()
    v.edit(4, rewrite)
    assert v.get(4) != s.line(4)
    if office_type:
        want["evaluation"]["office_type"] = office_type
    warnings = [(4, "vocabulary")] if warned else []
    check(s, v, want, warnings=warnings + [(n, "artifact") for n in sample_artifact_lines(s, v)])


def test_plan_that_ends_before_it_starts_is_kept_and_warned(s):
    v, want = s.variant(), s.want()
    start, end = want["evaluation"]["plan_start_year"], want["evaluation"]["plan_end_year"]
    v.edit(4, lambda line: line.replace(f"{start} - {end}", f"{end + 1} - {start}", 1))
    want["evaluation"]["plan_start_year"], want["evaluation"]["plan_end_year"] = end + 1, start
    doc = check(s, v, want, warnings=[(4, "notice")] + [(n, "artifact") for n in sample_artifact_lines(s, v)])
    (notice,) = [w for w in doc.warnings if w.kind == "notice"]
    assert f"ends ({start})" in notice.message and f"starts ({end + 1})" in notice.message


# --- key-action numbering ------------------------------------------------------------


def _renumber(s: Sample, style: str) -> tuple[Variant, dict]:
    v, want = s.variant(), s.want()
    for row in s.rows:
        rec_number = s.expected["recommendations"][row.rec]["number"]
        line = s.line(row.no)
        assert ROW_NUMBER.match(line), line
        body = ROW_NUMBER.sub("", line, count=1)
        if style == "paren":
            new, number = f"{row.pos}) {body}", str(row.pos)
        elif style == "paren-tight":
            new, number = f"{row.pos}){body}", str(row.pos)
        elif style == "dot":
            new, number = f"{rec_number}.{row.pos}. {body}", f"{rec_number}.{row.pos}"
        else:  # "none": numbered by position
            new, number = body, f"{rec_number}.{row.pos}"
        v.set(row.no, new)
        want["recommendations"][row.rec]["key_actions"][row.pos - 1]["number"] = number
    return v, want


@pytest.mark.parametrize("style", ["paren", "paren-tight", "dot", "none"])
def test_key_action_numbering_styles(s, style):
    v, want = _renumber(s, style)
    check(s, v, want)


def test_numbering_styles_change_the_numbers_of_each_sample():
    # Guard against a vacuous test above: each style changes the numbers of at least one sample.
    for style in ["paren", "dot", "none"]:
        changed = [
            name
            for name in SAMPLES
            if [a["number"] for r in _renumber(sample(name), style)[1]["recommendations"] for a in r["key_actions"]]
            != [a["number"] for r in sample(name).expected["recommendations"] for a in r["key_actions"]]
        ]
        assert changed, style


# --- recommendation labels ------------------------------------------------------------


LABELS = {
    "colon": "Recommendation {n}: ",
    "dot": "Recommendation {n}. ",
    "caps-no-colon": "RECOMMENDATION {n} ",
    "R-dot": "R{n}. ",
    "number-dot": "{n}. ",
}


@pytest.mark.parametrize("form", list(LABELS))
def test_recommendation_label_forms_give_the_number(s, form):
    # Numbers shifted by 10, so that they can only come from the label, not the position.
    v, want = s.variant(), s.want()
    for i, no in enumerate(s.rec_nos):
        m = REC_LABEL.match(s.line(no))
        assert m, s.line(no)
        n = int(m["n"]) + 10
        v.set(no, "Recommendation: " + LABELS[form].format(n=n) + s.line(no)[m.end() :])
        want["recommendations"][i]["number"] = str(n)
    check(s, v, want)


def test_recommendation_without_label_is_numbered_by_position(s):
    # The first block dropped, so positions differ from the numbers the labels gave.
    v, want = s.variant(), s.want()
    first, second = s.rec_nos[0], s.rec_nos[1]
    v.delete(*range(first, second))
    del want["recommendations"][0]
    for i, no in enumerate(s.rec_nos[1:], start=1):
        m = REC_LABEL.match(s.line(no))
        v.set(no, "Recommendation: " + s.line(no)[m.end() :])
        want["recommendations"][i - 1]["number"] = str(i)
    assert [r["number"] for r in want["recommendations"]][:2] == ["1", "2"]
    check(s, v, want)


# --- fields left out or empty -----------------------------------------------------------


def test_description_line_removed(s):
    v = s.variant()
    v.delete(*[f["Description:"] for f in s.fields])
    check(s, v, s.want())


def test_description_removed_where_another_recommendation_has_one(s):
    v, want = s.variant(), s.want()
    v.delete(*[f["Description:"] for f in s.fields[1:]])
    v.set(s.fields[0]["Description:"], "Description: Covers the whole programme period.")
    want["recommendations"][0]["description"] = "Covers the whole programme period."
    check(s, v, want)


def test_category_left_empty(s):
    v, want = s.variant(), s.want()
    v.set(s.fields[1]["Management Response Category:"], "Management Response Category:")
    want["recommendations"][1]["category"] = ""
    doc = check(s, v, want)
    assert [r.category for r in doc.recommendations][:3] == ["Accepted", "", "Accepted"]


def test_comments_removed_rows_end_at_the_status():
    s = sample(S000)
    v, want = s.variant(), s.want()
    for row in s.rows:
        v.set(row.no, s.line(row.no)[: s.anchor(row).end()])
        want["recommendations"][row.rec]["key_actions"][row.pos - 1]["comments"] = ""
    assert all(a["comments"] for r in s.expected["recommendations"] for a in r["key_actions"])
    # The page number was in a comment: gone with it, so no warning is left.
    check(s, v, want, warnings=[])


def test_comments_added_where_rows_ended_at_the_status():
    s = sample(S002)
    v, want = s.variant(), s.want()
    for row in s.rows:
        v.edit(row.no, lambda t, row=row: t + f" Reviewed at the mid-year review ({row.pos}).")
        want["recommendations"][row.rec]["key_actions"][row.pos - 1]["comments"] = (
            f"Reviewed at the mid-year review ({row.pos})."
        )
    check(s, v, want)


# --- values outside the vocabularies ---------------------------------------------------


@pytest.mark.parametrize("status", ["Ongoing", "Over due"])
def test_status_outside_the_four_is_kept_and_warned(s, status):
    v, want = s.variant(), s.want()
    changed = [s.rows_of(0)[0], s.rows_of(1)[-1]]
    for row in changed:
        m = s.anchor(row)
        line = s.line(row.no)
        v.set(row.no, line[: m.start("st")] + status + line[m.end("st") :])
        want["recommendations"][row.rec]["key_actions"][row.pos - 1]["status"] = status
    expected_warnings = [(v.new_no(r.no), "vocabulary") for r in changed]
    doc = check(s, v, want, warnings=expected_warnings + [(n, "artifact") for n in sample_artifact_lines(s, v)])
    messages = [w.message for w in doc.warnings if w.kind == "vocabulary"]
    assert all(f"'{status}'" in m for m in messages), messages


def test_unknown_status_word_after_the_deadline_is_kept_and_warned():
    # Not in any list the reader knows: only its place after the deadline marks it.
    s = sample(S000)
    v, want = s.variant(), s.want()
    row = s.rows_of(2)[0]
    m = s.anchor(row)
    line = s.line(row.no)
    v.set(row.no, line[: m.start("st")] + "Suspended" + line[m.end("st") :])
    want["recommendations"][2]["key_actions"][0]["status"] = "Suspended"
    doc = check(s, v, want, warnings=[(row.no, "vocabulary"), (72, "artifact")])
    assert "Suspended" in next(w.message for w in doc.warnings if w.kind == "vocabulary")


def test_category_outside_the_vocabulary_is_kept_and_warned(s):
    v, want = s.variant(), s.want()
    v.set(s.fields[0]["Management Response Category:"], "Management Response Category: Noted")
    want["recommendations"][0]["category"] = "Noted"
    # Another spelling of a known category is the known one, without a warning.
    v.set(s.fields[1]["Management Response Category:"], "Management Response Category: partially  accepted")
    want["recommendations"][1]["category"] = "Partially Accepted"
    v.set(s.fields[2]["Management Response Category:"], "Management Response Category: Not applicable")
    want["recommendations"][2]["category"] = "Not applicable"
    doc = check(
        s,
        v,
        want,
        warnings=[(s.fields[0]["Management Response Category:"], "vocabulary")]
        + [(n, "artifact") for n in sample_artifact_lines(s, v)],
    )
    assert "'Noted'" in next(w.message for w in doc.warnings if w.kind == "vocabulary")


# --- a recommendation without key actions ----------------------------------------------


@pytest.mark.parametrize("which", ["one-action", "first"])
def test_recommendation_with_key_action_not_added(s, which):
    rec = next(i for i in range(len(s.rec_nos)) if len(s.rows_of(i)) == 1) if which == "one-action" else 0
    v, want = s.variant(), s.want()
    v.delete(s.header_nos[rec], *[r.no for r in s.rows_of(rec)])
    v.insert_after(s.key_actions_nos[rec], "Key Action not added.")
    want["recommendations"][rec]["key_actions"] = []
    assert any(r["key_actions"] for r in want["recommendations"])  # the others keep theirs
    check(s, v, want)


# --- page numbers copied into the text ---------------------------------------------------


def _word_gap(text: str, k: int) -> int:
    """Index of the k-th space that stands between two words."""
    return [m.start() for m in re.finditer(r"(?<=\S) (?=\S)", text)][k]


def test_page_numbers_inside_running_text_are_removed_with_their_line(s):
    v = s.variant()
    row = s.rows[0]
    targets = [
        (s.rec_nos[1], 4, "3/16"),  # recommendation text
        (s.fields[0]["Management Response:"], 7, "12/16"),  # management response
        (row.no, 3, "4/16"),  # key action text, before the responsible: the split must not notice
    ]
    if s.name == S002:
        targets.append((13, 5, "2/16"))  # the overall response
    for no, k, page in targets:
        line = s.line(no)
        i = _word_gap(line, k)
        v.set(no, line[:i] + f" {page} " + line[i + 1 :])
    warnings = [(no, "artifact") for no, _, _ in targets] + [(n, "artifact") for n in sample_artifact_lines(s, v)]
    doc = check(s, v, s.want(), warnings=warnings)
    for no, _, page in targets:
        assert any(page in w.message for w in doc.warnings if w.line == no)


def test_fractions_that_cannot_be_page_numbers_stay(s):
    # "12/10" (page past the total) and "1/1" are not page footers.
    v, want = s.variant(), s.want()
    no = s.fields[0]["Management Response:"]
    line = s.line(no)
    i = _word_gap(line, 2)
    v.set(no, line[:i] + " 12/10 and 1/1 " + line[i + 1 :])
    want["recommendations"][0]["management_response"] = line[:i][len("Management Response: ") :] + " 12/10 and 1/1 " + line[i + 1 :]
    check(s, v, want)


def test_page_number_on_a_line_of_its_own(s):
    v = s.variant()
    rec = 1
    places = [
        ("before", s.rec_nos[0] - 1),  # in the header, before the status line
        ("after", s.fields[rec]["Management Response:"]),  # between two fields
        ("after", s.rows_of(0)[0].no),  # inside the key-action table
        ("before", s.rec_nos[rec + 1]),  # between two recommendations
    ]
    for i, (where, no) in enumerate(places):
        page = f"{i + 5}/16" if i % 2 else f"  {i + 5} / 16 "
        (v.insert_before if where == "before" else v.insert_after)(no, page)
    inserted = [i + 1 for i, (orig, _) in enumerate(v.lines) if orig is None]
    assert len(inserted) == 4
    doc = check(s, v, s.want(), warnings=[(n, "artifact") for n in inserted + sample_artifact_lines(s, v)])
    assert sum("on a line of its own" in w.message for w in doc.warnings) == 4


# --- list-valued fields -----------------------------------------------------------------


def test_thematic_area_as_a_list(s):
    v, want = s.variant(), s.want()
    value = "Governance and planning (SPs before 2018), Peace and security (SPs before 2018)"
    v.set(s.fields[0]["Thematic Area:"], f"Thematic Area: {value}")
    want["recommendations"][0]["thematic_area"] = value
    doc = check(s, v, want)
    assert doc.recommendations[0].thematic_areas == [
        "Governance and planning (SPs before 2018)",
        "Peace and security (SPs before 2018)",
    ]
    assert doc.to_dict()["recommendations"][0]["thematic_areas"] == doc.recommendations[0].thematic_areas
    assert doc.recommendations[1].thematic_areas == ["Not applicable"]


def test_list_values_that_contain_commas_stay_whole(s):
    v, want = s.variant(), s.want()
    v.set(
        s.fields[0]["Operating Principles:"],
        "Operating Principles: Advocacy, Evidence, Data and statistics, Resource mobilization",
    )
    want["recommendations"][0]["operating_principles"] = [
        "Advocacy",
        "Evidence, Data and statistics",
        "Resource mobilization",
    ]
    v.set(s.fields[1]["Operating Principles:"], "Operating Principles: Evidence, Data and statistics")
    want["recommendations"][1]["operating_principles"] = ["Evidence, Data and statistics"]
    v.set(
        s.fields[1]["Organizational Priorities:"],
        "Organizational Priorities: UN Coordination, Peace, Security and Resilience",
    )
    want["recommendations"][1]["organizational_priorities"] = ["UN Coordination", "Peace, Security and Resilience"]
    check(s, v, want)


def test_uneg_criteria_outside_the_samples_are_kept():
    s = sample(S002)
    v, want = s.variant(), s.want()
    v.set(s.fields[0]["UNEG Criteria:"], "UNEG Criteria: Sustainability, Impact, Gender equality")
    want["recommendations"][0]["uneg_criteria"] = ["Sustainability", "Impact", "Gender equality"]
    check(s, v, want)


# --- comments running on to the next line -------------------------------------------------


def _split_comment(s: Sample, v: Variant, want: dict, row) -> int:
    """Break a row's comment over two lines at a sentence end; returns the new line's index in `v`."""
    line = s.line(row.no)
    start = s.anchor(row).end() + 1
    for m in re.finditer(r"\. (?=[A-Z][a-z])", line[start:]):
        cut = start + m.start() + 1
        rest = line[cut + 1 :]
        if not re.search(r"(?:19|20)\d\d\s?[/.-]\s?\d", rest):
            break
    else:
        raise AssertionError(f"no place to break the comment on line {row.no}")
    v.set(row.no, line[:cut])
    v.insert_after(row.no, rest)
    action = want["recommendations"][row.rec]["key_actions"][row.pos - 1]
    action["comments"] = line[start:cut] + "\n" + rest
    return v.lines.index((None, rest)) + 1


def test_comment_continuing_on_the_next_line_is_kept_and_warned():
    s = sample(S000)
    v, want = s.variant(), s.want()
    # A row followed by another row of its recommendation, and the last row of one.
    middle, last = s.rows_of(0)[0], s.rows_of(0)[-1]
    continued = [_split_comment(s, v, want, middle), _split_comment(s, v, want, last)]
    doc = check(
        s, v, want, warnings=[(n, "structure") for n in continued] + [(n, "artifact") for n in sample_artifact_lines(s, v)]
    )
    assert "\n" in doc.recommendations[0].key_actions[0].comments
    assert all("more comments" in w.message for w in doc.warnings if w.kind == "structure")


def test_comment_continuing_on_the_next_line_when_rows_are_unnumbered():
    s = sample(S000)
    v, want = _renumber(s, "none")
    row = s.rows_of(0)[0]
    continued = _split_comment(s, v, want, row)
    # _split_comment read the original (numbered) line; the variant's row has no number.
    v.edit(row.no, lambda t: ROW_NUMBER.sub("", t, count=1))
    check(s, v, want, warnings=[(continued, "structure")] + [(n, "artifact") for n in sample_artifact_lines(s, v)])


def test_comment_over_two_lines_where_rows_had_none():
    s = sample(S002)
    v, want = s.variant(), s.want()
    row = s.rows_of(1)[0]
    v.edit(row.no, lambda t: t + " Training was held in May.")
    v.insert_after(row.no, "Two more sessions are planned")
    want["recommendations"][1]["key_actions"][0]["comments"] = "Training was held in May.\nTwo more sessions are planned"
    check(s, v, want, warnings=[(row.no + 1, "structure")])


# --- several variations at once ------------------------------------------------------------


def test_many_variations_at_once(s):
    v, want = _renumber(s, "none")
    for i, no in enumerate(s.rec_nos):
        m = REC_LABEL.match(s.line(no))
        v.set(no, "Recommendation: " + f"RECOMMENDATION {i + 1} " + s.line(no)[m.end() :])
    v.delete(*[f["Description:"] for f in s.fields])
    v.set(s.fields[-1]["Management Response Category:"], "Management Response Category:")
    want["recommendations"][-1]["category"] = ""
    for no in range(s.rec_nos[0], len(s.lines) + 1, 3):
        if v.has(no):
            v.insert_after(no, "")
    doc = check(s, v, want, newline="\r\n")
    assert all(isinstance(a, KeyAction) for a in doc.key_actions)


def test_header_line_of_key_actions_table_may_be_missing(s):
    # "Key Actions" straight followed by the rows.
    v = s.variant()
    v.delete(*s.header_nos)
    check(s, v, s.want())
    assert KA_HEADER not in v.text()
