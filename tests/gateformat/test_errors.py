"""Structurally broken documents: a GateFormatError naming the line, never another exception."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gateformat
from gateformat import GateFormatError
from tests.conftest import SAMPLES
from tests.gateformat.support import ROW_NUMBER, Sample, sample

S000, S002 = SAMPLES


@pytest.fixture(params=SAMPLES)
def s(request) -> Sample:
    return sample(request.param)


def error(text: str) -> GateFormatError:
    with pytest.raises(GateFormatError) as info:
        gateformat.parse(text)
    exc = info.value
    assert isinstance(exc.line, int) and exc.line >= 1
    assert str(exc).startswith(f"{exc.line}: ")
    return exc


# --- the first line and the header ------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n", "   \n\t\n\r\n", "\ufeff"])
def test_empty_document(text):
    exc = error(text)
    assert exc.line == 1
    assert "empty" in exc.message and "'Management Response'" in exc.message


@pytest.mark.parametrize(
    "text,line",
    [
        ("Management Report\n\n: Office\n", 1),
        ("\n\nEvaluation Report\nManagement Response\n", 3),
        ("Recommendation: Recommendation 1: Do it.\n", 1),
        (": Management Response\n", 1),
    ],
)
def test_first_line_not_management_response(text, line):
    exc = error(text)
    assert exc.line == line
    assert "expected 'Management Response' as the first line" in exc.message
    found = text.split("\n")[line - 1].strip()
    assert repr(found) in exc.message  # names what it found


def test_first_line_of_a_sample_replaced(s):
    lines = list(s.lines)
    lines[0] = "Management Responses"
    assert error("\n".join(lines)).line == 1


@pytest.mark.parametrize(
    "text,line",
    [
        ("Management Response\n", 2),
        ("Management Response\n\n\n", 2),
        ("Management Response\n\nRecommendation: Do it.\nKey Actions\n", 2),
    ],
)
def test_no_header_at_all(text, line):
    exc = error(text)
    assert exc.line == line
    assert "': <office>'" in exc.message


def test_office_line_without_its_colon(s):
    lines = list(s.lines)
    lines[2] = lines[2].lstrip(": ")
    exc = error("\n".join(lines))
    assert exc.line == 3
    assert "': <office>'" in exc.message and repr(lines[2]) in exc.message


def test_office_line_missing_so_the_plan_line_comes_first(s):
    # The plan line then stands where the office should, and the title where the plan should.
    lines = list(s.lines)
    del lines[2]
    exc = error("\n".join(lines))
    assert exc.line == 4
    assert "': <start> - <end> , <office> (<type>)'" in exc.message


@pytest.mark.parametrize(
    "plan",
    [
        ": 2015 to 2016, Independent Evaluation Service (IES) (EO)",
        ": 2015 - 2016 , Independent Evaluation Service",
        ": 2015 - 2016 Independent Evaluation Service (EO)",
        ": 15 - 16 , Independent Evaluation Service (EO)",
        ": 2015 - 2016 , (EO)",
        ": 2015 - 2016 , Office (Executive)",
        ":",
    ],
)
def test_plan_line_not_in_its_shape(s, plan):
    lines = list(s.lines)
    lines[3] = plan
    exc = error("\n".join(lines))
    assert exc.line == 4
    assert "expected the plan line ': <start> - <end> , <office> (<type>)'" in exc.message


def test_plan_line_without_colon(s):
    lines = list(s.lines)
    lines[3] = lines[3][2:]
    exc = error("\n".join(lines))
    assert exc.line == 4
    assert "plan line" in exc.message


def test_header_that_stops_after_the_office():
    exc = error("Management Response\n\n: UN Women Fiji MCO")
    assert exc.line == 4
    assert "plan line" in exc.message and "after the office" in exc.message


# --- key-action rows ---------------------------------------------------------------------


def _drop_anchor(s: Sample, row) -> str:
    line = s.line(row.no)
    m = s.anchor(row)
    return line[: m.start("dl")].rstrip() + line[m.end("st") :]


@pytest.mark.parametrize("which", ["second", "last", "first"])
def test_numbered_row_without_deadline_and_status(s, which):
    rec = next(i for i in range(len(s.rec_nos)) if len(s.rows_of(i)) >= 3)
    rows = s.rows_of(rec)
    row = {"first": rows[0], "second": rows[1], "last": rows[-1]}[which]
    lines = list(s.lines)
    lines[row.no - 1] = _drop_anchor(s, row)
    exc = error("\n".join(lines))
    assert exc.line == row.no
    assert "has no deadline and status" in exc.message
    assert f"recommendation {s.expected['recommendations'][rec]['number']}" in exc.message


def test_numbered_row_without_deadline_and_status_in_a_one_row_table(s):
    rec = next(i for i in range(len(s.rec_nos)) if len(s.rows_of(i)) == 1)
    row = s.rows_of(rec)[0]
    lines = list(s.lines)
    lines[row.no - 1] = _drop_anchor(s, row)
    assert error("\n".join(lines)).line == row.no


def test_row_with_a_bad_month_has_no_deadline(s):
    row = s.rows[1]
    m = s.anchor(row)
    lines = list(s.lines)
    line = lines[row.no - 1]
    lines[row.no - 1] = line[: m.start("dl")] + m["dl"][:5] + "13" + line[m.end("dl") :]
    exc = error("\n".join(lines))
    assert exc.line == row.no and "no deadline and status" in exc.message


def test_row_that_ends_at_its_deadline(s):
    row = s.rows[1]
    m = s.anchor(row)
    lines = list(s.lines)
    lines[row.no - 1] = s.line(row.no)[: m.end("dl")]
    exc = error("\n".join(lines))
    assert exc.line == row.no
    assert "ends at its deadline" in exc.message and "expected a status" in exc.message
    assert m["dl"] in exc.message


def test_row_that_ends_at_its_deadline_with_crlf_and_trailing_space(s):
    row = s.rows[-1]
    m = s.anchor(row)
    lines = list(s.lines)
    lines[row.no - 1] = s.line(row.no)[: m.end("dl")] + "  "
    assert error("\r\n".join(lines)).line == row.no


def test_unnumbered_first_row_without_anchor(s):
    rec = next(i for i in range(len(s.rec_nos)) if len(s.rows_of(i)) == 1)
    row = s.rows_of(rec)[0]
    lines = list(s.lines)
    lines[row.no - 1] = ROW_NUMBER.sub("", _drop_anchor(s, row), count=1)
    exc = error("\n".join(lines))
    assert exc.line == row.no
    assert "has no deadline and status" in exc.message
    assert "'... <responsible> YYYY/MM <status> ...'" in exc.message


def test_unnumbered_only_row_without_anchor_at_the_end_of_the_document():
    s = sample(S000)
    row = s.rows[-1]
    assert len(s.rows_of(row.rec)) == 1 and row.no == len(s.lines)
    lines = list(s.lines)
    lines[row.no - 1] = ROW_NUMBER.sub("", _drop_anchor(s, row), count=1)
    exc = error("\n".join(lines) + "\n\n")
    assert exc.line == row.no
    assert "recommendation 8 has no deadline and status" in exc.message


# --- recommendation blocks ----------------------------------------------------------------


def test_block_cut_off_before_the_next_recommendation(s):
    rec = 2
    lines = [ln for no, ln in enumerate(s.lines, start=1) if no not in {s.key_actions_nos[rec], s.header_nos[rec]}
             and no not in {r.no for r in s.rows_of(rec)}]
    exc = error("\n".join(lines))
    uneg = s.fields[rec]["UNEG Criteria:"]
    assert exc.line == uneg  # the block's last line, right before the next 'Recommendation:'
    number = s.expected["recommendations"][rec]["number"]
    assert f"recommendation {number} (line {s.rec_nos[rec]}) is cut off" in exc.message
    assert "expected 'Key Actions'" in exc.message


@pytest.mark.parametrize("ending", ["", "\n", "\n\n\n"])
def test_block_cut_off_at_the_end(s, ending):
    uneg = s.fields[-1]["UNEG Criteria:"]
    text = "\n".join(s.lines[:uneg]) + ending
    exc = error(text)
    assert exc.line == uneg  # the last line the block has, not a blank line past it
    assert "is cut off" in exc.message and "expected 'Key Actions'" in exc.message


def test_block_cut_off_mid_field_at_the_end(s):
    mr = s.fields[0]["Management Response:"]
    exc = error("\n".join(s.lines[:mr]) + "\n")
    assert exc.line == mr
    assert f"(line {s.rec_nos[0]}) is cut off" in exc.message


# --- garbage: a Document or a GateFormatError, nothing else ----------------------------------


def read_or_refuse(text: str) -> None:
    try:
        doc = gateformat.parse(text)
    except GateFormatError as exc:
        # A line of the text, or the one just past its end where a missing line was expected.
        assert exc.line is not None and 1 <= exc.line <= len(re.split(r"\r\n|\r|\n", text)) + 1
    else:
        assert isinstance(doc, gateformat.Document)
        doc.to_dict()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_is_read_or_refused(text):
    read_or_refuse(text)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_arbitrary_text_after_the_title_is_read_or_refused(text):
    read_or_refuse("Management Response\n" + text)


def _fragments() -> list[str]:
    """Lines and pieces of lines of both samples, to shuffle into near-documents."""
    out = set()
    for name in SAMPLES:
        for line in sample(name).lines:
            out.add(line[:200])
            out.add(line[:40])
            out.add(line[-60:])
    out |= {"", ":", ",", "9/16", "Key Action not added.", "1) ", "1.1. X 2020/13 Completed", "2020/12", "(", ")"}
    return sorted(out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_fragments()), max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
def test_shuffled_sample_lines_are_read_or_refused(lines, newline):
    read_or_refuse(newline.join(["Management Response", ""] + lines))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_sample_with_lines_dropped_or_doubled_is_read_or_refused(data):
    s = sample(data.draw(st.sampled_from(SAMPLES)))
    lines = list(s.lines)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "double", "cut", "blank"]))
        if action == "drop":
            del lines[i]
        elif action == "double":
            lines.insert(i, lines[i])
        elif action == "cut":
            lines[i] = lines[i][: data.draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        else:
            lines.insert(i, "")
        if not lines:
            break
    read_or_refuse("\n".join(lines))


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01\x02\xff\xfe",
        "\ufffd" * 50,
        bytes(range(256)).decode("latin-1"),
        "Management Response\n\x00\n: \x00\n: 2015 - 2016 , \x00 (EO)\n",
        "Management Response\n\n: A\n: 2015 - 2016 , A (EO)\n: T\n\ud800\n: Approved\n",
        "Management Response\n\n: A\n: 2015 - 2016 , A (EO)\n" + "Recommendation:\n" * 5,
        "Management Response\n\n: A\n: 2015 - 2016 , A (EO)\nRecommendation:\nKey Actions\n\t\t\t\t\t\t\n",
        "Management Response\n\n: A\n: 2015 - 2016 , A (EO)\nRecommendation:\nKey Actions\n1.1\t\t2020/12\tCompleted\n",
        "Management Response\n\n: A\n: 2015 - 2016 , A (EO)\nRecommendation:\nKey Actions\n2020/12 Completed\n",
        "Management Response\n\n: A\n: 9999 - 0000 , A (ZZ)\n" + "Recommendation:\nKey Actions\n" * 3,
    ],
    ids=lambda t: repr(t[:24]),
)
def test_binary_ish_input_is_read_or_refused(text):
    read_or_refuse(text)
