"""The document generator: seeded, shaped like the real pages, and readable back to its truth."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

import gateformat
from gateformat import Document
from gateformat.generate import Generator, offices_with_types, write
from gateformat.vocab import CATEGORIES, KEY_ACTION_STATUSES, OFFICE_TYPES

COUNT = 200
TODAY = (2026, 11)  # Generator's default today_year; actions before November of it are past


@pytest.fixture(scope="module")
def generated():
    return list(Generator(seed=0).documents(COUNT))


@pytest.fixture(scope="module")
def read_back(generated):
    return [gateformat.parse(g.text, source=g.filename) for g in generated]


# --- seeded ----------------------------------------------------------------------------------


def test_same_seed_gives_the_same_texts_and_documents():
    first = list(Generator(seed=7).documents(25))
    second = list(Generator(seed=7).documents(25))
    assert [g.text for g in first] == [g.text for g in second]
    assert [g.filename for g in first] == [g.filename for g in second]
    assert [g.document for g in first] == [g.document for g in second]


def test_different_seeds_give_different_documents():
    a = [g.text for g in Generator(seed=1).documents(10)]
    b = [g.text for g in Generator(seed=2).documents(10)]
    assert all(x != y for x, y in zip(a, b))
    assert len(set(a) | set(b)) == 20


def test_write_is_byte_for_byte_repeatable(tmp_path):
    one = write(tmp_path / "one", 12, seed=3, expected=True)
    two = write(tmp_path / "two", 12, seed=3, expected=True)
    assert [p.name for p in one] == [p.name for p in two]
    for p in sorted((tmp_path / "one").iterdir()):
        assert p.read_bytes() == (tmp_path / "two" / p.name).read_bytes(), p.name


# --- shaped like the real pages ------------------------------------------------------------------


def test_shape_of_the_documents(generated):
    docs = [g.document for g in generated]
    assert all(5 <= len(d.recommendations) <= 10 for d in docs)
    assert all(1 <= len(r.key_actions) <= 5 for d in docs for r in d.recommendations)
    # Numbers as the pages give them.
    for d in docs:
        assert [r.number for r in d.recommendations] == [str(i) for i in range(1, len(d.recommendations) + 1)]
    assert len({g.filename for g in generated}) == COUNT
    assert all(re.fullmatch(r"\d{6}_[a-z0-9-]+\.txt", g.filename) for g in generated)


def test_every_status_and_category_appears(generated):
    actions = [a for g in generated for a in g.document.key_actions]
    statuses = Counter(a.status for a in actions)
    assert set(statuses) == set(KEY_ACTION_STATUSES), statuses
    categories = Counter(r.category for g in generated for r in g.document.recommendations)
    assert set(CATEGORIES) <= set(categories), categories
    assert set(categories) <= set(CATEGORIES) | {""}


def test_deadlines_past_and_future_with_plausible_statuses(generated):
    actions = [a for g in generated for a in g.document.key_actions]
    assert all(re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", a.deadline) for a in actions)
    past = [a for a in actions if tuple(map(int, a.deadline.split("-"))) < TODAY]
    future = [a for a in actions if tuple(map(int, a.deadline.split("-"))) >= TODAY]
    assert len(past) > 100 and len(future) > 100
    # No action is closed as no longer applicable before it falls due.
    assert not [a for a in future if a.status == "No Longer Applicable"]
    # Some past actions are overdue (neither completed nor no longer applicable).
    assert [a for a in past if a.status in ("Initiated", "Not Initiated")]


def test_offices_types_and_regions_vary(generated):
    region_of = {office: region for office, _, region in offices_with_types()}
    types = Counter(g.document.evaluation.office_type for g in generated)
    regions = Counter(region_of[g.document.evaluation.office] for g in generated)
    assert set(types) <= set(OFFICE_TYPES) and len(types) >= 4, types
    assert len(regions) >= 5, regions
    for g in generated:
        ev = g.document.evaluation
        assert ev.plan_start_year <= ev.plan_end_year
        assert ev.office == ev.plan_office and g.document.management_response.units == [ev.office]


def test_texts_vary_in_line_endings_layouts_and_numbering(generated):
    texts = [g.text for g in generated]
    crlf = [t for t in texts if "\r\n" in t]
    assert 0 < len(crlf) < COUNT
    assert all(t.count("\r\n") == t.count("\n") for t in crlf)  # a CRLF file is CRLF throughout
    lines = [ln for t in texts for ln in t.splitlines()]
    labels = Counter(re.match(r"Recommendation: (\S+)", ln)[1] for ln in lines if ln.startswith("Recommendation:"))
    assert {"Recommendation", "Evaluation", "1."} <= set(labels), labels
    # Three header layouts: the ':' lines of sample 002 and of sample 000, or none (compact).
    layouts = Counter()
    for t in texts:
        header = t.replace("\r\n", "\n").split("\nRecommendation:")[0]
        layouts["sample002" if ":\n:\n\n" in header else "sample000" if "\n:\n\n" in header else "compact"] += 1
    assert min(layouts.values()) > 10 and len(layouts) == 3, layouts
    # Key-action numbering styles: "1.1 ", "1) ", "1.1. " and none.
    styles = Counter()
    for g in generated:
        rows = [ln for ln in g.text.splitlines() if re.search(r" 20\d\d/\d\d (?:Not Initiated|Initiated|Completed|No Longer)", ln)]
        first = rows[0]
        styles["dot" if re.match(r"\d+\.\d+\. ", first) else "paren" if re.match(r"\d+\) ", first)
               else "plain" if re.match(r"\d+\.\d+ ", first) else "none"] += 1
    assert set(styles) == {"plain", "paren", "dot", "none"}, styles


def test_rows_are_written_with_spaces_not_tabs(generated):
    # So reading them needs the same inference real pages need.
    assert not any("\t" in g.text for g in generated)


# --- written to disk ----------------------------------------------------------------------------------


def test_write_with_expected_writes_the_truth_beside_each_page(tmp_path):
    paths = write(tmp_path, 8, seed=5, expected=True)
    assert len(paths) == 8 and all(p.suffix == ".txt" and p.exists() for p in paths)
    expected = sorted(tmp_path.glob("*.expected.json"))
    assert [p.name.replace(".expected.json", ".txt") for p in expected] == sorted(p.name for p in paths)
    generated = {g.filename: g for g in Generator(5).documents(8)}
    for p in paths:
        data = json.loads((tmp_path / p.name.replace(".txt", ".expected.json")).read_text(encoding="utf-8"))
        assert data["source"] == p.name
        assert Document.from_dict(data) == generated[p.name].document
        # The page written is the page generated, line endings included.
        text = p.read_bytes().decode("utf-8")
        assert text == generated[p.name].text
        assert gateformat.parse(text).evaluation == generated[p.name].document.evaluation


def test_write_without_expected_writes_only_pages_and_what_was_planted(tmp_path):
    write(tmp_path, 3, seed=0)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".txt") == ["planted.json"]
    assert sorted(p.suffix for p in tmp_path.iterdir() if p.name != "planted.json") == [".txt"] * 3


def test_near_duplicates_are_planted_across_documents_in_english_and_french(tmp_path):
    """Paraphrases, not copies: the same theme said in other words, recorded where it was put."""
    generator = Generator(seed=3)
    docs = {g.filename: g for g in generator.documents(300)}
    groups = generator.planted
    assert {g.split(":")[1] for g in groups} == {"en", "fr"}
    texts_by_group: dict[str, list[str]] = {}
    for group, members in groups.items():
        assert len({f for f, _ in members}) == len(members)  # one per document
        for filename, number in members:
            rec = next(r for r in docs[filename].document.recommendations if r.number == number)
            assert (number, group) in docs[filename].planted
            texts_by_group.setdefault(group, []).append(rec.text)
    big = [texts for texts in texts_by_group.values() if len(texts) >= 4]
    assert big and all(len(set(texts)) >= 2 for texts in big)  # paraphrases, not one text copied
    write(tmp_path, 300, seed=3)
    planted = json.loads((tmp_path / "planted.json").read_text(encoding="utf-8"))
    assert {g: [(m["source"], m["number"]) for m in ms] for g, ms in planted["groups"].items()} == groups


# --- read back ----------------------------------------------------------------------------------------


def test_every_field_but_the_split_is_read_exactly(generated, read_back):
    for g, doc in zip(generated, read_back):
        truth = g.document
        assert doc.evaluation == truth.evaluation, g.filename
        assert doc.management_response == truth.management_response, g.filename
        assert len(doc.recommendations) == len(truth.recommendations), g.filename
        for got, want in zip(doc.recommendations, truth.recommendations):
            assert (got.number, got.text, got.management_response, got.description, got.category) == (
                want.number,
                want.text,
                want.management_response,
                want.description,
                want.category,
            ), g.filename
            assert (got.thematic_area, got.operating_principles, got.organizational_priorities, got.uneg_criteria) == (
                want.thematic_area,
                want.operating_principles,
                want.organizational_priorities,
                want.uneg_criteria,
            ), g.filename
            assert [(a.number, a.deadline, a.status, a.comments) for a in got.key_actions] == [
                (a.number, a.deadline, a.status, a.comments) for a in want.key_actions
            ], (g.filename, want.number)


def test_text_and_responsible_split_right_for_99_percent(generated, read_back):
    pairs = [(want, got) for g, doc in zip(generated, read_back) for want, got in zip(g.document.key_actions, doc.key_actions)]
    assert len(pairs) > 1500
    right = sum((w.text, w.responsible) == (a.text, a.responsible) for w, a in pairs)
    share = right / len(pairs)
    assert share >= 0.99, f"text/responsible split right for {right}/{len(pairs)} key actions ({share:.2%})"
    # Nothing is lost either way: text + responsible is the row's body.
    assert all(f"{w.text} {w.responsible}" == f"{a.text} {a.responsible}" for w, a in pairs)


def test_wrong_splits_are_flagged_for_a_person(generated, read_back):
    wrong, unflagged = 0, []
    for g, doc in zip(generated, read_back):
        flagged = {w.line for w in doc.warnings if w.kind == "split"}
        for want, got in zip(g.document.key_actions, doc.key_actions):
            if (want.text, want.responsible) != (got.text, got.responsible):
                wrong += 1
                if got.line not in flagged:
                    unflagged.append((g.filename, got.number, got.responsible, round(got.split_confidence, 2)))
    assert not unflagged, f"{len(unflagged)} of {wrong} wrong splits were not flagged: {unflagged[:5]}"


def test_read_back_warns_only_about_splits(read_back):
    kinds = Counter(w.kind for doc in read_back for w in doc.warnings)
    assert set(kinds) <= {"split"}, kinds
