"""Who may do what. Every permission decision of the app is made here, once.

Deny by default: a permission not named below is refused, a user without a
role sees what the public sees, and a scope that does not match refuses.
The services call `require(actor, PERMISSION, obj)` before they change
anything, inside their transaction; views, the API and the command line ask
`can(...)` only to decide what to offer. Nothing is allowed because a button
was hidden: a tampered form or a guessed URL reaches the same `require`.

| permission           | who                                                               |
| -------------------- | ----------------------------------------------------------------- |
| view_internal        | any role (drafts, history, workspace)                             |
| manage_reference     | administrator (users, roles, offices, units, vocabularies)        |
| manage_evaluations   | evaluation office, in scope (plans, evaluations)                  |
| edit_response        | office focal point of the office, while Draft or Returned         |
| submit_response      | office focal point of the office, while Draft or Returned         |
| review_response      | evaluation office, in scope, while Submitted (approve or return)  |
| update_action        | unit focal point of a unit of the action; office focal point,     |
|                      | once the response is approved                                     |
| import_documents     | evaluation office, in scope                                       |
Superusers may do everything, but the locks of the workflow (an approved
response is changed only by progress updates) hold for them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .actor import Actor
from .models.access import Role, RoleAssignment
from .models.responses import ResponseStatus

VIEW_INTERNAL = "view_internal"
MANAGE_REFERENCE = "manage_reference"
MANAGE_EVALUATIONS = "manage_evaluations"
EDIT_RESPONSE = "edit_response"
SUBMIT_RESPONSE = "submit_response"
REVIEW_RESPONSE = "review_response"
UPDATE_ACTION = "update_action"
IMPORT_DOCUMENTS = "import_documents"
EXPORT_DOCUMENTS = "export_documents"

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
)
EDITABLE_STATUSES = (ResponseStatus.DRAFT, ResponseStatus.RETURNED)


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
            cached = cls(user=user, assignments=list(RoleAssignment.objects.filter(user=user)))
            user._followthrough_access = cached
        return cached

    @property
    def is_superuser(self) -> bool:
        return bool(self.user is not None and self.user.is_superuser)

    def has(self, role: str) -> bool:
        return any(a.role == role for a in self.assignments)

    @property
    def is_internal(self) -> bool:
        return self.is_superuser or bool(self.assignments)

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

    def action_scope(self) -> Q:
        """The key actions this user may update, as a filter on KeyAction."""
        if self.is_superuser:
            return Q()
        q = Q(pk__in=[])
        if self.focal_office_ids:
            q |= Q(evaluation__office_id__in=self.focal_office_ids)
        if self.focal_unit_ids:
            q |= Q(units__in=self.focal_unit_ids)
        return q


def _response_of(obj):
    """The management response an object belongs to."""
    from .models import Evaluation, KeyAction, ManagementResponse, Recommendation

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
    from .models import Evaluation, KeyAction, ManagementResponse, Office, Recommendation

    if isinstance(obj, Office):
        return obj
    if isinstance(obj, Evaluation):
        return obj.office
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
        return True  # what may be exported is what may be seen (queries decide)
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
    if permission == UPDATE_ACTION:
        if obj is None:
            return su or bool(access.focal_office_ids or access.focal_unit_ids)
        if obj.evaluation.management_response.status != ResponseStatus.APPROVED:
            return False  # progress is reported once the response is approved; drafts are edited
        if su or obj.evaluation.office_id in access.focal_office_ids:
            return True
        return any(u.pk in access.focal_unit_ids for u in obj.units.all())
    return False


def require(actor: Actor, permission: str, obj: object | None = None) -> None:
    if not can(actor, permission, obj):
        what = permission.replace("_", " ")
        raise PermissionDenied(f"{actor.name if isinstance(actor, Actor) else actor} may not {what}" + (f": {obj}" if obj else ""))
