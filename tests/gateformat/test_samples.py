"""The real GATE pages read exactly: both whole samples, and the 37 real headers."""

from __future__ import annotations

import pytest

import gateformat
from tests.conftest import SAMPLES, real_pages, sample_expected, sample_text, subset

TAIL = """Recommendation: Recommendation 1: Strengthen the follow-up of evaluation recommendations.
Management Response: Accepted.
Description:
Management Response Category: Accepted
Thematic Area: Not applicable
Operating Principles: Not applicable
Organizational Priorities: Not applicable
UNEG Criteria: Effectiveness
Key Actions
Responsible Deadline Status Comments
1.1 Review the tracking procedure for key actions. Independent Evaluation Service (IES) 2020/12 Completed Reviewed.
"""


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_reads_exactly_as_expected(name):
    doc = gateformat.parse(sample_text(name), source=f"{name}.txt")
    expected = sample_expected(name)
    got = doc.to_dict()
    assert got["evaluation"] == expected["evaluation"]
    assert got["management_response"] == expected["management_response"]
    assert len(got["recommendations"]) == len(expected["recommendations"])
    for want_rec, got_rec in zip(expected["recommendations"], got["recommendations"]):
        want_actions = want_rec.pop("key_actions")
        got_actions = got_rec.pop("key_actions")
        assert subset(want_rec, got_rec), want_rec["number"]
        assert len(got_actions) == len(want_actions)
        for want, action in zip(want_actions, got_actions):
            assert subset(want, action), (want["number"], want["responsible"], action["responsible"])


def test_samples_hold_all_31_key_actions_with_confident_splits():
    actions = [a for name in SAMPLES for a in gateformat.parse(sample_text(name)).key_actions]
    assert len(actions) == 31
    assert all(0.0 <= a.split_confidence <= 1.0 for a in actions)
    # The split is right on all 31; the reader should also be sure of most of them.
    assert sum(a.split_confidence >= 0.9 for a in actions) >= 28


def test_page_number_inside_a_comment_is_removed_and_reported():
    doc = gateformat.parse(sample_text("000_6da9e6de966dff24"))
    comment = doc.recommendations[4].key_actions[1].comments
    assert "convene their civil society." in comment
    assert "9/16" not in comment
    artifacts = [w for w in doc.warnings if w.kind == "artifact"]
    assert [w.line for w in artifacts] == [72]


def header_document(page: dict, label: dict) -> str:
    """Complete a real page's excerpt into a whole document, as the stop hook does."""
    lines = page["excerpt"].split("\n")
    cut = next((i for i, line in enumerate(lines) if line.startswith("Recommendation:")), len(lines))
    status = "" if label["management_response"]["status"] else "\n: Approved\n"
    return "\n".join(lines[:cut]).rstrip() + "\n" + status + TAIL


@pytest.mark.parametrize("page,label", real_pages(), ids=lambda x: str(x.get("evaluation_id", "")))
def test_real_header_reads_exactly(page, label):
    doc = gateformat.parse(header_document(page, label)).to_dict()
    assert doc["evaluation"] == label["evaluation"]
    assert doc["management_response"]["units"] == label["management_response"]["units"]
    assert doc["management_response"]["overall_response"] == label["management_response"]["overall_response"]
    if label["management_response"]["status"]:
        assert doc["management_response"]["status"] == label["management_response"]["status"]


def test_all_four_header_layouts_are_among_the_real_pages():
    layouts = {label["layout"].split("-")[0] for _, label in real_pages()}
    assert layouts == {"L1", "L2", "L3", "L4"}


@pytest.mark.parametrize("page,label", real_pages(), ids=lambda x: str(x.get("evaluation_id", "")))
def test_real_excerpt_cut_mid_page_is_read_or_refused_with_its_line(page, label):
    """The excerpts end wherever 2,000 bytes fell: either what is there reads, or the error names a line in it."""
    text = page["excerpt"]
    try:
        gateformat.parse(text)
    except gateformat.GateFormatError as exc:
        assert exc.line is not None and 1 <= exc.line <= text.count("\n") + 1
