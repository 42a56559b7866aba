"""Telling the action text from the responsible unit(s), as a general method.

Rows are taken from the two samples and from the real pages in
tests/data/gate/real-headers/pages.jsonl (found there by a fragment, never
copied by hand), then split alone, inside a small document, with and without
known units.
"""

from __future__ import annotations

import json
import re

import pytest

import gateformat
from gateformat.parser import reference_vocabulary
from gateformat.split import LOW_CONFIDENCE, Split, Splitter, UnitVocabulary, low_confidence, normalize_unit
from tests.conftest import DATA, SAMPLES
from tests.gateformat.support import ROW_NUMBER, sample

S000, S002 = SAMPLES

# `<deadline> <status>` on a real row: where the action part ends.
_ANCHOR = re.compile(r" (?:19|20)\d\d/\d{1,2} (?:Not Initiated|Initiated|Completed|No Longer Applicable|Over due|Ongoing)\b")


def splitter(known=()) -> Splitter:
    vocabulary = reference_vocabulary().layer()
    vocabulary.add_all(known)
    return Splitter(vocabulary)


def body_of(line: str) -> str:
    """A row's text and responsible: without its number, and without what follows the deadline."""
    m = _ANCHOR.search(line)
    assert m, line
    return ROW_NUMBER.sub("", re.sub(r"^(\d{1,2}(?:\.\d{1,2})*)\.(?=\s)", r"\1", line[: m.start()]), count=1)


def real_row(evaluation_id: int, fragment: str) -> str:
    """The one line of a real page's excerpt that holds `fragment`."""
    for line in (DATA / "real-headers" / "pages.jsonl").read_text(encoding="utf-8").splitlines():
        page = json.loads(line)
        if page["evaluation_id"] == evaluation_id:
            rows = [ln for ln in page["excerpt"].split("\n") if fragment in ln]
            assert len(rows) == 1, (evaluation_id, fragment, rows)
            return rows[0]
    raise AssertionError(f"no page {evaluation_id}")


def sample_row(name: str, number: str) -> tuple[str, dict]:
    s = sample(name)
    for row in s.rows:
        action = s.action(row)
        if action["number"] == number:
            return s.line(row.no), action
    raise AssertionError(number)


def document(rows: list[str], newline: str = "\n") -> str:
    """A small whole document around some key-action rows."""
    return newline.join(
        [
            "Management Response",
            "",
            ": UN Women Sierra Leone",
            ": 2012 - 2013 , UN Women Sierra Leone (CO)",
            ": Final Evaluation of the Programme",
            ": UN Women Sierra Leone",
            "",
            ": Approved",
            "Recommendation: Recommendation 1: Strengthen the programme.",
            "Management Response: Accepted.",
            "Management Response Category: Accepted",
            "Key Actions",
            "Responsible Deadline Status Comments",
            *rows,
        ]
    )


FIRST_ROW_LINE = 14  # the line of rows[0] in document()


# --- hard rows of the samples, split alone (no document around them) -------------------------


@pytest.mark.parametrize(
    "name,number,why",
    [
        (S000, "7.1", "'... by the UNCT Programme Division': the text ends on an acronym, the unit is two words"),
        (S000, "2.1", "'... in liaison with SPD. SPD/Programme Division/ CSS/': a unit named in the text, a trailing slash"),
        (S000, "1.1", "'Intergovernm ental': a word broken by a space inside the responsible"),
        (S000, "1.2", "no full stop before 'SPD/DMA/ other sections and divisions as well, such as CSS, Policy'"),
        (S000, "5.2", "'... and civil society EDO/Civil Society Section': no full stop"),
        (S000, "6.2", "'SPD' alone"),
        (S000, "7.2", "'EDO in collaboration with UN Coordination Division': connectors inside the responsible"),
        (S000, "8.1", "'SPD, Programme and Policy Divisions,': a trailing comma"),
        (S002, "1", "a responsible that ends in a full stop: '... in conflict settings.'"),
        (S002, "4", "'PPID/Peace, Security and Resilience Unit; Regional Offices, Country Offices ...'"),
    ],
)
def test_hard_sample_rows_split_alone(name, number, why):
    line, action = sample_row(name, number)
    got = splitter().split(body_of(line))
    assert (got.text, got.responsible) == (action["text"], action["responsible"]), why
    assert 0.0 <= got.confidence <= 1.0


def test_row_with_a_bracket_closing_before_the_responsible():
    s = sample(S002)
    row = s.rows_of(1)[0]
    action = s.action(row)
    assert action["text"].endswith("(subject to availability of resources)")
    got = splitter().split(body_of(s.line(row.no)))
    assert (got.text, got.responsible) == (action["text"], "PPID/ Peace, Security and Resilience Unit")


def test_all_sample_rows_split_right_as_a_document():
    # Row 4.1 ('... women's HR by a diverse multistakeholder partnership Programme Division/Policy
    # Division/ /SPD/CSS') is split right only with the units the other rows teach.
    for name in SAMPLES:
        s = sample(name)
        bodies = [body_of(s.line(r.no)) for r in s.rows]
        got = splitter().split_all(bodies)
        want = [(s.action(r)["text"], s.action(r)["responsible"]) for r in s.rows]
        assert [(g.text, g.responsible) for g in got] == want


# --- hard rows of real pages --------------------------------------------------------------------


REAL = [
    (
        4988,
        "[PENDING CONFIRMATION BY RPD]",
        "COs to act similarly [PENDING CONFIRMATION BY RPD]",
        "RPD or Officer-in-Charge (OIC), Programme Officer (VAW) (VAW), Country Programme Managers (=CPM)",
    ),
    (
        4926,
        "Lansana Wonneh",
        "will use same to drive the Country Office resource mobilization efforts.",
        "Lansana Wonneh",
    ),
    (11394, "Mobilize financial resources", "Mobilize financial resources", "IOM with support from UN Women"),
    (11666, "EVAWG Programme manager", "the donor Italy on bi-annual basis", "EVAWG Programme manager"),
    (4979, "UN Women Liberia Programme Staff", "recommendations in the 2012 work plan.", "UN Women Liberia Programme Staff"),
    (4979, "1.2. SRO", "applicable recommendations are addressed.", "SRO"),
    (4721, " RR ", "exercice de la délégation d'autorité", "RR"),
    (4988, "1.3. Make sure", "a plan for sustainability", "CPMs, Programme Officer (VAW)"),
    (4624, "GRB Unit", "in consultation with key partners.", "GRB Unit"),
    (11777, "Deputy Representative/Head of Programme", "needs and proposed activities and results.", "Deputy Representative/Head of Programme"),
    (11882, "UN Women Kyrgyzstan CO", "to support scaling up and institutionalization.", "UN Women Kyrgyzstan CO"),
    (10144, " ROAS 2020", "integrated approach to implementing LEAP.", "ROAS"),
]


@pytest.mark.parametrize("evaluation_id,fragment,text_end,responsible", REAL, ids=[f"{r[0]}-{r[3][:20]}" for r in REAL])
def test_real_rows_split_alone(evaluation_id, fragment, text_end, responsible):
    line = real_row(evaluation_id, fragment)
    got = splitter().split(body_of(line))
    assert got.responsible == responsible
    assert got.text.endswith(text_end)
    assert body_of(line) == f"{got.text} {got.responsible}"  # nothing lost, nothing added


@pytest.mark.parametrize("evaluation_id,fragment,text_end,responsible", REAL, ids=[f"{r[0]}-{r[3][:20]}" for r in REAL])
def test_real_rows_split_inside_a_document(evaluation_id, fragment, text_end, responsible):
    line = real_row(evaluation_id, fragment)
    doc = gateformat.parse(document([line]))
    (action,) = doc.key_actions
    assert action.responsible == responsible
    assert action.text.endswith(text_end)
    assert action.line == FIRST_ROW_LINE
    # The deadline came from the row itself, with month precision.
    year, month = _ANCHOR.search(line).group().split()[0].split("/")
    assert action.deadline == f"{year}-{int(month):02d}"


def test_several_real_rows_of_one_page_together():
    rows = [real_row(4988, f"1.{i}. ") for i in (1, 2, 3)]
    doc = gateformat.parse(document(rows))
    assert [a.number for a in doc.key_actions] == ["1.1", "1.2", "1.3"]
    assert [a.responsible for a in doc.key_actions] == [
        "RPD or Officer-in-Charge (OIC), Programme Officer (VAW) (VAW), Country Programme Managers (=CPM)",
        "CPMs",
        "CPMs, Programme Officer (VAW)",
    ]
    assert [a.status for a in doc.key_actions] == ["Over due"] * 3
    # 'CPMs' is named confidently in row 3, so the document itself makes row 2 surer than alone.
    alone = splitter().split(body_of(rows[1]))
    assert doc.key_actions[1].split_confidence > alone.confidence


# --- tab-separated rows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,text,responsible",
    [
        ("Review the Finance Unit procedures\tPolicy Division", "Review the Finance Unit procedures", "Policy Division"),
        ("Mobilize financial resources\tIOM with support from UN Women", "Mobilize financial resources", "IOM with support from UN Women"),
        ("Prepare the plan. SPD\t", "Prepare the plan. SPD", ""),
        ("\tSPD/Programme Division", "", "SPD/Programme Division"),
        ("  Text with spaces  \t  RR  ", "Text with spaces", "RR"),
    ],
)
def test_tab_is_the_boundary_with_full_confidence(body, text, responsible):
    got = splitter().split(body)
    assert got == Split(text, responsible, 1.0)


def test_tab_separated_rows_in_a_document_are_not_inferred():
    # The first cell ends like a unit and the second like prose: only the tab can say where they part.
    rows = [
        "1.1\tReview the Programme Division\tcountry teams and partners\t2020/12\tCompleted\tDone.",
        "1.2 Strengthen the SPD/Programme Division\t\t2021/01\tInitiated",
        "Organize a workshop\tFinance Unit\t2021/06\tNot Initiated",
    ]
    doc = gateformat.parse(document(rows))
    got = [(a.number, a.text, a.responsible, a.deadline, a.status, a.comments) for a in doc.key_actions]
    assert got == [
        ("1.1", "Review the Programme Division", "country teams and partners", "2020-12", "Completed", "Done."),
        ("1.2", "Strengthen the SPD/Programme Division", "", "2021-01", "Initiated", ""),
        ("1.3", "Organize a workshop", "Finance Unit", "2021-06", "Not Initiated", ""),
    ]
    assert [a.split_confidence for a in doc.key_actions] == [1.0, 1.0, 1.0]
    assert not [w for w in doc.warnings if w.kind == "split"]


def test_same_rows_with_spaces_are_inferred_and_less_sure():
    rows = ["1.1 Review the procedures. Policy Division 2020/12 Completed", "1.2 Review the procedures.\tPolicy Division\t2020/12\tCompleted"]
    doc = gateformat.parse(document(rows))
    spaced, tabbed = doc.key_actions
    assert (spaced.text, spaced.responsible) == (tabbed.text, tabbed.responsible) == ("Review the procedures.", "Policy Division")
    assert spaced.split_confidence < 1.0 == tabbed.split_confidence


# --- known units change doubtful splits ------------------------------------------------------------


DOUBTFUL = "Strengthen coordination in coordination with the UN Country Team Finance Unit"


def test_a_known_unit_changes_a_doubtful_split():
    alone = splitter().split(DOUBTFUL)
    assert alone.responsible == "Team Finance Unit" and low_confidence(alone)  # wrong, and it says so
    known = splitter(["Finance Unit"]).split(DOUBTFUL)
    assert (known.text, known.responsible) == ("Strengthen coordination in coordination with the UN Country Team", "Finance Unit")
    assert known.confidence > alone.confidence


def test_a_known_long_name_makes_a_split_sure():
    body = "Map existing services for survivors Gender Based Violence Sub-Cluster"
    alone = splitter().split(body)
    known = splitter(["Gender Based Violence Sub-Cluster"]).split(body)
    assert known.responsible == "Gender Based Violence Sub-Cluster"
    assert low_confidence(alone) and known.confidence >= 0.9


def test_a_known_unit_can_move_the_boundary_either_way():
    body = "Review the monitoring framework Women Count Programme Team"
    assert splitter().split(body).responsible == "Women Count Programme Team"
    assert splitter(["Count Programme Team"]).split(body).responsible == "Count Programme Team"
    assert splitter(["Women Count Programme Team"]).split(body).confidence > 0.9


def test_known_units_passed_to_parse():
    text = document([f"1.1 {DOUBTFUL} 2020/12 Completed"])
    unsure = gateformat.parse(text).key_actions[0]
    sure = gateformat.parse(text, known_units=["Finance Unit"]).key_actions[0]
    assert unsure.responsible == "Team Finance Unit"
    assert sure.responsible == "Finance Unit"
    # A vocabulary built once for many documents does the same; the reference one is left unchanged.
    vocabulary = reference_vocabulary().layer()
    vocabulary.add("Finance Unit")
    assert gateformat.parse(text, known_units=vocabulary).key_actions[0].responsible == "Finance Unit"
    assert "Finance Unit" not in reference_vocabulary()


def test_a_unit_the_document_names_elsewhere_helps_a_doubtful_row():
    confident = "1.1 Prepare the annual report. Finance Unit 2020/12 Completed"
    doubtful = f"1.2 {DOUBTFUL} 2021/12 Initiated"
    alone = gateformat.parse(document([doubtful])).key_actions[0]
    together = gateformat.parse(document([confident, doubtful])).key_actions[1]
    assert alone.responsible == "Team Finance Unit"
    assert together.responsible == "Finance Unit"


# --- low confidence is reported -------------------------------------------------------------------


def test_low_confidence_split_warns_on_its_line():
    rows = ["1.1 Prepare the annual report. SPD 2020/12 Completed", f"1.2 {DOUBTFUL} 2021/12 Initiated"]
    doc = gateformat.parse(document(rows))
    sure, unsure = doc.key_actions
    assert sure.split_confidence >= LOW_CONFIDENCE > unsure.split_confidence
    (warning,) = [w for w in doc.warnings if w.kind == "split"]
    assert warning.line == FIRST_ROW_LINE + 1 == unsure.line
    assert "key action 1.2" in warning.message and repr(unsure.responsible) in warning.message
    # Known, the unit is no longer in doubt, and nothing is reported.
    doc = gateformat.parse(document(rows), known_units=["Finance Unit"])
    assert not [w for w in doc.warnings if w.kind == "split"]


def test_a_wrong_split_on_a_real_row_is_flagged():
    # "... including CO VAW Programming Communication Officer, CPMs": the reader cannot be sure here.
    line = real_row(4988, "1.4. Include")
    doc = gateformat.parse(document([line]))
    assert [w.kind for w in doc.warnings if w.kind != "vocabulary"] == ["split"]  # 'Over due' is the other
    assert doc.key_actions[0].split_confidence < LOW_CONFIDENCE


def test_confidences_of_the_samples_are_probabilities_and_mostly_sure():
    for name in SAMPLES:
        s = sample(name)
        got = splitter().split_all([body_of(s.line(r.no)) for r in s.rows])
        assert all(0.0 < g.confidence <= 1.0 for g in got)
        assert not [g for g in got if low_confidence(g)]


# --- small cases --------------------------------------------------------------------------------


def test_degenerate_bodies():
    sp = splitter()
    assert sp.split("") == Split("", "", 0.0)
    assert sp.split("   ") == Split("", "", 0.0)
    one = sp.split("Workshop")
    assert (one.text, one.responsible) == ("Workshop", "") and low_confidence(one)


def test_text_never_ends_on_a_dangling_word():
    for body in ["Organize a workshop for the Programme Division", "Share the findings with the Policy Division"]:
        got = splitter().split(body)
        assert got.text.split()[-1] not in {"the", "for", "with"}, got


def test_long_prose_is_not_taken_for_a_responsible():
    body = (
        "Develop a plan. The plan will be reviewed by partners and shared widely with the country teams "
        "to make sure that every office knows it well. SPD"
    )
    got = splitter().split(body)
    assert got.responsible == "SPD"


def test_normalize_unit_ignores_case_spacing_and_slash_spacing():
    assert normalize_unit(" SPD / Programme  Division. ") == "spd/programme division"
    assert normalize_unit("SPD/Programme Division") == normalize_unit("spd /programme division,")


def test_unit_vocabulary_knows_names_their_acronyms_and_its_layers():
    vocabulary = UnitVocabulary(["Civil Society Section (CSS)"])
    assert "CSS" in vocabulary and "css" in vocabulary and "Civil Society Section (CSS)" in vocabulary
    assert "Section" not in vocabulary
    child = vocabulary.layer()
    child.add("Finance Unit")
    assert "Finance Unit" in child and "CSS" in child
    assert "Finance Unit" not in vocabulary
    assert len(child) == len(vocabulary) + 1
