"""The shapes of the API, for the OpenAPI schema (and checked on every response)."""



import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field

MAX_ID = 2**62
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Year = Annotated[int, Field(ge=1900, le=2200)]
Limit = Annotated[int, Field(ge=1, le=500)]


def Txt(max_length: int = 10_000, min_length: int = 0):
    return Annotated[str, Field(max_length=max_length, min_length=min_length)]


class Error(Schema):
    code: str
    message: str
    field: str | None = None


class Conflict(Error):
    current: dict[str, Any] = Field(description="The record as it is now (take its ETag and decide again).")
    etag: str


class Region(Schema):
    id: int
    name: str
    slug: str
    position: int


class Office(Schema):
    id: int
    name: str
    slug: str
    type: str
    region_id: int | None
    aliases: list[str]


class Unit(Schema):
    id: int
    office_id: int
    name: str
    acronym: str
    auto_created: bool


class Plan(Schema):
    id: int
    office_id: int
    start_year: int
    end_year: int


class Evaluation(Schema):
    id: int
    plan_id: int
    office_id: int
    title: str
    type: str
    year: int
    status: str
    completion_date: dt.date | None
    source: str
    management_response_id: int | None
    response_status: str | None


class ManagementResponse(Schema):
    id: int
    evaluation_id: int
    status: str
    overall_response: str
    units: list[int]
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    return_reason: str
    version: int


class Recommendation(Schema):
    id: int
    evaluation_id: int
    management_response_id: int
    position: int
    number: str
    text: str
    response_text: str
    description: str
    category: str
    adoption_by_management: str = Field(description="Management's rating of how far it was adopted (\"\": none)")
    adoption_by_management_note: str
    adoption_validated: str = Field(description="The evaluation office's rating, validating management's (\"\": none)")
    adoption_validated_note: str
    terms: list[int]
    version: int


class KeyAction(Schema):
    id: int
    recommendation_id: int
    evaluation_id: int
    position: int
    number: str
    text: str
    responsible: str
    units: list[int]
    deadline: dt.date | None
    status: str
    comments: str
    overdue: bool
    first_deadline: dt.date | None = Field(description="The deadline before its first revision (timeliness is measured against it)")
    verification: str = Field(description="\"\", awaiting, verified or sent_back")
    completed_on: dt.date | None
    version: int


class ProgressUpdate(Schema):
    id: int
    key_action_id: int
    created_at: dt.datetime
    status_before: str
    status_after: str
    comment: str
    source: str
    author: str | None = Field(description="Who reported it: for people with a role only.")
    evidence_url: str | None
    evidence_file: str | None = Field(description="Where to download the evidence file (as the web app serves it).")
    evidence_internal: bool | None
    reopen_reason: str = Field(description="Why a Completed action was opened again (\"\" otherwise)")


class Verification(Schema):
    id: int
    key_action_id: int
    claim_id: int | None = Field(description="The progress update that claimed the completion")
    decision: str = Field(description="accepted or sent_back")
    reason: str
    created_at: dt.datetime
    author: str | None = Field(description="Who decided: for people with a role only.")


class DeadlineRevision(Schema):
    id: int
    key_action_id: int
    previous: dt.date | None
    deadline: dt.date
    reason: str
    created_at: dt.datetime
    author: str | None = Field(description="Who revised it: for people with a role only.")


class OutcomeQuestion(Schema):
    id: int
    key_action_id: int
    question: str
    ask_on: dt.date
    created_at: dt.datetime
    asked_by: str | None
    confirmed: bool | None = Field(description="null until answered")
    answer: str
    answered_at: dt.datetime | None
    answered_by: str | None
    version: int


class Change(Schema):
    id: int
    time: dt.datetime
    user: str
    source: str
    action: str = Field(description="create, update, delete, or refused (an attempt kept, nothing changed)")
    model: str
    object_id: int
    object_repr: str
    evaluation_id: int | None
    request_id: str | None
    before: Any = None
    after: Any = None
    message: str


def page(item):
    """A page of a list: the items, and the cursor of the next page (null on the last)."""
    return type(f"{item.__name__}Page", (Schema,), {
        "__annotations__": {"items": list[item], "next": str | None},
        "__doc__": f"A page of {item.__name__} records; pass `next` as `cursor` for the next one.",
    })


class ChangesPage(Schema):
    items: list[Change]
    next: str = Field(description="Pass it as `since` next time: it moves past everything returned.")


# --- what writes take -------------------------------------------------------------------------

Status = Annotated[str, Field(max_length=40)]
Month = Annotated[str, Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$", description="YYYY-MM (a day, if given, is dropped)")]


class EvaluationIn(Schema):
    office_id: Id
    start_year: Year
    end_year: Year
    title: Txt(500, 1)
    year: Year | None = None
    type: Txt(30) = ""
    status: Txt(20) = "completed"
    completion_date: dt.date | None = None


class ResponseIn(Schema):
    overall_response: Txt(50_000) = ""
    units: list[Id] = Field(default_factory=list, max_length=200)


class ReturnIn(Schema):
    reason: Txt(5_000, 1)


class RecommendationIn(Schema):
    number: Txt(20, 1)
    text: Txt(50_000, 1)
    response_text: Txt(50_000) = ""
    description: Txt(50_000) = ""
    category: Txt(40) = ""
    terms: list[Id] = Field(default_factory=list, max_length=100)


class RecommendationPatch(Schema):
    number: Txt(20, 1) | None = None
    text: Txt(50_000, 1) | None = None
    response_text: Txt(50_000) | None = None
    description: Txt(50_000) | None = None
    category: Txt(40) | None = None
    terms: list[Id] | None = Field(default=None, max_length=100)


class KeyActionIn(Schema):
    number: Txt(20, 1)
    text: Txt(50_000, 1)
    responsible: Txt(5_000) = ""
    units: list[Id] = Field(default_factory=list, max_length=100)
    deadline: Month | None = None
    status: Status = "Not Initiated"
    comments: Txt(50_000) = ""


class KeyActionPatch(Schema):
    number: Txt(20, 1) | None = None
    text: Txt(50_000, 1) | None = None
    responsible: Txt(5_000) | None = None
    units: list[Id] | None = Field(default=None, max_length=100)
    deadline: Month | None = None
    status: Status | None = None
    comments: Txt(50_000) | None = None


class ProgressIn(Schema):
    status: Status = Field(description="Not Initiated, Initiated, Completed or No Longer Applicable")
    comment: Txt(50_000) = ""
    evidence_url: Txt(500) = ""
    evidence_internal: bool = False
    reopen_reason: Txt(5_000) = Field("", description="Required when a Completed action moves to another status")


class VerifyIn(Schema):
    decision: Literal["accept", "send_back"]
    reason: Txt(5_000) = Field("", description="Required to send back: the unit reads it")


class DeadlineIn(Schema):
    deadline: Month
    reason: Txt(5_000) = Field("", description="Required: kept with the revision and shown on the timeline")


class AdoptionIn(Schema):
    rating: Txt(40) = Field("", description="A value of the adoption scale (\"\": cleared)")
    note: Txt(5_000) = ""


class OutcomeScheduleIn(Schema):
    ask_on: dt.date = Field(description="From when the unit is asked")
    question: Txt(5_000) = Field("", description="Default: did it change what the evaluation found?")


class OutcomeAnswerIn(Schema):
    confirmed: bool
    answer: Txt(50_000) = ""


class ImportDocument(Schema):
    source: Txt(300) = ""
    text: Txt(5_000_000) | None = Field(None, description="A GATE document, as the command line imports it")
    document: dict[str, Any] | None = Field(
        None, description="Or the document's JSON form (as GET /evaluations/{pk}/document gives it)")


class ImportIn(Schema):
    documents: list[ImportDocument] = Field(min_length=1, max_length=200)


class ImportResult(Schema):
    source: str
    outcome: str
    evaluation_id: int | None
    warnings: list[str]
    error: str
    recommendations: int
    key_actions: int
    status_changes: int
    units_created: int


class ImportOut(Schema):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[ImportResult]


class DocumentOut(Schema):
    id: int
    gate: str = Field(description="The evaluation as a GATE document (what the command line imports)")
    json_form: dict[str, Any] = Field(alias="json", description="The same document in its JSON form")
