"""Write a `Document` back as a GATE management-response page.

The default output is lossless: key-action cells are separated by tabs, as a
table copied from a browser is, so that reading it back needs no guessing
and `parse(render(doc)) == doc`. `cells="space"` writes rows the way the
text copies in the samples show them (single spaces), which is what the
document generator uses to exercise the reader.
"""

from __future__ import annotations

import re

from .model import Document, KeyAction, Recommendation
from .vocab import join_list

LAYOUTS = ("sample000", "sample002", "compact", "no-title")


def render(
    doc: Document,
    *,
    layout: str = "sample000",
    cells: str = "tab",
    newline: str = "\n",
    recommendation_label: str | None = None,
    numbering: str | None = None,
) -> str:
    """The page for `doc`.

    Labels and numbers are written as the page that was read wrote them
    (`Recommendation.label`, `KeyAction.label`: "Evaluation recommendation 1: ",
    "1)"); where there is none, as `recommendation_label` (default
    "Recommendation {number}: ") and `numbering` say. Either, given, applies to
    every recommendation or key action.

    `numbering` writes key-action numbers as "1.1 Text" ("plain"), "1) Text"
    ("paren"), "1.1. Text" ("dot") or not at all ("none", for documents whose
    actions are numbered by position).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    ev, mr = doc.evaluation, doc.management_response
    out = ["Management Response", ""]
    out.append(f": {ev.office}")
    out.append(f": {ev.plan_start_year} - {ev.plan_end_year} , {ev.plan_office} ({ev.office_type})")
    overall = mr.overall_response
    if layout == "sample000":
        out.append(f": {ev.title}")
        out.append(":")
        out.extend(f": {u}" for u in mr.units)
        out += [":", "", overall or ",", ""]
    elif layout == "sample002":
        out += [f": {ev.title}", ":", ":", ""]
        out.extend(mr.units or [","])
        out += ["", ":", ""]
        if overall:
            out += [overall, ""]
    elif layout == "compact":
        out.append(f": {ev.title}")
        out.extend(f": {u}" for u in mr.units)
        out.append("")
        if overall:
            out += [overall, ""]
    else:  # no-title: only for untitled evaluations with one unit
        out.extend(f": {u}" for u in mr.units[:1])
        out.append("")
        if overall:
            out += [overall, ""]
    if mr.status:
        out.append(f": {mr.status}")
    for rec in doc.recommendations:
        out.extend(_recommendation(rec, cells, recommendation_label, numbering))
    return newline.join(out) + newline


def _recommendation(rec: Recommendation, cells: str, label: str | None, numbering: str | None) -> list[str]:
    if label is None:
        head = rec.label if _rec_label_reads_back(rec) else f"Recommendation {rec.number}: "
    else:
        head = label.format(number=rec.number)
    lines = [
        "Recommendation: " + head + rec.text,
        f"Management Response: {rec.management_response}".rstrip(),
        f"Description: {rec.description}".rstrip(),
        f"Management Response Category: {rec.category}".rstrip(),
        f"Thematic Area: {rec.thematic_area}".rstrip(),
        f"Operating Principles: {join_list(rec.operating_principles)}".rstrip(),
        f"Organizational Priorities: {join_list(rec.organizational_priorities)}".rstrip(),
        f"UNEG Criteria: {join_list(rec.uneg_criteria)}".rstrip(),
        "Key Actions",
    ]
    if not rec.key_actions:
        lines.append("Key Action not added.")
        return lines
    lines.append("Responsible Deadline Status Comments")
    lines.extend(_key_action(a, cells, numbering) for a in rec.key_actions)
    return lines


def _key_action(action: KeyAction, cells: str, numbering: str | None) -> str:
    # "1.1 Establish ..." reads back as number 1.1 only before a capital;
    # "1.1) establish ..." is unambiguous whatever follows.
    if numbering is None and _label_reads_back(action):
        head = f"{action.label} {action.text}"
    elif numbering == "none":
        head = action.text
    elif numbering == "dot":
        head = f"{action.number}. {action.text}"
    elif numbering == "paren" or not action.text[:1].isupper():
        head = f"{action.number}) {action.text}"
    else:
        head = f"{action.number} {action.text}"
    deadline = action.deadline.replace("-", "/")
    if cells == "tab":
        return "\t".join([head, action.responsible, deadline, action.status, action.comments]).rstrip("\t ")
    parts = [head, action.responsible, deadline, action.status, action.comments]
    return " ".join(p for p in parts if p)


def _label_reads_back(action: KeyAction) -> bool:
    """Is the number as written still this action's number, read back before its text?"""
    label = action.label
    if not label or label.rstrip(".)") != action.number:
        return False
    return label.endswith((".", ")")) or action.text[:1].isupper()


_NUMBER_IN_LABEL = re.compile(r"\d+(?:\.\d+)*[a-z]?")


def _rec_label_reads_back(rec: Recommendation) -> bool:
    """Does the label as written still give this recommendation's number (it may have been renumbered)?"""
    m = _NUMBER_IN_LABEL.search(rec.label)
    return bool(m) and m.group() == rec.number
