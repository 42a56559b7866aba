"""The GATE management-response document as plain dataclasses.

Field names follow the JSON contract of the `*.expected.json` samples, so
`Document.to_dict()` is exactly that shape (plus a few extra keys that a
reader may ignore: warnings, split confidence, thematic areas as a list).
Equality compares content only: where a value was read from (line numbers)
and how sure the reader was (confidence, warnings) do not take part, so
`parse(render(doc)) == doc` means "the same management response".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class GateFormatError(ValueError):
    """A document that cannot be read: `line` is 1-based, in the input text."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"{line}: {message}" if line else message)


@dataclass(frozen=True)
class ParseWarning:
    """Something the reader did that a person may want to check."""

    line: int
    message: str
    kind: str = "notice"

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class KeyAction:
    number: str
    text: str
    responsible: str
    deadline: str  # "YYYY-MM" (month precision) or "" when the page gives none
    status: str
    comments: str = ""
    # How sure the reader is of the text / responsible split, 0..1.
    split_confidence: float = field(default=1.0, compare=False)
    line: int = field(default=0, compare=False)
    # The number as the page wrote it ("1)", "1.1.", "1.1"; "" when the row had none): written back by `render`.
    label: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "text": self.text,
            "responsible": self.responsible,
            "deadline": self.deadline,
            "status": self.status,
            "comments": self.comments,
            "split_confidence": round(self.split_confidence, 3),
        }


@dataclass
class Recommendation:
    number: str
    text: str
    management_response: str = ""
    description: str = ""
    category: str = ""
    thematic_area: str = ""
    operating_principles: list[str] = field(default_factory=list)
    organizational_priorities: list[str] = field(default_factory=list)
    uneg_criteria: list[str] = field(default_factory=list)
    key_actions: list[KeyAction] = field(default_factory=list)
    line: int = field(default=0, compare=False)
    # The label as the page wrote it before the text ("Evaluation recommendation 1: "): written back by `render`.
    label: str = field(default="", compare=False)

    @property
    def thematic_areas(self) -> list[str]:
        """Thematic Area holds one value on recent pages and a list on older ones."""
        from .vocab import split_list

        return split_list(self.thematic_area)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "text": self.text,
            "management_response": self.management_response,
            "description": self.description,
            "category": self.category,
            "thematic_area": self.thematic_area,
            "thematic_areas": self.thematic_areas,
            "operating_principles": list(self.operating_principles),
            "organizational_priorities": list(self.organizational_priorities),
            "uneg_criteria": list(self.uneg_criteria),
            "key_actions": [a.to_dict() for a in self.key_actions],
        }


@dataclass
class Evaluation:
    title: str
    office: str
    plan_office: str
    office_type: str
    plan_start_year: int
    plan_end_year: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "office": self.office,
            "plan_office": self.plan_office,
            "office_type": self.office_type,
            "plan_start_year": self.plan_start_year,
            "plan_end_year": self.plan_end_year,
        }


@dataclass
class ManagementResponse:
    status: str
    units: list[str] = field(default_factory=list)
    overall_response: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "units": list(self.units),
            "overall_response": self.overall_response,
        }


@dataclass
class Document:
    evaluation: Evaluation
    management_response: ManagementResponse
    recommendations: list[Recommendation] = field(default_factory=list)
    source: str = field(default="", compare=False)
    warnings: list[ParseWarning] = field(default_factory=list, compare=False)

    @property
    def key_actions(self) -> list[KeyAction]:
        return [a for r in self.recommendations for a in r.key_actions]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "evaluation": self.evaluation.to_dict(),
            "management_response": self.management_response.to_dict(),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "warnings": [
                {"line": w.line, "kind": w.kind, "message": w.message} for w in self.warnings
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """Build a document from its JSON form (the shape `to_dict` writes)."""
        try:
            ev = data["evaluation"]
            mr = data["management_response"]
            recs = data.get("recommendations", [])
            return cls(
                evaluation=Evaluation(
                    title=ev.get("title", ""),
                    office=ev["office"],
                    plan_office=ev.get("plan_office") or ev["office"],
                    office_type=ev["office_type"],
                    plan_start_year=int(ev["plan_start_year"]),
                    plan_end_year=int(ev["plan_end_year"]),
                ),
                management_response=ManagementResponse(
                    status=mr.get("status") or "",
                    units=list(mr.get("units", [])),
                    overall_response=mr.get("overall_response", ""),
                ),
                recommendations=[
                    Recommendation(
                        number=str(r["number"]),
                        text=r["text"],
                        management_response=r.get("management_response", ""),
                        description=r.get("description", ""),
                        category=r.get("category", ""),
                        thematic_area=r.get("thematic_area", ""),
                        operating_principles=list(r.get("operating_principles", [])),
                        organizational_priorities=list(r.get("organizational_priorities", [])),
                        uneg_criteria=list(r.get("uneg_criteria", [])),
                        key_actions=[
                            KeyAction(
                                number=str(a["number"]),
                                text=a["text"],
                                responsible=a.get("responsible", ""),
                                deadline=a.get("deadline", ""),
                                status=a["status"],
                                comments=a.get("comments", ""),
                            )
                            for a in r.get("key_actions", [])
                        ],
                    )
                    for r in recs
                ],
                source=data.get("source", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GateFormatError(f"not a management response in JSON form: {exc!r}") from exc
