"""Fuzzing the GATE reader: mutated and random documents give a Document or a GateFormatError, nothing
else, each within a time bound (hypothesis deadlines), and large inputs up to 10 MB are read in linear
time (no catastrophic backtracking) or refused at once.

The deadlines are bounds on catastrophe (a regex that backtracks, a loop that copies the rest of a
line per match), not measures of speed: they are many times what any input here needs.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import threading
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gateformat
from gateformat import GateFormatError
from gateformat.parser import MAX_CHARACTERS
from tests.conftest import SAMPLES, sample_text
from tests.gateformat.test_roundtrip import documents

DEADLINE = dt.timedelta(seconds=10)
FUZZ = settings(deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TEXTS = [sample_text(name) for name in SAMPLES]
HEAD = "Management Response\n\n: Office A\n: 2015 - 2016 , Office A (EO)\n: A title\n\n: Approved\n"
# What a page is made of, to insert: labels, numbers, deadlines, statuses, separators, control characters.
PIECES = [
    "Recommendation:", "Recommendation: Evaluation recommendation 1:", "Management Response:", "Description:",
    "Management Response Category:", "Thematic Area:", "Key Actions", "Key Action not added.",
    "Responsible Deadline Status Comments", "1.1 ", "1) ", "2.3.", "R1.", "2020/12", "2020-1", "1999.13", "Completed",
    "Initiated", "Not Initiated", "No Longer Applicable", "Overdue", " 9/16 ", "3/3", ":", "(", ")", ";", "/", "\t",
    "\n", "\r\n", "\r", "\x00", "\x0c", "\u2028", "\ufeff", "\ufffd", "\u202e", "\u200b", "  ", "Management Response\n",
]


def read_or_refuse(text: str) -> None:
    try:
        doc = gateformat.parse(text)
    except GateFormatError as exc:
        assert exc.line is not None and 1 <= exc.line <= len(re.split(r"\r\n|\r|\n", text)) + 1
    else:
        assert isinstance(doc, gateformat.Document)
        doc.to_dict()


@st.composite
def mutated(draw, base: st.SearchStrategy[str]) -> str:
    """A document with a few edits: spans cut, doubled, moved, inflated; pieces and random text put in."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 6))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 400)))
        edit = draw(st.sampled_from(["cut", "double", "move", "inflate", "piece", "random", "swap_case"]))
        if edit == "cut":
            text = text[:i] + text[j:]
        elif edit == "double":
            text = text[:j] + text[i:j] + text[j:]
        elif edit == "move":
            k = draw(st.integers(0, max(0, n - (j - i))))
            span, rest = text[i:j], text[:i] + text[j:]
            text = rest[:k] + span + rest[k:]
        elif edit == "inflate":  # a span repeated many times: where backtracking would show
            text = text[:i] + text[i : i + 12] * draw(st.integers(10, 3_000)) + text[i:]
        elif edit == "piece":
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
        elif edit == "random":
            text = text[:i] + draw(st.text(max_size=60)) + text[j:]
        else:
            text = text[:i] + text[i:j].swapcase() + text[j:]
    return text


def _rendered(doc) -> str:
    return gateformat.render(doc)


@settings(FUZZ, max_examples=400)
@given(mutated(st.sampled_from(TEXTS)))
def test_mutated_samples_are_read_or_refused(text):
    read_or_refuse(text)


@settings(FUZZ, max_examples=300)
@given(mutated(documents().map(_rendered)))
def test_mutated_generated_documents_are_read_or_refused(text):
    read_or_refuse(text)


@settings(FUZZ, max_examples=300)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=30)), max_size=80).map("".join))
def test_documents_made_of_page_pieces_are_read_or_refused(text):
    read_or_refuse(HEAD + "Recommendation: x\n" + text)


@settings(FUZZ, max_examples=300)
@given(st.binary(max_size=3_000).map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_random_bytes_as_text_are_read_or_refused(text):
    # Invalid UTF-8 reaches the reader as lone surrogates (surrogateescape), as a careless caller might pass it.
    read_or_refuse(text)
    read_or_refuse("Management Response\n" + text)


# --- large inputs: linear time, or refused at once -------------------------------------------------------


@contextmanager
def bound(seconds: int):
    """Fail (not hang) past `seconds`: the mark of a quadratic or backtracking reader, not a speed test."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise AssertionError(f"not read within {seconds} s: catastrophic (super-linear) reading")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


MB = 1_000_000
UNDER = MAX_CHARACTERS - 2_000  # the largest input the reader reads
ROW = HEAD + "Recommendation: r\nKey Actions\n1.1 "


def _fill(prefix: str, unit: str, size: int) -> str:
    return prefix + unit * ((size - len(prefix)) // len(unit))


LARGE = {
    # Each made of what one of the reader's patterns scans again and again.
    "deadlines without status": _fill(ROW, "2020/12 ", UNDER),  # was quadratic: the rest of the line copied per deadline
    "action numbers": _fill(ROW, "1.", UNDER),
    "page numbers in running text": _fill(HEAD + "Recommendation: ", "a 1/2 ", UNDER),
    "statuses": _fill(ROW + "x 2020/12 ", "Completed ", UNDER),
    "spaces in a row": ROW + " " * (UNDER - len(ROW) - 30) + " 2020/12 Completed",
    "tabs": _fill(ROW, "\t", UNDER),
    "labels": _fill(HEAD, "Recommendation: x\nManagement Response: y\n", UNDER),
    "colons": _fill(HEAD, ": ", UNDER),
    "open brackets": _fill(ROW, "(", UNDER),
    "blank lines": "\n" * UNDER,
    "unit names": _fill(ROW, "Unit (UA) ", UNDER) + " 2020/12 Completed\n",
    "samples one after another": _fill("", TEXTS[0], UNDER),
    # Past the limit: refused before reading.
    "10 MB of one line": "Management Response\n" + "a" * (10 * MB),
    "10 MB of blank lines": "\n" * (10 * MB),
    "10 MB of deadlines": _fill(ROW, "2020/12 ", 10 * MB),
    "10 MB of samples": _fill("", TEXTS[0], 10 * MB),
}


@pytest.mark.parametrize("name", list(LARGE))
def test_large_inputs_are_read_in_linear_time_or_refused_at_once(name):
    text = LARGE[name]
    with bound(120):
        if len(text) > MAX_CHARACTERS:
            with pytest.raises(GateFormatError) as exc:
                gateformat.parse(text)
            assert exc.value.line == 1 and "at most 2,000,000" in exc.value.message
        else:
            read_or_refuse(text)
