"""/api/v1/: lists, details and writes over the record, through the reading rules and the domain services.

Every read starts from `tracking.permissions.restrict(who, Model)`; every
write is a call of a service in tracking/services (which checks permission
and writes the history), as for the web app. Lists are in id order with a
cursor; a record the caller may not read is 404, a write they may not make
is 403.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from ninja import File, Form, Header, NinjaAPI, Query, Schema, Status, UploadedFile
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from pydantic import Field

import gateformat
from reports import exports
from reports.documents import evaluations_for_export, to_document
from tracking import permissions
from tracking.models import (
    ActionUpdate,
    ChangeRecord,
    DeadlineRevision,
    Evaluation,
    EvaluationPlan,
    KeyAction,
    ManagementResponse,
    Office,
    OutcomeQuestion,
    Recommendation,
    Region,
    Term,
    Unit,
)
from tracking.permissions import restrict
from tracking.queries import Filters
from tracking.services import deadlines, drafting, outcomes, progress, ratings, verification
from tracking.services.errors import ConflictError
from tracking.services.importer import CREATED, FAILED, UNCHANGED, UPDATED, Importer
from tracking.services.importer import ImportResult as ImportResultRow

from . import feed, records
from . import schemas as s
from .access import CallerAuth
from .errors import ApiError, first_error


class LocalSwagger(Swagger):
    """The docs page with the app's own files (no CDN) and no inline script (the page's CSP holds)."""

    template = "api/docs.html"


api = NinjaAPI(
    title="followthrough API",
    version="1",
    description=(
        "The record of evaluations, management responses, recommendations, key actions and progress updates. "
        "Anonymous: the public record. With a personal token (Authorization: Bearer ...): what its owner reads and may do. "
        "Every record has an ETag; writes to a record take If-Match (a stale one gets 412 with the current version). "
        "Errors: {code, message, field}."
    ),
    urls_namespace="api",
    auth=CallerAuth(),
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

ERRORS = {400: s.Error, 401: s.Error, 403: s.Error, 404: s.Error, 429: s.Error}
WRITE_ERRORS = {**ERRORS, 409: s.Error, 412: s.Conflict, 428: s.Error}


# --- errors: one shape ----------------------------------------------------------------------------


def _error(request, status: int, code: str, message: str, field: str | None = None, headers=None, **extra):
    response = api.create_response(request, {"code": code, "message": message, "field": field, **extra}, status=status)
    for k, v in (headers or {}).items():
        response[k] = v
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    headers = dict(exc.headers)
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return _error(request, exc.status, exc.code, exc.message, exc.field, headers, **exc.extra)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header", "payload", "data", "filters")]
    return _error(request, 400, "invalid", first.get("msg", "Invalid input."), ".".join(loc) or None)


@api.exception_handler(ValidationError)
def _domain_invalid(request, exc):
    message, field = first_error(exc)
    return _error(request, 400, "invalid", message, field)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, "forbidden", str(exc) or "Not allowed.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", str(exc) or "No such record (or not one you may read).")


@api.exception_handler(ObjectDoesNotExist)
def _gone(request, exc):
    return _error(request, 404, "not_found", "No such record (or not one you may read).")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "unauthenticated", "Not signed in.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "bad_request" if exc.status_code < 500 else "error", str(exc))


# --- shared -----------------------------------------------------------------------------------------


def _who(request):
    return request.auth.user


def _internal(request) -> bool:
    return permissions.reader_scope(_who(request)).internal


def _one(qs: QuerySet, pk: int):
    row = qs.filter(pk=pk).first()
    if row is None:
        raise ApiError(404, "not_found", "No such record (or not one you may read).")
    return row


def _decode(cursor: str | None, name: str = "cursor") -> int:
    if not cursor:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid", f"This {name} was not given by the API.", field=name) from None
    if not 0 <= value <= s.MAX_ID:
        raise ApiError(400, "invalid", f"This {name} was not given by the API.", field=name)
    return value


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def _page(qs: QuerySet, cursor: str | None, limit: int, show, attach=None):
    """Keyset pagination in id order: stable while records are added.

    `attach(rows)` loads what the rows link to in one query (units, tags). The
    page is sent as it is made: its shape is the schema's (tests/api/test_schema.py
    checks every answer against it), so it is not validated again on the way out.
    """
    rows = list(qs.filter(pk__gt=_decode(cursor)).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if attach and rows:
        attach(rows)
    return api.create_response(None, {"items": [show(r) for r in rows], "next": _encode(rows[-1].pk) if more else None},
                               status=200)


def _attach_units(relation: str):
    """The ids of the units each row links to (key actions, responses), in one query of reference data."""

    def attach(rows) -> None:
        links: dict[int, list[int]] = {r.pk: [] for r in rows}
        for owner, unit_id in Unit.objects.filter(**{f"{relation}__in": list(links)}).values_list(relation, "pk"):
            links[owner].append(unit_id)
        for r in rows:
            r.unit_ids = sorted(links[r.pk])

    return attach


def _attach_terms(rows) -> None:
    """The ids of each recommendation's tags, in their order, in one query."""
    links: dict[int, list[int]] = {r.pk: [] for r in rows}
    pairs = Term.objects.filter(tagged__recommendation__in=list(links)).order_by("tagged__position", "tagged__id")
    for owner, term_id in pairs.values_list("tagged__recommendation", "pk"):
        links[owner].append(term_id)
    for r in rows:
        r.term_ids = links[r.pk]


def _detail(request, response: HttpResponse, kind: str, data: dict):
    tag = records.etag(kind, data)
    response["ETag"] = tag
    if request.headers.get("If-None-Match") == tag:
        return Status(304, None)
    return data


def _version(if_match: str | None, kind: str, row, show) -> int:
    """The version If-Match names: required (428); naming another state: 412 with the current one."""
    if not if_match:
        raise ApiError(428, "precondition_required", "Send If-Match with the record's ETag (GET it first).", field="If-Match")
    version = records.version_in(if_match, kind, row.pk)
    if version is None:
        current = show(row)
        tag = records.etag(kind, current)
        raise ApiError(412, "stale", "If-Match does not name a version of this record.", field="If-Match",
                       extra={"current": current, "etag": tag}, headers={"ETag": tag})
    return version


def _conflict(kind: str, show, current) -> ApiError:
    data = show(current)
    tag = records.etag(kind, data)
    return ApiError(412, "stale", "The record changed since that version: nothing was saved (the attempt is in the history).",
                    field="If-Match", extra={"current": data, "etag": tag}, headers={"ETag": tag})


class ListQuery(Schema):
    cursor: str | None = Field(None, max_length=40, description="`next` of the previous page")
    limit: s.Limit = 100


# --- reference data ---------------------------------------------------------------------------------

Headers304 = {304: None}


@api.get("/regions", response={200: s.page(s.Region), **ERRORS}, tags=["reference"])
def regions(request, q: Query[ListQuery]):
    return _page(restrict(_who(request), Region), q.cursor, q.limit, records.region)


@api.get("/regions/{int:pk}", response={200: s.Region, **Headers304, **ERRORS}, tags=["reference"])
def region(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "region", records.region(_one(restrict(_who(request), Region), pk)))


class OfficeQuery(ListQuery):
    region: s.Id | None = None
    type: str | None = Field(None, max_length=10)


@api.get("/offices", response={200: s.page(s.Office), **ERRORS}, tags=["reference"])
def offices(request, q: Query[OfficeQuery]):
    qs = restrict(_who(request), Office).select_related("type")
    if q.region:
        qs = qs.filter(region_id=q.region)
    if q.type:
        qs = qs.filter(type__code=q.type)
    return _page(qs, q.cursor, q.limit, records.office)


@api.get("/offices/{int:pk}", response={200: s.Office, **Headers304, **ERRORS}, tags=["reference"])
def office(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "office", records.office(_one(restrict(_who(request), Office).select_related("type"), pk)))


class UnitQuery(ListQuery):
    office: s.Id | None = None


@api.get("/units", response={200: s.page(s.Unit), **ERRORS}, tags=["reference"])
def units(request, q: Query[UnitQuery]):
    qs = restrict(_who(request), Unit)
    if q.office:
        qs = qs.filter(office_id=q.office)
    return _page(qs, q.cursor, q.limit, records.unit)


@api.get("/units/{int:pk}", response={200: s.Unit, **Headers304, **ERRORS}, tags=["reference"])
def unit(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "unit", records.unit(_one(restrict(_who(request), Unit), pk)))


@api.get("/plans", response={200: s.page(s.Plan), **ERRORS}, tags=["reference"])
def plans(request, q: Query[UnitQuery]):
    qs = restrict(_who(request), EvaluationPlan)
    if q.office:
        qs = qs.filter(office_id=q.office)
    return _page(qs, q.cursor, q.limit, records.plan)


@api.get("/plans/{int:pk}", response={200: s.Plan, **Headers304, **ERRORS}, tags=["reference"])
def plan(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "plan", records.plan(_one(restrict(_who(request), EvaluationPlan), pk)))


# --- the record ---------------------------------------------------------------------------------------


class RecordFilters(ListQuery):
    """The filters of the evaluation and key action list pages."""

    q: str | None = Field(None, max_length=200)
    region: s.Id | None = None
    office: s.Id | None = None
    office_type: str | None = Field(None, max_length=10)
    year: s.Year | None = None
    category: str | None = Field(None, max_length=40)
    thematic_area: s.Id | None = None
    status: str | None = Field(None, max_length=40)
    response_status: str | None = Field(None, max_length=30)
    overdue: bool = False
    due: bool = False
    term: s.Id | None = None
    unit: s.Id | None = None
    evaluation: s.Id | None = None

    def filters(self) -> Filters:
        return Filters(
            q=(self.q or "").strip(), region=self.region, office=self.office, office_type=self.office_type or "",
            year=self.year, category=self.category or "", thematic_area=self.thematic_area, status=self.status or "",
            response_status=self.response_status or "", overdue=self.overdue, due=self.due, term=self.term,
            unit=self.unit, evaluation=self.evaluation,
        )


def _evaluations(request):
    return restrict(_who(request), Evaluation).select_related("management_response")


@api.get("/evaluations", response={200: s.page(s.Evaluation), **ERRORS}, tags=["record"])
def evaluations(request, q: Query[RecordFilters]):
    qs = q.filters().evaluations(_evaluations(request))
    if q.evaluation:
        qs = qs.filter(pk=q.evaluation)
    return _page(qs, q.cursor, q.limit, records.evaluation)


@api.get("/evaluations/{int:pk}", response={200: s.Evaluation, **Headers304, **ERRORS}, tags=["record"])
def evaluation(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "evaluation", records.evaluation(_one(_evaluations(request), pk)))


@api.post("/evaluations", response={201: s.Evaluation, **WRITE_ERRORS}, tags=["record"])
def evaluation_create(request, data: s.EvaluationIn):
    office_row = _one(restrict(_who(request), Office), data.office_id)
    if data.status not in Evaluation.Status.values:
        raise ApiError(400, "invalid", f"Choose one of: {', '.join(Evaluation.Status.values)}.", field="status")
    if data.type and data.type not in Evaluation.Type.values:
        raise ApiError(400, "invalid", f"Choose one of: {', '.join(Evaluation.Type.values)}.", field="type")
    made = drafting.create_evaluation(
        request.auth.actor(request), office=office_row, start_year=data.start_year, end_year=data.end_year,
        title=data.title, year=data.year, type=data.type, status=data.status, completion_date=data.completion_date,
    )
    return Status(201, records.evaluation(_one(_evaluations(request), made.pk)))


class ResponseQuery(ListQuery):
    evaluation: s.Id | None = None
    status: str | None = Field(None, max_length=30)
    office: s.Id | None = None


def _responses(request):
    return restrict(_who(request), ManagementResponse)


@api.get("/management-responses", response={200: s.page(s.ManagementResponse), **ERRORS}, tags=["record"])
def responses(request, q: Query[ResponseQuery]):
    qs = _responses(request)
    if q.evaluation:
        qs = qs.filter(evaluation_id=q.evaluation)
    if q.status:
        qs = qs.filter(status=q.status)
    if q.office:
        qs = qs.filter(evaluation__office_id=q.office)
    return _page(qs, q.cursor, q.limit, records.response, _attach_units("coordinated_responses"))


@api.get("/management-responses/{int:pk}", response={200: s.ManagementResponse, **Headers304, **ERRORS}, tags=["record"])
def response_detail(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "response", records.response(_one(_responses(request), pk)))


def _write(request, kind: str, pk: int, if_match: str | None, call):
    """A write to a versioned record: read it (404), take If-Match (428/412), call the service, 412 if it went stale.

    `call(actor, row, version)` makes the change through a service; a stale one
    (ConflictError) is already kept in the history as refused by the service.
    Returns what `call` returned.
    """
    rows, show = _KINDS[kind]
    row = _one(rows(request), pk)
    version = _version(if_match, kind, row, show)
    try:
        made = call(request.auth.actor(request), row, version)
    except ConflictError as exc:
        current = exc.current
        fresh = _one(rows(request), current.pk) if isinstance(current, type(row)) else current
        raise _conflict(kind, show, fresh) from exc
    return made


def _now(request, kind: str, pk: int) -> dict:
    """The record as it is after a write."""
    rows, show = _KINDS[kind]
    return show(_one(rows(request), pk))


def _write_response(request, pk: int, if_match: str | None, call):
    _write(request, "response", pk, if_match, call)
    return _now(request, "response", pk)


def _with_etag(response: HttpResponse, kind: str, data: dict, status: int = 200):
    response["ETag"] = records.etag(kind, data)
    return Status(status, data)


IfMatch = Header(None, alias="If-Match", description="The ETag of the record as you last read it", max_length=200)


@api.patch("/management-responses/{int:pk}", response={200: s.ManagementResponse, **WRITE_ERRORS}, tags=["drafting"])
def response_update(request, pk: s.Id, data: s.ResponseIn, response: HttpResponse, if_match: str | None = IfMatch):
    def call(actor, row, version):
        chosen = list(restrict(_who(request), Unit).filter(pk__in=data.units, office_id=row.evaluation.office_id))
        if len(chosen) != len(set(data.units)):
            raise ApiError(400, "invalid", "Choose units of the evaluation's office.", field="units")
        drafting.update_response(actor, row, version=version, overall_response=data.overall_response, units=chosen)

    return _with_etag(response, "response", _write_response(request, pk, if_match, call))


@api.post("/management-responses/{int:pk}/submit", response={200: s.ManagementResponse, **WRITE_ERRORS}, tags=["drafting"])
def response_submit(request, pk: s.Id, response: HttpResponse, if_match: str | None = IfMatch):
    data = _write_response(request, pk, if_match, lambda actor, row, v: drafting.submit_response(actor, row, version=v))
    return _with_etag(response, "response", data)


@api.post("/management-responses/{int:pk}/approve", response={200: s.ManagementResponse, **WRITE_ERRORS}, tags=["review"])
def response_approve(request, pk: s.Id, response: HttpResponse, if_match: str | None = IfMatch):
    data = _write_response(request, pk, if_match, lambda actor, row, v: drafting.approve_response(actor, row, version=v))
    return _with_etag(response, "response", data)


@api.post("/management-responses/{int:pk}/return", response={200: s.ManagementResponse, **WRITE_ERRORS}, tags=["review"])
def response_return(request, pk: s.Id, body: s.ReturnIn, response: HttpResponse, if_match: str | None = IfMatch):
    data = _write_response(
        request, pk, if_match, lambda actor, row, v: drafting.return_response(actor, row, version=v, reason=body.reason)
    )
    return _with_etag(response, "response", data)


# --- recommendations --------------------------------------------------------------------------------


def _recommendations(request):
    return restrict(_who(request), Recommendation)


@api.get("/recommendations", response={200: s.page(s.Recommendation), **ERRORS}, tags=["record"])
def recommendations(request, q: Query[RecordFilters]):
    qs = _recommendations(request)
    evaluations_qs = q.filters().evaluations(restrict(_who(request), Evaluation))
    qs = qs.filter(evaluation_id__in=evaluations_qs.values("pk"))
    if q.category:
        qs = qs.filter(category=q.category)
    if q.evaluation:
        qs = qs.filter(evaluation_id=q.evaluation)
    return _page(qs, q.cursor, q.limit, records.recommendation, _attach_terms)


@api.get("/recommendations/{int:pk}", response={200: s.Recommendation, **Headers304, **ERRORS}, tags=["record"])
def recommendation(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "recommendation", records.recommendation(_one(_recommendations(request), pk)))


def _terms(ids: list[int] | None):
    if ids is None:
        return None
    found = {t.pk: t for t in Term.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ApiError(400, "invalid", f"No vocabulary term {missing[0]}.", field="terms")
    return [found[i] for i in dict.fromkeys(ids)]


@api.post("/management-responses/{int:pk}/recommendations", response={201: s.Recommendation, **WRITE_ERRORS}, tags=["drafting"])
def recommendation_add(request, pk: s.Id, data: s.RecommendationIn, response: HttpResponse):
    row = _one(_responses(request), pk)
    fields = data.dict(exclude={"terms"})
    made = drafting.add_recommendation(request.auth.actor(request), row, fields=fields, terms=_terms(data.terms))
    return _with_etag(response, "recommendation", records.recommendation(_one(_recommendations(request), made.pk)), 201)


@api.patch("/recommendations/{int:pk}", response={200: s.Recommendation, **WRITE_ERRORS}, tags=["drafting"])
def recommendation_update(request, pk: s.Id, data: s.RecommendationPatch, response: HttpResponse,
                          if_match: str | None = IfMatch):
    patch = data.dict(exclude_unset=True, exclude={"terms"})

    def call(actor, row, version):
        fields = {k: getattr(row, k) for k in drafting.RECOMMENDATION_FIELDS} | {k: v for k, v in patch.items() if v is not None}
        drafting.update_recommendation(actor, row, version=version, fields=fields, terms=_terms(data.terms))

    _write(request, "recommendation", pk, if_match, call)
    return _with_etag(response, "recommendation", _now(request, "recommendation", pk))


@api.delete("/recommendations/{int:pk}", response={204: None, **WRITE_ERRORS}, tags=["drafting"])
def recommendation_delete(request, pk: s.Id, if_match: str | None = IfMatch):
    _write(request, "recommendation", pk, if_match, lambda actor, row, v: drafting.delete_recommendation(actor, row, version=v))
    return Status(204, None)


# --- key actions ---------------------------------------------------------------------------------------


def _actions(request):
    return restrict(_who(request), KeyAction)


class ActionFilters(RecordFilters):
    mine: bool = Field(False, description="Only the key actions you report progress on (the workspace's My actions)")


@api.get("/key-actions", response={200: s.page(s.KeyAction), **ERRORS}, tags=["record"])
def key_actions(request, q: Query[ActionFilters]):
    qs = q.filters().actions(_actions(request))
    if q.mine:
        qs = qs.filter(pk__in=restrict(_who(request), KeyAction, permissions.UPDATE).values("pk"))
    return _page(qs, q.cursor, q.limit, records.key_action, _attach_units("key_actions"))


@api.get("/key-actions/{int:pk}", response={200: s.KeyAction, **Headers304, **ERRORS}, tags=["record"])
def key_action(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "keyaction", records.key_action(_one(_actions(request), pk)))


def _action_fields(data: dict, row=None) -> tuple[dict, list | None]:
    units = data.pop("units", None)
    if "deadline" in data and data["deadline"] is not None:
        try:
            year, month = (int(p) for p in data["deadline"].split("-")[:2])
            data["deadline"] = dt.date(year, month, 1)
        except ValueError:
            raise ApiError(400, "invalid", "Give the deadline as a month (YYYY-MM).", field="deadline") from None
    if row is not None:
        data = {k: getattr(row, k) for k in drafting.ACTION_FIELDS} | {k: v for k, v in data.items() if v is not None or k == "deadline"}
    return data, units


def _units_of(request, ids: list[int] | None, office_id: int):
    if ids is None:
        return None
    chosen = list(restrict(_who(request), Unit).filter(pk__in=ids, office_id=office_id))
    if len(chosen) != len(set(ids)):
        raise ApiError(400, "invalid", "Choose units of the evaluation's office.", field="units")
    return chosen


@api.post("/recommendations/{int:pk}/key-actions", response={201: s.KeyAction, **WRITE_ERRORS}, tags=["drafting"])
def key_action_add(request, pk: s.Id, data: s.KeyActionIn, response: HttpResponse):
    rec = _one(_recommendations(request).select_related("evaluation"), pk)
    fields, unit_ids = _action_fields(data.dict())
    made = drafting.add_action(request.auth.actor(request), rec, fields=fields,
                               units=_units_of(request, unit_ids, rec.evaluation.office_id) or [])
    return _with_etag(response, "keyaction", records.key_action(_one(_actions(request), made.pk)), 201)


@api.patch("/key-actions/{int:pk}", response={200: s.KeyAction, **WRITE_ERRORS}, tags=["drafting"])
def key_action_update(request, pk: s.Id, data: s.KeyActionPatch, response: HttpResponse, if_match: str | None = IfMatch):
    """Edit a key action while its response is drafted (on an approved response: post a progress update)."""
    def call(actor, row, version):
        fields, unit_ids = _action_fields(data.dict(exclude_unset=True), row)
        drafting.update_action(actor, row, version=version, fields=fields, units=_units_of(request, unit_ids, row.evaluation.office_id))

    _write(request, "keyaction", pk, if_match, call)
    return _with_etag(response, "keyaction", _now(request, "keyaction", pk))


@api.delete("/key-actions/{int:pk}", response={204: None, **WRITE_ERRORS}, tags=["drafting"])
def key_action_delete(request, pk: s.Id, if_match: str | None = IfMatch):
    _write(request, "keyaction", pk, if_match, lambda actor, row, v: drafting.delete_action(actor, row, version=v))
    return Status(204, None)


# --- progress updates ----------------------------------------------------------------------------------


class UpdateQuery(ListQuery):
    key_action: s.Id | None = None
    evaluation: s.Id | None = None


@api.get("/progress-updates", response={200: s.page(s.ProgressUpdate), **ERRORS}, tags=["record"])
def progress_updates(request, q: Query[UpdateQuery]):
    qs = restrict(_who(request), ActionUpdate)
    if q.key_action:
        qs = qs.filter(key_action_id=q.key_action)
    if q.evaluation:
        qs = qs.filter(key_action__evaluation_id=q.evaluation)
    internal = _internal(request)
    return _page(qs, q.cursor, q.limit, lambda u: records.progress_update(u, internal))


@api.get("/progress-updates/{int:pk}", response={200: s.ProgressUpdate, **Headers304, **ERRORS}, tags=["record"])
def progress_update(request, pk: s.Id, response: HttpResponse):
    data = records.progress_update(_one(restrict(_who(request), ActionUpdate), pk), _internal(request))
    return _detail(request, response, "update", data)


@api.post("/key-actions/{int:pk}/progress-updates", response={201: s.ProgressUpdate, **WRITE_ERRORS}, tags=["progress"])
def progress_add(request, pk: s.Id, data: s.ProgressIn, response: HttpResponse, if_match: str | None = IfMatch):
    """Report progress on a key action of an approved response: its new status, a comment, evidence (a link).

    If-Match names the key action's ETag; the response's ETag header is the key action's new one.
    """
    made = _write(request, "keyaction", pk, if_match, lambda actor, row, v: progress.record_progress(
        actor, row, version=v, status=data.status, comment=data.comment, evidence_url=data.evidence_url,
        evidence_internal=data.evidence_internal, reopen_reason=data.reopen_reason,
    ))
    response["ETag"] = records.etag("keyaction", _now(request, "keyaction", pk))
    return Status(201, records.progress_update(_one(restrict(_who(request), ActionUpdate), made.pk), True))


class ProgressForm(Schema):
    status: s.Status = Field(description="Not Initiated, Initiated, Completed or No Longer Applicable")
    comment: str = Field("", max_length=50_000)
    evidence_internal: bool = False
    reopen_reason: str = Field("", max_length=5_000, description="Required when a Completed action moves to another status")


@api.post("/key-actions/{int:pk}/progress-updates/with-file", response={201: s.ProgressUpdate, **WRITE_ERRORS}, tags=["progress"])
def progress_add_with_file(request, pk: s.Id, response: HttpResponse, form: Form[ProgressForm],
                           evidence_file: File[UploadedFile], if_match: str | None = IfMatch):
    """The same, with an evidence file (multipart/form-data; the web form's types and size limit)."""
    if "\x00" in form.comment or "\x00" in evidence_file.name:
        raise ApiError(400, "invalid", "Text cannot contain NUL characters.", field="comment")
    made = _write(request, "keyaction", pk, if_match, lambda actor, row, v: progress.record_progress(
        actor, row, version=v, status=form.status, comment=form.comment, evidence_file=evidence_file,
        evidence_internal=form.evidence_internal, reopen_reason=form.reopen_reason,
    ))
    response["ETag"] = records.etag("keyaction", _now(request, "keyaction", pk))
    return Status(201, records.progress_update(_one(restrict(_who(request), ActionUpdate), made.pk), True))


# --- accountability: verification, deadline revisions, adoption ratings, outcome follow-up ---------------


def _outcomes(request):
    return restrict(_who(request), OutcomeQuestion)


def _outcome_of(request, pk: int) -> OutcomeQuestion:
    row = _outcomes(request).filter(key_action_id=pk).first()
    if row is None:
        raise ApiError(404, "not_found", "This key action has no outcome question (or not one you may read).")
    return row


# What a write reads and shows of each kind of versioned record (its ETag is "<kind>-<id>-v<version>").
_KINDS = {
    "response": (_responses, records.response),
    "recommendation": (_recommendations, records.recommendation),
    "keyaction": (_actions, records.key_action),
    "outcome": (_outcomes, lambda o: records.outcome(o, True)),
}


@api.get("/key-actions/awaiting-verification", response={200: s.page(s.KeyAction), **ERRORS}, tags=["verification"])
def awaiting_verification(request, q: Query[ListQuery]):
    """Completions awaiting verification that you may verify (not those of your own office or units, nor your own claims)."""
    qs = verification.verifiable(request.auth.actor(request))
    return _page(qs, q.cursor, q.limit, records.key_action, _attach_units("key_actions"))


@api.post("/key-actions/{int:pk}/verification", response={201: s.Verification, **WRITE_ERRORS}, tags=["verification"])
def verify(request, pk: s.Id, data: s.VerifyIn, response: HttpResponse, if_match: str | None = IfMatch):
    """Accept a completion (Completed, verified) or send it back with a reason (the key action is reopened).

    If-Match names the key action's ETag; the response's ETag header is the key action's new one.
    """
    made = _write(request, "keyaction", pk, if_match, lambda actor, row, v: verification.verify_completion(
        actor, row, version=v, accept=data.decision == "accept", reason=data.reason))
    response["ETag"] = records.etag("keyaction", _now(request, "keyaction", pk))
    return Status(201, records.verification(made, True))


@api.get("/key-actions/{int:pk}/deadline-revisions", response={200: s.page(s.DeadlineRevision), **ERRORS}, tags=["deadlines"])
def deadline_revisions(request, pk: s.Id, q: Query[ListQuery]):
    """The revisions of a key action's deadline, oldest first (the first deadline is `previous` of the first)."""
    action = _one(_actions(request), pk)
    internal = _internal(request)
    qs = restrict(_who(request), DeadlineRevision).filter(key_action=action)
    return _page(qs, q.cursor, q.limit, lambda r: records.deadline_revision(r, internal))


@api.post("/key-actions/{int:pk}/deadline-revisions", response={201: s.DeadlineRevision, **WRITE_ERRORS}, tags=["deadlines"])
def deadline_revise(request, pk: s.Id, data: s.DeadlineIn, response: HttpResponse, if_match: str | None = IfMatch):
    """Move the deadline of a key action of an approved response, with a reason. If-Match: the key action's ETag."""
    deadline = _action_fields({"deadline": data.deadline})[0]["deadline"]
    made = _write(request, "keyaction", pk, if_match, lambda actor, row, v: deadlines.revise_deadline(
        actor, row, version=v, deadline=deadline, reason=data.reason))
    response["ETag"] = records.etag("keyaction", _now(request, "keyaction", pk))
    return Status(201, records.deadline_revision(made, True))


def _rate(request, pk: int, side: str, data: s.AdoptionIn, response: HttpResponse, if_match: str | None):
    _write(request, "recommendation", pk, if_match, lambda actor, row, v: ratings.rate_adoption(
        actor, row, version=v, side=side, rating=data.rating, note=data.note))
    return _with_etag(response, "recommendation", _now(request, "recommendation", pk))


@api.put("/recommendations/{int:pk}/adoption/management", response={200: s.Recommendation, **WRITE_ERRORS}, tags=["ratings"])
def adoption_by_management(request, pk: s.Id, data: s.AdoptionIn, response: HttpResponse, if_match: str | None = IfMatch):
    """Management's rating of how far the recommendation was adopted (the office's focal point). If-Match: its ETag."""
    return _rate(request, pk, ratings.MANAGEMENT, data, response, if_match)


@api.put("/recommendations/{int:pk}/adoption/evaluation-office", response={200: s.Recommendation, **WRITE_ERRORS},
         tags=["ratings"])
def adoption_validated(request, pk: s.Id, data: s.AdoptionIn, response: HttpResponse, if_match: str | None = IfMatch):
    """The evaluation office's own rating, validating management's, kept beside it. If-Match: the recommendation's ETag."""
    return _rate(request, pk, ratings.EVALUATION_OFFICE, data, response, if_match)


@api.get("/key-actions/{int:pk}/outcome-question", response={200: s.OutcomeQuestion, **Headers304, **ERRORS}, tags=["outcomes"])
def outcome_question(request, pk: s.Id, response: HttpResponse):
    action = _one(_actions(request), pk)
    return _detail(request, response, "outcome", records.outcome(_outcome_of(request, action.pk), _internal(request)))


@api.put("/key-actions/{int:pk}/outcome-question", response={200: s.OutcomeQuestion, 201: s.OutcomeQuestion, **WRITE_ERRORS},
         tags=["outcomes"])
def outcome_schedule(request, pk: s.Id, data: s.OutcomeScheduleIn, response: HttpResponse, if_match: str | None = IfMatch):
    """Schedule the outcome question of a Completed key action (201), or move an unanswered one (200).

    Moving one takes If-Match with the question's ETag; scheduling the first takes none.
    """
    action = _one(_actions(request), pk)
    existing = _outcomes(request).filter(key_action=action).first()
    actor = request.auth.actor(request)
    if existing is None:
        made = outcomes.schedule_outcome(actor, action, ask_on=data.ask_on, question=data.question)
    else:
        made = _write(request, "outcome", existing.pk, if_match, lambda actor, row, v: outcomes.schedule_outcome(
            actor, action, ask_on=data.ask_on, question=data.question, version=v))
    return _with_etag(response, "outcome", _now(request, "outcome", made.pk), 201 if existing is None else 200)


@api.post("/key-actions/{int:pk}/outcome-question/answer", response={200: s.OutcomeQuestion, **WRITE_ERRORS}, tags=["outcomes"])
def outcome_answer(request, pk: s.Id, data: s.OutcomeAnswerIn, response: HttpResponse, if_match: str | None = IfMatch):
    """The unit's answer (from the day it is asked): did it change what the evaluation found, and what changed.

    If-Match: the question's ETag.
    """
    action = _one(_actions(request), pk)
    question = _outcome_of(request, action.pk)
    _write(request, "outcome", question.pk, if_match, lambda actor, row, v: outcomes.answer_outcome(
        actor, action, confirmed=data.confirmed, answer=data.answer, version=v))
    return _with_etag(response, "outcome", _now(request, "outcome", question.pk))


# --- bulk: import and export documents ----------------------------------------------------------------


@api.post("/imports", response={200: s.ImportOut, **WRITE_ERRORS}, tags=["bulk"])
def import_documents(request, data: s.ImportIn, dry_run: bool = False):
    """Import GATE documents (or their JSON form), as `followthrough import` does: each document all or nothing.

    The results are the command line's: created, updated, unchanged or failed
    (with the reason), warnings, and what changed. `dry_run`: check and report, write nothing.
    """
    actor = request.auth.actor(request)
    results: list = []
    try:
        with transaction.atomic():
            importer = Importer(actor)
            for i, item in enumerate(data.documents):
                source = item.source or f"document {i + 1}"
                if (item.text is None) == (item.document is None):
                    raise ApiError(400, "invalid", "Give each document as `text` (GATE) or as `document` (JSON), one of them.",
                                   field=f"documents.{i}")
                if item.text is not None:
                    try:
                        results += list(importer.run([(source, item.text)], workers=0))
                    except Exception as exc:  # the document at fault changed nothing (its own transaction)
                        results.append(ImportResultRow(source=source, outcome=FAILED, error=f"{type(exc).__name__}: {exc}"))
                    continue
                try:
                    doc = gateformat.Document.from_dict(item.document)
                    doc.source = source
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    results.append(ImportResultRow(source=source, outcome=FAILED, error=f"not a document: {exc}"))
                    continue
                try:
                    results += importer.import_documents([doc])
                except Exception as exc:  # the document at fault changed nothing (its own transaction)
                    results.append(ImportResultRow(source=source, outcome=FAILED, error=f"{type(exc).__name__}: {exc}"))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    counts = {k: sum(r.outcome == k for r in results) for k in (CREATED, UPDATED, UNCHANGED, FAILED)}
    return {"dry_run": dry_run, "created": counts[CREATED], "updated": counts[UPDATED], "unchanged": counts[UNCHANGED],
            "failed": counts[FAILED], "results": [dataclasses.asdict(r) for r in results]}


class _DryRun(Exception):
    pass


@api.get("/evaluations/{int:pk}/document", response={200: s.DocumentOut, **ERRORS}, tags=["bulk"], by_alias=True)
def evaluation_document(request, pk: s.Id):
    """The evaluation as the exports give it: a GATE document and its JSON form (what POST /imports takes back)."""
    evaluation = _one(evaluations_for_export(restrict(_who(request), Evaluation)), pk)
    doc = to_document(evaluation)
    return {"id": evaluation.pk, "gate": gateformat.render(doc), "json": exports.document_json(evaluation, doc)}


# --- the history and the changes feed ------------------------------------------------------------------


class HistoryQuery(ListQuery):
    evaluation: s.Id | None = None
    model: str | None = Field(None, max_length=100)
    action: str | None = Field(None, max_length=10)


def _history(request):
    return restrict(_who(request), ChangeRecord).select_related("content_type")


@api.get("/history", response={200: s.page(s.Change), **ERRORS}, tags=["history"])
def history(request, q: Query[HistoryQuery]):
    qs = _history(request)
    if q.evaluation:
        qs = qs.filter(evaluation_id=q.evaluation)
    if q.model:
        qs = qs.filter(content_type__model=q.model)
    if q.action:
        qs = qs.filter(action=q.action)
    return _page(qs, q.cursor, q.limit, records.change)


@api.get("/history/{int:pk}", response={200: s.Change, **Headers304, **ERRORS}, tags=["history"])
def history_detail(request, pk: s.Id, response: HttpResponse):
    return _detail(request, response, "change", records.change(_one(_history(request), pk)))


class ChangesQuery(Schema):
    since: str | None = Field(None, max_length=40, description="`next` of the previous call (none: from the start)")
    limit: s.Limit = 200


@api.get("/changes", response={200: s.ChangesPage, **ERRORS}, tags=["history"])
def changes(request, q: Query[ChangesQuery]):
    """Every change the caller may read, in the order it was committed, after `since`.

    Keep `next` and pass it as `since`: a client that applies each change in
    order (create: `after` is the new record's fields; update: `after` holds
    the fields that changed; delete) keeps a copy of what it may read. No
    committed change is ever skipped: a change of a transaction still open
    (an import, say) comes later, and everything after it waits for it.
    """
    txid, since = _decode_since(q.since)
    rows = list(feed.after(_history(request), txid, since)[: q.limit])
    last = (feed.txid_of(rows[-1]), rows[-1].pk) if rows else (txid, since)
    return {"items": [records.change(r) for r in rows], "next": _encode_since(*last)}


def _decode_since(cursor: str | None) -> tuple[int, int]:
    """(transaction, id) of a `since`; one of before the feed went by transaction (an id alone) reads as (0, id)."""
    if not cursor:
        return 0, 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
        txid, _, pk = text.rpartition(".")
        values = (int(txid or 0), int(pk))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid", "This since was not given by the API.", field="since") from None
    if not all(0 <= v <= s.MAX_ID for v in values):
        raise ApiError(400, "invalid", "This since was not given by the API.", field="since")
    return values


def _encode_since(txid: int, pk: int) -> str:
    return _encode(f"{txid}.{pk}") if txid else _encode(pk)
