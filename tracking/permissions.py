"""Who may do what, and who may read what. Every permission decision of the app is made here, once.

Deny by default: a permission not named below is refused, a user without a
role sees what the public sees, and a scope that does not match refuses.
The services call `require(actor, PERMISSION, obj)` before they change
anything, inside their transaction; views, the API and the command line ask
`can(...)` only to decide what to offer. Nothing is allowed because a button
was hidden: a tampered form or a guessed URL reaches the same `require`.

| permission           | who                                                               |
| -------------------- | ----------------------------------------------------------------- |
| view_internal        | any role (drafts in scope, history, workspace)                    |
| manage_reference     | administrator (users, roles, offices, units, vocabularies)        |
| manage_evaluations   | evaluation office, in scope (plans, evaluations; a joint          |
|                      | evaluation's partners: in the scope of the lead and the partner)  |
| edit_response        | office focal point of the office, while Draft or Returned         |
| submit_response      | office focal point of the office, while Draft or Returned         |
| review_response      | evaluation office, in scope, while Submitted (approve or return)  |
| update_action        | unit focal point of a unit of the action; office focal point,     |
|                      | once the response is approved (`UpdateScope`: the one home)       |
| import_documents     | evaluation office, in scope                                       |
| verify_action        | evaluation office, in scope, on a completion awaiting             |
|                      | verification; never a focal point of the action's unit or office, |
|                      | nor the person who reported the completion (the service checks)   |
| revise_deadline      | who reports progress on the key action (`UpdateScope`), with a    |
|                      | reason; the first deadline is kept                                |
| rate_adoption        | office focal point of the office, on an approved response         |
|                      | (management's rating of how far a recommendation was adopted)     |
| validate_adoption    | evaluation office, in scope, on an approved response; never a     |
|                      | focal point of the office                                         |
| schedule_outcome     | evaluation office, in scope, on a Completed key action of an      |
|                      | approved response: a later question on its outcome                |
| answer_outcome       | who reports progress on the key action, once the question is due  |
|                      | (the service checks the date)                                     |
Superusers may do everything, but the locks of the workflow (an approved
response is changed only by progress updates) hold for them too.

Reading: one door, `restrict(who, Model, action="view")`, a queryset of what
that person may read. Every page, list, figure, export, history view,
evidence download and cache key starts from it (`reader_scope(who).key`
keys the page cache). A model it does not know gives nothing.

| reader                                   | approved responses          | drafts (Draft, Submitted, Returned)    | history                              |
| ---------------------------------------- | --------------------------- | -------------------------------------- | ------------------------------------ |
| the public (anonymous; signed in without | yes, without who reported   | no                                     | no                                   |
| a role; inactive accounts)               | progress; evidence unless   |                                        |                                      |
|                                          | marked internal             |                                        |                                      |
| unit focal point                         | yes, all of it              | of the unit's office                   | of what they read; reference data    |
| office focal point                       | yes, all of it              | of the office                          | of what they read; reference data    |
| evaluation office or viewer, scoped to   | yes, all of it              | of that office, or of the offices of   | of what they read; reference data    |
| an office or a region                    |                             | that region                            |                                      |
| evaluation office or viewer, no scope    | yes, all of it              | all                                    | all but accounts and roles           |
| administrator, superuser                 | yes, all of it              | all                                    | all, accounts and roles included     |

"All of it" is what the public does not get: who reported each progress
update, evidence marked internal, the history. Roles add up: a person holding
several reads what any of them reads. Reference data (regions, offices,
units, vocabularies) is public; its history is for people with a role. The
history of accounts, groups and role assignments (and of anything not named
here) is for administrators only. An evaluation's documents follow the
evaluation; those marked internal are for people with a role. The command line (`Actor.system()`) reads everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from .actor import Actor
from .models import (
    ActionTally,
    ActionUpdate,
    ChangeRecord,
    DeadlineRevision,
    Evaluation,
    EvaluationDocument,
    EvaluationPlan,
    KeyAction,
    ManagementResponse,
    Office,
    OfficeType,
    OutcomeQuestion,
    Recommendation,
    RecommendationTerm,
    Region,
    TallySum,
    Term,
    Unit,
    UnitAlias,
    Verification,
)
from .models.access import Role, RoleAssignment
from .models.accountability import VerificationState
from .models.responses import ActionStatus, ResponseStatus

VIEW_INTERNAL = "view_internal"
MANAGE_REFERENCE = "manage_reference"
MANAGE_EVALUATIONS = "manage_evaluations"
EDIT_RESPONSE = "edit_response"
SUBMIT_RESPONSE = "submit_response"
REVIEW_RESPONSE = "review_response"
UPDATE_ACTION = "update_action"
IMPORT_DOCUMENTS = "import_documents"
EXPORT_DOCUMENTS = "export_documents"
VERIFY_ACTION = "verify_action"
REVISE_DEADLINE = "revise_deadline"
RATE_ADOPTION = "rate_adoption"
VALIDATE_ADOPTION = "validate_adoption"
SCHEDULE_OUTCOME = "schedule_outcome"
ANSWER_OUTCOME = "answer_outcome"

ALL_PERMISSIONS = (
    VIEW_INTERNAL,
    MANAGE_REFERENCE,
    MANAGE_EVALUATIONS,
    EDIT_RESPONSE,
    SUBMIT_RESPONSE,
    REVIEW_RESPONSE,
    UPDATE_ACTION,
    IMPORT_DOCUMENTS,
    EXPORT_DOCUMENTS,
    VERIFY_ACTION,
    REVISE_DEADLINE,
    RATE_ADOPTION,
    VALIDATE_ADOPTION,
    SCHEDULE_OUTCOME,
    ANSWER_OUTCOME,
)
EDITABLE_STATUSES = (ResponseStatus.DRAFT, ResponseStatus.RETURNED)

# The actions `restrict` knows: reading rows, opening a progress update's
# evidence, and updating a key action (which actions this person reports on).
VIEW = "view"
EVIDENCE = "evidence"
UPDATE = UPDATE_ACTION


# --- what a person may read -------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """What one person may read (see the table above). Hashable: `key` keys the page cache.

    Two people with the same reader see the same pages; two with different
    readers never share a cached page.
    """

    internal: bool = False  # drafts in scope, who reported, internal evidence, history
    everything: bool = False  # the drafts of every office
    administrator: bool = False  # the history of accounts and role assignments
    offices: frozenset[int] = frozenset()  # offices whose drafts are read
    regions: frozenset[int] = frozenset()  # regions whose offices' drafts are read

    @property
    def key(self) -> tuple:
        if not self.internal:
            return ("public",)
        drafts = ("all",) if self.everything else (tuple(sorted(self.offices)), tuple(sorted(self.regions)))
        return ("internal", self.administrator, *drafts)

    def evaluations_q(self, prefix: str = "", per_row: bool = False) -> Q:
        """The evaluations this reader reads, as a filter (`prefix` reaches the evaluation from another model).

        `per_row`: the approval tested row by row (EXISTS) instead of joined (see `restrict`)."""
        if self.everything:
            return Q()
        if per_row:
            approved = ManagementResponse.objects.filter(evaluation_id=OuterRef(f"{prefix}pk"), status=ResponseStatus.APPROVED)
            q = Q(Exists(approved))
        else:
            q = Q(**{f"{prefix}management_response__status": ResponseStatus.APPROVED})
        if self.offices or self.regions:
            q |= self.drafts_q(prefix)
        return q

    def drafts_q(self, prefix: str = "") -> Q:
        """The evaluations whose drafts this reader reads (not of every office: `everything` reads all), as a
        filter. Added to a restricted queryset of drafts, it changes nothing but lets the database start from
        these offices' evaluations instead of reading every key action to find them."""
        q = Q(pk__in=[])
        if self.offices:
            q |= Q(**{f"{prefix}office_id__in": sorted(self.offices)})
        if self.regions:
            q |= Q(**{f"{prefix}office__region_id__in": sorted(self.regions)})
        return q

    def sees_evidence(self, update: ActionUpdate) -> bool:
        """May this reader see the evidence (file or link) of a progress update they see? (`restrict(..., EVIDENCE)`)"""
        return self.internal or not update.evidence_internal


PUBLIC = Reader()
EVERYTHING = Reader(internal=True, everything=True, administrator=True)


@dataclass(frozen=True)
class UpdateScope:
    """Which key actions this person reports progress on: the one home of that rule.

    Written side by side: as a filter (`q`, for "my actions" and the
    workspace), as a test on a loaded key action (`allows`, for a row of a
    page, with the action's units prefetched: no query) and on an evaluation
    (`any_in`: does its page carry this person's update links?).
    tests/tracking/test_permissions.py holds them to the same answers.

    Progress is reported on approved responses only (a draft's actions are
    edited in the draft); an office focal point on every action of the office,
    a unit focal point on the actions of the unit.
    """

    everything: bool = False
    offices: frozenset[int] = frozenset()
    units: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.everything or self.offices or self.units)

    def q(self) -> Q:
        """On KeyAction."""
        approved = Q(evaluation__management_response__status=ResponseStatus.APPROVED)
        if self.everything:
            return approved
        mine = Q(pk__in=[])
        if self.offices:
            mine |= Q(evaluation__office_id__in=sorted(self.offices))
        if self.units:
            links = KeyAction.units.through.objects.filter(unit_id__in=sorted(self.units)).values("keyaction_id")
            mine |= Q(pk__in=links)
        return approved & mine

    def allows(self, action: KeyAction) -> bool:
        if action.evaluation.management_response.status != ResponseStatus.APPROVED:
            return False
        if self.everything or action.evaluation.office_id in self.offices:
            return True
        return any(u.pk in self.units for u in action.units.all())

    def any_in(self, evaluation: Evaluation) -> bool:
        """Does some key action of this evaluation take this person's progress? (A query for unit focal points only.)"""
        response = getattr(evaluation, "management_response", None)
        if not self or response is None or response.status != ResponseStatus.APPROVED:
            return False
        if self.everything or evaluation.office_id in self.offices:
            return True
        links = KeyAction.units.through.objects.filter(keyaction__evaluation_id=evaluation.pk, unit_id__in=sorted(self.units))
        return bool(self.units) and links.exists()


@dataclass
class Access:
    """One user's roles, loaded once (one query) and asked many times."""

    user: object | None
    assignments: list[RoleAssignment] = field(default_factory=list)

    @classmethod
    def of(cls, user) -> Access:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls(user=None)
        cached = getattr(user, "_followthrough_access", None)
        if cached is None:
            # With each unit: a unit focal point reads the drafts of the unit's office.
            rows = RoleAssignment.objects.filter(user=user).select_related("unit")
            cached = cls(user=user, assignments=list(rows))
            user._followthrough_access = cached
        return cached

    @property
    def is_superuser(self) -> bool:
        return bool(self.user is not None and self.user.is_superuser)

    def has(self, role: str) -> bool:
        return any(a.role == role for a in self.assignments)

    @property
    def is_internal(self) -> bool:
        return self.reader.internal

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.has(Role.ADMINISTRATOR)

    @cached_property
    def focal_office_ids(self) -> frozenset[int]:
        return frozenset(a.office_id for a in self.assignments if a.role == Role.OFFICE_FOCAL_POINT)

    @cached_property
    def focal_unit_ids(self) -> frozenset[int]:
        return frozenset(a.unit_id for a in self.assignments if a.role == Role.UNIT_FOCAL_POINT)

    @cached_property
    def reader(self) -> Reader:
        """What this person reads: the union of what each of their roles reads."""
        if self.user is None:
            return PUBLIC
        if self.is_administrator:
            return EVERYTHING
        known = [a for a in self.assignments if a.role in Role.values]
        if not known:
            return PUBLIC
        offices: set[int] = set()
        regions: set[int] = set()
        everything = False
        for a in known:
            if a.role == Role.OFFICE_FOCAL_POINT:
                offices.add(a.office_id)
            elif a.role == Role.UNIT_FOCAL_POINT:
                offices.add(a.unit.office_id)
            elif a.role in (Role.EVALUATION_OFFICE, Role.VIEWER):
                if a.office_id is not None:
                    offices.add(a.office_id)
                elif a.region_id is not None:
                    regions.add(a.region_id)
                else:
                    everything = True
        if everything:
            return Reader(internal=True, everything=True)
        return Reader(internal=True, offices=frozenset(offices), regions=frozenset(regions))

    @cached_property
    def update_scope(self) -> UpdateScope:
        if self.user is None:
            return UpdateScope()
        if self.is_superuser:
            return UpdateScope(everything=True)
        return UpdateScope(offices=self.focal_office_ids, units=self.focal_unit_ids)

    @cached_property
    def _review_scopes(self) -> list[RoleAssignment]:
        return [a for a in self.assignments if a.role == Role.EVALUATION_OFFICE]

    @property
    def is_evaluation_office(self) -> bool:
        return bool(self._review_scopes)

    def reviews_office(self, office) -> bool:
        """Is this office within one of the user's evaluation-office scopes?"""
        if self.is_superuser:
            return True
        for a in self._review_scopes:
            if a.office_id is None and a.region_id is None:
                return True
            if a.office_id is not None and a.office_id == office.pk:
                return True
            if a.region_id is not None and a.region_id == office.region_id:
                return True
        return False

    def review_scope(self, office_field: str | None = "office") -> Q:
        """The offices under review by this user, as a filter on `office_field` (None: on Office itself)."""
        if self.is_superuser:
            return Q()
        prefix = f"{office_field}__" if office_field else ""
        q = Q(pk__in=[])
        for a in self._review_scopes:
            if a.office_id is None and a.region_id is None:
                return Q()
            if a.office_id is not None:
                q |= Q(**{f"{prefix}pk": a.office_id})
            else:
                q |= Q(**{f"{prefix}region_id": a.region_id})
        return q


def reader_scope(who) -> Reader:
    """What this person reads: `who` is a user (or None, or AnonymousUser), an Actor, or a Reader already."""
    if isinstance(who, Reader):
        return who
    if isinstance(who, Actor):
        if who.is_system:
            return EVERYTHING
        who = who.user
    return Access.of(who).reader


def update_scope(who) -> UpdateScope:
    if isinstance(who, Actor):
        if who.is_system:
            return UpdateScope(everything=True)
        who = who.user
    if isinstance(who, Reader):
        return UpdateScope()  # reading says nothing about updating
    return Access.of(who).update_scope


# How each tracked model reaches its evaluation: it is read when its evaluation is.
_EVALUATION_PATH: dict[type[Model], str] = {
    Evaluation: "",
    ManagementResponse: "evaluation__",
    Recommendation: "evaluation__",
    RecommendationTerm: "recommendation__evaluation__",
    KeyAction: "evaluation__",
    ActionUpdate: "key_action__evaluation__",
    EvaluationDocument: "evaluation__",
    Verification: "key_action__evaluation__",
    DeadlineRevision: "key_action__evaluation__",
    OutcomeQuestion: "key_action__evaluation__",
}
# Public reference data: every reader reads all of it.
_REFERENCE: tuple[type[Model], ...] = (Region, OfficeType, Office, Unit, UnitAlias, Term, EvaluationPlan)
# The history of these is read by people with a role (the rest: administrators only).
_HISTORY_OF_REFERENCE = _REFERENCE
_HISTORY_OF_RECORDS = (*_EVALUATION_PATH, EvaluationPlan)


def _type_ids(models: tuple[type[Model], ...]) -> list[int]:
    """The content types' ids (Django's cache: no query once known). Asked by name through a join to the content
    types, PostgreSQL expected one row of the history to pass and read it all, then sorted it (the changes feed)."""
    from django.contrib.contenttypes.models import ContentType

    return sorted(ct.pk for ct in ContentType.objects.get_for_models(*models).values())


def restrict(who, model: type[Model], action: str = VIEW, *, per_row: bool = False) -> QuerySet:
    """What this person may read (or, with action=UPDATE, update) of a model: the one door to every read.

    `who`: a user, None or AnonymousUser (the public), an Actor, or a Reader.
    Deny by default: an action not named here gives an empty queryset; a model not named here is
    administration (accounts, jobs, sign-in records), for administrators only.

    `per_row` (VIEW): the same rows, the approval of each row's response tested by EXISTS rather than
    joined. For a page read in an index's order and cut short (the key-action list's 51 rows by deadline):
    SQLite then walks the index and tests the rows it keeps (0.1 ms at L) where with the join it starts from
    the approved responses and sorts their 47,000 actions (31 ms). Counts keep the join: tested row by row,
    counting every action took 10 times as long.
    """
    rows = model._default_manager.all()
    if action == UPDATE:
        scope = update_scope(who)
        return rows.filter(scope.q()) if model is KeyAction and scope else rows.none()
    reader = reader_scope(who)
    if action == EVIDENCE:
        if model is not ActionUpdate:
            return rows.none()
        rows = restrict(reader, ActionUpdate)
        return rows if reader.internal else rows.filter(evidence_internal=False)
    if action != VIEW:
        return rows.none()
    if model is ChangeRecord:
        return _history(reader, rows)
    if model in _REFERENCE:
        return rows
    if model is RoleAssignment:
        return rows if reader.administrator else rows.none()
    if model in (ActionTally, TallySum):
        # Counts of key actions (and their sums): of approved responses for everyone; of the rest (drafts of every
        # office) for readers of every draft. A reader of some offices' drafts counts those from the key actions.
        return rows if reader.everything else rows.filter(approved=True)
    path = _EVALUATION_PATH.get(model)
    if path is None:
        # Anything else (accounts, jobs, sign-in records...) is administration: administrators only.
        return rows if reader.administrator else rows.none()
    if model is EvaluationDocument and not reader.internal:
        rows = rows.filter(internal=False)  # internal documents: people with a role
    if model is ManagementResponse and not reader.everything and not per_row:
        # A response is read with its evaluation, approved when it is: its own status, not the evaluation's response
        # joined again (the same row, one per evaluation; the dashboard's responses on time at L: SQLite 10 -> 8 ms, PostgreSQL 13 -> 10).
        approved = Q(status=ResponseStatus.APPROVED)
        return rows.filter(approved | reader.drafts_q(path) if reader.offices or reader.regions else approved)
    return rows if reader.everything else rows.filter(reader.evaluations_q(path, per_row))


def _history(reader: Reader, rows: QuerySet[ChangeRecord]) -> QuerySet[ChangeRecord]:
    """Records of what the reader reads; reference data for any role; accounts and roles for administrators."""
    if not reader.internal:
        return rows.none()
    if reader.administrator:
        return rows
    reference = Q(content_type_id__in=_type_ids(_HISTORY_OF_REFERENCE), evaluation_id=None)
    records = Q(content_type_id__in=_type_ids(_HISTORY_OF_RECORDS))
    if reader.everything:
        records &= Q(evaluation_id__isnull=False)
    else:
        records &= Q(evaluation_id__in=restrict(reader, Evaluation).values("pk"))
    return rows.filter(reference | records)


def _response_of(obj):
    """The management response an object belongs to."""
    if isinstance(obj, ManagementResponse):
        return obj
    if isinstance(obj, Recommendation):
        return obj.management_response
    if isinstance(obj, KeyAction):
        return obj.recommendation.management_response
    if isinstance(obj, Evaluation):
        return obj.management_response
    raise TypeError(f"no management response for {type(obj).__name__}")


def _office_of(obj):
    if isinstance(obj, Office):
        return obj
    if isinstance(obj, (Evaluation, EvaluationPlan, EvaluationDocument)):
        return obj.office if not isinstance(obj, EvaluationDocument) else obj.evaluation.office
    if isinstance(obj, (ManagementResponse, Recommendation, KeyAction)):
        return obj.evaluation.office
    raise TypeError(f"no office for {type(obj).__name__}")


def can(actor: Actor | object, permission: str, obj: object | None = None) -> bool:
    """May this actor (or user) do this, to this object? Unknown permissions: no."""
    if not isinstance(actor, Actor):
        actor = Actor(user=actor)
    if actor.is_system:
        # The server's own command line: whoever runs it administers the installation.
        return permission in ALL_PERMISSIONS
    access = Access.of(actor.user)
    if access.user is None:
        return False  # anonymous or inactive: nothing beyond what the public reads
    su = access.is_superuser

    if permission == VIEW_INTERNAL:
        return access.is_internal
    if permission == EXPORT_DOCUMENTS:
        return True  # what may be exported is what may be read (`restrict` decides)
    if permission == MANAGE_REFERENCE:
        return access.is_administrator
    if permission in (MANAGE_EVALUATIONS, IMPORT_DOCUMENTS):
        if obj is None:
            return su or access.is_evaluation_office
        return access.reviews_office(_office_of(obj))
    if permission in (EDIT_RESPONSE, SUBMIT_RESPONSE):
        if obj is None:
            return su or bool(access.focal_office_ids)
        response = _response_of(obj)
        if response.status not in EDITABLE_STATUSES:
            return False  # approved or under review: locked
        return su or _office_of(obj).pk in access.focal_office_ids
    if permission == REVIEW_RESPONSE:
        if obj is None:
            return su or access.is_evaluation_office
        response = _response_of(obj)
        return response.status == ResponseStatus.SUBMITTED and access.reviews_office(_office_of(obj))
    if permission in (UPDATE_ACTION, REVISE_DEADLINE):
        scope = access.update_scope
        return bool(scope) if obj is None else scope.allows(obj)
    if permission == SCHEDULE_OUTCOME:
        if obj is None:
            return su or access.is_evaluation_office
        approved = _response_of(obj).status == ResponseStatus.APPROVED
        return approved and obj.status == ActionStatus.COMPLETED and access.reviews_office(_office_of(obj))
    if permission == ANSWER_OUTCOME:
        scope = access.update_scope
        if obj is None:
            return bool(scope)
        question = getattr(obj, "outcome", None) if obj.pk else None
        return question is not None and not question.answered and scope.allows(obj)
    if permission in (RATE_ADOPTION, VALIDATE_ADOPTION):
        if obj is None:
            return su or bool(access.focal_office_ids if permission == RATE_ADOPTION else access.is_evaluation_office)
        if _response_of(obj).status != ResponseStatus.APPROVED:
            return False
        office = _office_of(obj)
        if permission == RATE_ADOPTION:
            return su or office.pk in access.focal_office_ids
        return access.reviews_office(office) and office.pk not in access.focal_office_ids
    if permission == VERIFY_ACTION:
        if obj is None:
            return su or access.is_evaluation_office
        if obj.status != ActionStatus.COMPLETED or obj.verification != VerificationState.AWAITING:
            return False
        if _response_of(obj).status != ResponseStatus.APPROVED:
            return False
        return access.reviews_office(_office_of(obj)) and not reports_on(access, obj)
    return False


def reports_on(access: Access, action: KeyAction) -> bool:
    """Is this person a focal point of the action's office or of one of its units? Then they may not verify it.

    Superusers report on everything, yet verify: what they may not verify is a
    completion they reported themselves (tracking.services.verification).
    """
    if action.evaluation.office_id in access.focal_office_ids:
        return True
    return any(u.pk in access.focal_unit_ids for u in action.units.all())


def require(actor: Actor, permission: str, obj: object | None = None) -> None:
    if not can(actor, permission, obj):
        what = permission.replace("_", " ")
        raise PermissionDenied(f"{actor.name if isinstance(actor, Actor) else actor} may not {what}" + (f": {obj}" if obj else ""))
