"""`parse(render(doc)) == doc`: for the samples, and for arbitrary documents.

What a document may hold and still be written and read back unchanged (found
by reading render.py and parser.py; each is a property of the page format,
not a shortcut):

- texts are words of printable characters (letters, digits, punctuation,
  symbols) joined by single spaces: a page is lines, key-action cells are
  tab-separated, and the reader strips each value;
- no word is a page number `n/m` (1 <= n <= m, m >= 2): those are copy
  artifacts and are removed from running text;
- a value written as a bare line (the overall response; the units in the
  sample 002 layout) does not start with `:` (that is a header value),
  `Recommendation:` (that starts a block) and is not `,` (an empty list);
- list items hold no comma, except the known terms that contain one
  (`Evidence, Data and statistics`), and are not the first piece of such a
  term followed by its rest as separate items;
- statuses and categories are spelled as the vocabulary spells them, or
  are outside it (the reader canonicalises known ones: `accepted` ->
  `Accepted`); office types are the six known ones, upper case;
- the compact layout needs a unit (with none it *is* the no-title layout);
  the no-title layout is for untitled evaluations with one unit;
- key actions rendered with `numbering="none"` are numbered by position,
  and their text must not itself start like a number.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gateformat
from gateformat import Document, Evaluation, KeyAction, ManagementResponse, Recommendation, parse, render
from gateformat.generate import (
    HQ_UNITS,
    OBJECTS,
    OPERATING_PRINCIPLES,
    ORGANIZATIONAL_PRIORITIES,
    SENTENCES,
    THEMATIC_AREAS_NEW,
    THEMATIC_AREAS_OLD,
    UNEG_CRITERIA,
)
from gateformat.vocab import (
    ALL_KEY_ACTION_STATUSES,
    CATEGORIES,
    KEY_ACTION_STATUSES,
    MULTI_COMMA_TERMS,
    OFFICE_TYPES,
    RESPONSE_STATUSES,
    canonical,
)
from tests.conftest import SAMPLES, sample_expected, sample_text
from tests.gateformat.support import assert_same_content

# --- strategies ------------------------------------------------------------------------


def _is_page_number(word: str) -> bool:
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})", word)
    return bool(m) and 1 <= int(m[1]) <= int(m[2]) and int(m[2]) >= 2


# Realistic phrases, and arbitrary text made of printable characters and single spaces. (Text is
# drawn whole and cut into words, not word by word: far fewer draws, so many more documents a second.)
REAL_PHRASES = SENTENCES + OBJECTS + HQ_UNITS + [
    "UN-Women’s «garantir» l’égalité de género",
    "ONU Mujeres 2018/12 (SPs before 2018)",
    "女性 の 参加",
    "Over due 2018/12 Completed",
]
_CHARS = st.characters(categories=("L", "N", "P", "S"), include_characters=" ")


def _words_of(raw: str) -> str:
    return " ".join(w for w in raw.split() if not _is_page_number(w))


def words(min_size: int = 0, max_chars: int = 40) -> st.SearchStrategy[str]:
    text = st.one_of(st.sampled_from(REAL_PHRASES), st.text(_CHARS, max_size=max_chars).map(_words_of))
    return text.filter(lambda t: len(t) >= min_size) if min_size else text


def prose(min_size: int = 0) -> st.SearchStrategy[str]:
    """Free text: a real-looking sentence or two, or arbitrary words, or both."""
    sentence = st.sampled_from(SENTENCES)
    return st.one_of(
        sentence,
        st.tuples(sentence, sentence).map(" ".join),
        words(min_size, 80),
        st.tuples(sentence, words(1)).map(" ".join),
    )


def _bare_line_ok(text: str) -> bool:
    return not text.startswith(":") and not re.match(r"(?i)recommendation\s*:", text) and text != ","


bare_text = prose(1).filter(_bare_line_ok)

OFFICE_NAMES = [
    "Office (Fiji)",
    "Multi-Country Office (Fiji)",
    "Independent Evaluation Service (IES)",
    "Policy, Programme and Intergovernmental Division",
    "Independent Evaluation Office(IEO)",
    "Bureau régional pour l’Afrique de l’Ouest et du Centre",
    "Kenya",
]
office = st.one_of(st.sampled_from(OFFICE_NAMES), words(1, 30))
unit = st.one_of(st.sampled_from(OFFICE_NAMES + HQ_UNITS), words(1, 30)).filter(
    lambda u: _bare_line_ok(u) and canonical(u, RESPONSE_STATUSES) is None
)

# The first pieces of the terms that contain a comma: alone in a list before the rest, they would join.
_TERM_PIECES = {p.strip().casefold() for term in MULTI_COMMA_TERMS for p in term.split(",")}
list_item = st.one_of(
    st.sampled_from(OPERATING_PRINCIPLES + ORGANIZATIONAL_PRIORITIES + UNEG_CRITERIA + list(MULTI_COMMA_TERMS)),
    words(1, 25).map(lambda t: t.replace(",", ";")).filter(lambda t: t.casefold() not in _TERM_PIECES),
)
term_list = st.lists(list_item, max_size=4)

# Statuses the reader keeps exactly as written (some legacy spellings share a key: "On going", "On-going").
STATUSES = [s for s in ALL_KEY_ACTION_STATUSES if canonical(s, ALL_KEY_ACTION_STATUSES) == s]
status = st.one_of(st.sampled_from(KEY_ACTION_STATUSES), st.sampled_from(STATUSES))
category = st.sampled_from(list(CATEGORIES) + ["", "Noted", "Under review"])
deadline = st.one_of(
    st.just(""), st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2000, 2099), st.integers(1, 12))
)
# Digit strings of one or two digits (with leading zeros too): key-action numbers are read as
# 1-2 digit parts ("12.3"), so a three-digit recommendation number could not number its actions.
digits = st.one_of(st.integers(0, 99).map(str), st.integers(0, 9).map("0{}".format))


# Built once: strategies made inside a draw are built (and validated) again on every draw.
PROSE, SOME_PROSE = prose(), prose(1)
OPTIONAL_PROSE = st.one_of(st.just(""), SOME_PROSE)
SHORT_WORDS = words(0, 30)
TITLE = words(1, 60)
THEMATIC_AREA = st.one_of(
    st.sampled_from(THEMATIC_AREAS_NEW + ["Not applicable"]),
    st.lists(st.sampled_from(THEMATIC_AREAS_OLD), min_size=1, max_size=3, unique=True).map(", ".join),
    SHORT_WORDS,
)
OVERALL = st.one_of(st.just(""), bare_text)
NUMBER_KIND = st.sampled_from(["rec.i", "i", "any"])
TWO_DIGITS = st.tuples(digits, digits).map(".".join)


@st.composite
def key_actions(draw, rec_number: str) -> list[KeyAction]:
    out = []
    for i in range(1, draw(st.integers(0, 5)) + 1):
        kind = draw(NUMBER_KIND)
        number = f"{rec_number}.{i}" if kind == "rec.i" else str(i) if kind == "i" else draw(TWO_DIGITS)
        out.append(
            KeyAction(
                number=number,
                text=draw(PROSE),
                responsible=draw(SHORT_WORDS),
                deadline=draw(deadline),
                status=draw(status),
                comments=draw(OPTIONAL_PROSE),
            )
        )
    return out


@st.composite
def recommendations(draw) -> list[Recommendation]:
    numbers = draw(st.lists(digits, max_size=6))
    return [
        Recommendation(
            number=n,
            text=draw(PROSE),
            management_response=draw(PROSE),
            description=draw(OPTIONAL_PROSE),
            category=draw(category),
            thematic_area=draw(THEMATIC_AREA),
            operating_principles=draw(term_list),
            organizational_priorities=draw(term_list),
            uneg_criteria=draw(term_list),
            key_actions=draw(key_actions(n)),
        )
        for n in numbers
    ]


RESPONSE_STATUS = st.sampled_from(RESPONSE_STATUSES + ("",))
OFFICE_TYPE = st.sampled_from(OFFICE_TYPES)
RECOMMENDATIONS = recommendations()


@st.composite
def documents(draw, *, min_units: int = 0, max_units: int = 3, titled: bool = True) -> Document:
    start = draw(st.integers(2000, 2030))
    the_office = draw(office)
    return Document(
        evaluation=Evaluation(
            title=draw(TITLE) if titled else "",
            office=the_office,
            plan_office=draw(st.one_of(st.just(the_office), office)),
            office_type=draw(OFFICE_TYPE),
            plan_start_year=start,
            plan_end_year=draw(st.integers(start, start + 5)),
        ),
        management_response=ManagementResponse(
            status=draw(RESPONSE_STATUS),
            units=draw(st.lists(unit, min_size=min_units, max_size=max_units)),
            overall_response=draw(OVERALL),
        ),
        recommendations=draw(RECOMMENDATIONS),
    )


def roundtrip(doc: Document, **options) -> Document:
    text = render(doc, **options)
    back = parse(text)
    assert_same_content(back.to_dict(), doc.to_dict())
    assert back == doc
    return back


# --- the samples ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_roundtrip(name):
    doc = Document.from_dict(sample_expected(name))
    back = roundtrip(doc)
    # Tab-separated cells: nothing was inferred.
    assert all(a.split_confidence == 1.0 for a in back.key_actions)
    assert not [w for w in back.warnings if w.kind in ("split", "artifact")]


@pytest.mark.parametrize("name", SAMPLES)
def test_parsed_sample_renders_and_reads_back_the_same(name):
    doc = parse(sample_text(name))
    assert parse(render(doc)) == doc
    # Rendering is deterministic and stable: the second round writes the same page.
    assert render(parse(render(doc))) == render(doc)


# --- generated documents ------------------------------------------------------------------------


def examples(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@examples(120)
@given(documents())
def test_any_document_roundtrips(doc):
    back = roundtrip(doc)
    assert all(a.split_confidence == 1.0 for a in back.key_actions)
    assert not [w for w in back.warnings if w.kind in ("split", "artifact")]


LABEL_FORMS = [
    "Recommendation {number}: ",
    "Evaluation recommendation {number}: ",
    "Recommendation {number}. ",
    "RECOMMENDATION {number} ",
    "R{number}. ",
    "{number}. ",
]


def _row_lines(text: str) -> list[str]:
    """The key-action rows of a rendered page (tab-separated)."""
    return [ln for ln in re.split(r"\r\n|\n", text) if "\t" in ln]


def _check_numbering(text: str, doc: Document, numbering: str) -> None:
    rows = _row_lines(text)
    assert len(rows) == len(doc.key_actions)
    for row, a in zip(rows, doc.key_actions):
        head = row.split("\t")[0]
        if numbering == "paren":
            assert head.startswith(f"{a.number}) ")
        elif numbering == "dot":
            assert head.startswith(f"{a.number}. ")
        elif numbering == "plain":
            assert head.startswith(f"{a.number} " if a.text[:1].isupper() else f"{a.number}) ")
        else:
            assert head == a.text


def _check_layout(text: str, doc: Document, layout: str) -> None:
    lines = re.split(r"\r\n|\n", text)
    units = doc.management_response.units
    assert lines[:2] == ["Management Response", ""]
    if layout == "sample000":
        assert lines[5] == ":" and lines[6 : 6 + len(units)] == [f": {u}" for u in units]
    elif layout == "sample002":
        assert lines[5:8] == [":", ":", ""] and lines[8 : 8 + max(1, len(units))] == (units or [","])
    elif layout == "compact":
        assert lines[5 : 5 + len(units)] == [f": {u}" for u in units] and lines[5 + len(units)] == ""
    else:
        assert lines[4] == f": {units[0]}" and lines[5] == ""


@examples(150)
@given(
    st.sampled_from(["sample000", "sample002", "compact"]).flatmap(
        lambda layout: st.tuples(st.just(layout), documents(min_units=1 if layout == "compact" else 0))
    ),
    st.sampled_from(["plain", "paren", "dot"]),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(LABEL_FORMS),
)
def test_any_document_roundtrips_with_any_options(layout_and_doc, numbering, newline, label):
    layout, doc = layout_and_doc
    for rec in doc.recommendations:
        if "{number} " in label:
            # After a label with no punctuation of its own, text starting with punctuation would be read
            # as the label's ("RECOMMENDATION 1 ) ..."); after "1. ", a digit would join the number.
            assume(rec.text[:1] not in ":.)-–")
        if label.startswith(("{number}.", "R{number}.")):
            assume(not rec.text[:1].isdigit())
    options = dict(layout=layout, numbering=numbering, newline=newline, recommendation_label=label)
    text = render(doc, **options)
    assert text.endswith(newline) and (newline == "\r\n") == ("\r\n" in text)
    _check_layout(text, doc, layout)
    _check_numbering(text, doc, numbering)
    back = roundtrip(doc, **options)
    # The line each part came from does not depend on the line ending.
    plain = parse(render(doc, **{**options, "newline": "\n"}))
    assert [a.line for a in back.key_actions] == [a.line for a in plain.key_actions]
    assert [r.line for r in back.recommendations] == [r.line for r in plain.recommendations]


@examples(40)
@given(documents(min_units=1, max_units=1, titled=False))
def test_untitled_document_roundtrips_in_the_no_title_layout(doc):
    text = render(doc, layout="no-title")
    _check_layout(text, doc, "no-title")
    roundtrip(doc, layout="no-title")


@examples(60)
@given(documents(), st.sampled_from(["\n", "\r\n"]))
def test_unnumbered_key_actions_are_numbered_by_position(doc, newline):
    for a in doc.key_actions:
        assume(not re.match(r"[0-9]", a.text))  # "5 Workshops ..." would read as number 5
    text = render(doc, numbering="none", newline=newline)
    _check_numbering(text, doc, "none")
    back = parse(text)
    want = [f"{r.number}.{i}" for r in doc.recommendations for i in range(1, len(r.key_actions) + 1)]
    assert [a.number for a in back.key_actions] == want
    for rec in doc.recommendations:
        for i, a in enumerate(rec.key_actions, start=1):
            a.number = f"{rec.number}.{i}"
    assert back == doc


# --- cells separated by spaces, for documents whose split is unambiguous ----------------------------


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("layout", ["sample000", "sample002", "compact"])
@pytest.mark.parametrize("numbering", ["plain", "paren", "dot"])
def test_samples_with_space_separated_cells(name, layout, numbering):
    doc = Document.from_dict(sample_expected(name))
    text = render(doc, layout=layout, cells="space", numbering=numbering)
    assert "\t" not in text
    back = parse(text)
    assert_same_content(back.to_dict(), doc.to_dict())
    assert back == doc
    # Inferred now, so not all sure; but every split is right.
    assert any(a.split_confidence < 1.0 for a in back.key_actions)


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_with_space_separated_unnumbered_cells_and_crlf(name):
    doc = Document.from_dict(sample_expected(name))
    text = render(doc, cells="space", numbering="none", newline="\r\n", layout="compact")
    back = parse(text)
    for rec in doc.recommendations:
        for i, a in enumerate(rec.key_actions, start=1):
            a.number = f"{rec.number}.{i}"
    assert back == doc


def test_space_cells_with_empty_comments_end_at_the_status():
    doc = Document.from_dict(sample_expected(SAMPLES[1]))
    text = render(doc, cells="space")
    rows = [ln for ln in text.split("\n") if re.match(r"\d+ ", ln)]
    assert len(rows) == 13 and all(ln.endswith((" Initiated", " Not Initiated")) for ln in rows)


def test_unknown_layout_is_refused():
    doc = Document.from_dict(sample_expected(SAMPLES[0]))
    with pytest.raises(ValueError, match="unknown layout"):
        render(doc, layout="sample001")


def test_tab_row_with_empty_first_cell_and_empty_responsible():
    # Cells copied from a browser table: an empty cell is an empty value, at either end of the text.
    doc = Document.from_dict(sample_expected(SAMPLES[1]))
    doc.recommendations[0].key_actions[0].text = ""
    doc.recommendations[0].key_actions[1].responsible = ""
    doc.recommendations[0].key_actions[2].deadline = ""
    for numbering in ("plain", "none"):
        back = parse(render(doc, numbering=numbering))
        got = back.recommendations[0].key_actions
        assert (got[0].text, got[0].responsible) == ("", doc.recommendations[0].key_actions[0].responsible)
        assert (got[1].text, got[1].responsible) == (doc.recommendations[0].key_actions[1].text, "")
        assert got[2].deadline == ""
    assert gateformat.parse(render(doc)) == doc


# --- the cases the properties found (each was a bug in gateformat) ---------------------------------


def test_no_units_in_the_sample002_layout_reads_as_no_units():
    # The layout prints ',' where the unit would stand; that is an empty list, not a unit named ','.
    doc = Document.from_dict(sample_expected(SAMPLES[1]))
    doc.management_response.units = []
    text = render(doc, layout="sample002")
    assert "\n\n,\n\n:\n" in text
    assert parse(text).management_response.units == []
    assert parse(text) == doc


def test_label_without_text_gives_the_number():
    doc = Document.from_dict(sample_expected(SAMPLES[1]))
    doc.recommendations[1].text = ""
    for label in ["{number}. ", "R{number}. ", "Recommendation {number}: "]:
        back = parse(render(doc, recommendation_label=label))
        assert [r.number for r in back.recommendations] == ["1", "2", "3", "4", "5"], label
        assert back.recommendations[1].text == ""


def test_labels_and_numbers_as_written_are_written_back_while_they_still_hold():
    doc = parse(
        "\n".join(
            [
                "Management Response", "", ": UN Women Kenya", ": 2018 - 2019 , UN Women Kenya (CO)", ": A title",
                ": UN Women Kenya", "", ": Approved",
                "Recommendation: Evaluation recommendation 1: Strengthen the programme.",
                "Management Response: Accepted.", "Key Actions", "Responsible Deadline Status Comments",
                "1) Train the staff. UN Women Kenya 2019/06 Completed Done.",
                "2) Publish the guide. UN Women Kenya 2019/12 Initiated",
                "Recommendation: Evaluation recommendation 2. Fund it.",
                "Management Response: Accepted.", "Key Actions", "Responsible Deadline Status Comments",
                "2.1. Find donors. UN Women Kenya 2019/12 Initiated",
            ]
        )
    )
    assert [r.label for r in doc.recommendations] == ["Evaluation recommendation 1: ", "Evaluation recommendation 2. "]
    assert [a.label for a in doc.key_actions] == ["1)", "2)", "2.1."]
    text = render(doc)
    assert "Recommendation: Evaluation recommendation 1: Strengthen the programme." in text
    assert "Recommendation: Evaluation recommendation 2. Fund it." in text
    assert "\n1) Train the staff.\t" in text and "\n2.1. Find donors.\t" in text
    assert parse(text) == doc
    # Renumbered since: the label no longer holds, the number is written instead.
    doc.recommendations[1].number = "3"
    doc.recommendations[1].key_actions[0].number = "3.1"
    text = render(doc)
    assert "Recommendation: Recommendation 3: Fund it." in text and "\n3.1 Find donors.\t" in text
    assert parse(text) == doc
