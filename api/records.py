"""Records as the API gives them, and their ETags.

A record with a `version` (management responses, recommendations, key
actions: what writes change) has the ETag "<kind>-<id>-v<version>", which a
write names in If-Match; every other record has a hash of what it shows.
What a reader sees of a progress update follows the reading rules: who
reported it, and evidence marked internal, only for people with a role.
"""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from tracking.models.responses import is_overdue


def _iso(value):
    return value.isoformat() if value is not None else None


def _units(row) -> list[int]:
    """Unit ids: as a list loaded them for its rows (`unit_ids`), or read for one record."""
    if hasattr(row, "unit_ids"):
        return row.unit_ids
    return sorted(row.units.values_list("pk", flat=True))


def region(r) -> dict:
    return {"id": r.pk, "name": r.name, "slug": r.slug, "position": r.position}


def office(o) -> dict:
    return {"id": o.pk, "name": o.name, "slug": o.slug, "type": o.type.code, "region_id": o.region_id, "aliases": list(o.aliases)}


def unit(u) -> dict:
    return {"id": u.pk, "office_id": u.office_id, "name": u.name, "acronym": u.acronym, "auto_created": u.auto_created}


def plan(p) -> dict:
    return {"id": p.pk, "office_id": p.office_id, "start_year": p.start_year, "end_year": p.end_year}


def evaluation(e) -> dict:
    response = getattr(e, "management_response", None)
    return {
        "id": e.pk, "plan_id": e.plan_id, "office_id": e.office_id, "title": e.title, "type": e.type, "year": e.year,
        "status": e.status, "completion_date": _iso(e.completion_date), "source": e.source,
        "management_response_id": response.pk if response else None,
        "response_status": response.status if response else None,
    }


def response(r) -> dict:
    return {
        "id": r.pk, "evaluation_id": r.evaluation_id, "status": r.status, "overall_response": r.overall_response,
        "units": _units(r), "submitted_at": _iso(r.submitted_at),
        "approved_at": _iso(r.approved_at), "return_reason": r.return_reason, "version": r.version,
    }


def recommendation(r) -> dict:
    return {
        "id": r.pk, "evaluation_id": r.evaluation_id, "management_response_id": r.management_response_id,
        "position": r.position, "number": r.number, "text": r.text, "response_text": r.response_text,
        "description": r.description, "category": r.category,
        "adoption_by_management": r.adoption_by_management, "adoption_by_management_note": r.adoption_by_management_note,
        "adoption_validated": r.adoption_validated, "adoption_validated_note": r.adoption_validated_note, "terms": r.term_ids if hasattr(r, "term_ids") else list(r.tags.order_by("position", "id").values_list("term_id", flat=True)),
        "version": r.version,
    }


def key_action(a) -> dict:
    return {
        "id": a.pk, "recommendation_id": a.recommendation_id, "evaluation_id": a.evaluation_id, "position": a.position,
        "number": a.number, "text": a.text, "responsible": a.responsible, "units": _units(a),
        "deadline": _iso(a.deadline), "status": a.status, "comments": a.comments,
        "overdue": is_overdue(a.deadline, a.status), "first_deadline": _iso(a.first_deadline),
        "verification": a.verification, "completed_on": _iso(a.completed_on), "version": a.version,
    }


def progress_update(u, internal: bool) -> dict:
    sees_evidence = internal or not u.evidence_internal
    return {
        "id": u.pk, "key_action_id": u.key_action_id, "created_at": _iso(u.created_at), "status_before": u.status_before,
        "status_after": u.status_after, "comment": u.comment, "source": u.source,
        "author": u.author_name if internal else None,
        "evidence_url": (u.evidence_url or None) if sees_evidence else None,
        "evidence_file": reverse("web:evidence", args=[u.pk]) if sees_evidence and u.evidence_file else None,
        "evidence_internal": u.evidence_internal if internal else None,
        "reopen_reason": u.reopen_reason,
    }


def verification(v, internal: bool) -> dict:
    return {
        "id": v.pk, "key_action_id": v.key_action_id, "claim_id": v.claim_id, "decision": v.decision, "reason": v.reason,
        "created_at": _iso(v.created_at), "author": v.author_name if internal else None,
    }


def deadline_revision(r, internal: bool) -> dict:
    return {
        "id": r.pk, "key_action_id": r.key_action_id, "previous": _iso(r.previous), "deadline": _iso(r.deadline),
        "reason": r.reason, "created_at": _iso(r.created_at), "author": r.author_name if internal else None,
    }


def outcome(o, internal: bool) -> dict:
    return {
        "id": o.pk, "key_action_id": o.key_action_id, "question": o.question, "ask_on": _iso(o.ask_on),
        "created_at": _iso(o.created_at), "asked_by": o.asked_by_name if internal else None, "confirmed": o.confirmed,
        "answer": o.answer, "answered_at": _iso(o.answered_at), "answered_by": o.answered_by_name if internal else None,
        "version": o.version,
    }


def change(c) -> dict:
    return {
        "id": c.pk, "time": _iso(c.time), "user": c.user_name, "source": c.source, "action": c.action,
        "model": c.content_type.model, "object_id": c.object_id, "object_repr": c.object_repr,
        "evaluation_id": c.evaluation_id, "request_id": str(c.request_id) if c.request_id else None,
        "before": c.before, "after": c.after, "message": c.message,
    }


def etag(kind: str, data: dict) -> str:
    if "version" in data:
        return f'"{kind}-{data["id"]}-v{data["version"]}"'
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder).encode()).hexdigest()[:20]
    return f'"{kind}-{data["id"]}-{digest}"'


def version_in(if_match: str | None, kind: str, pk: int) -> int | None:
    """The version an If-Match names for this record; None when it names another record or none."""
    if not if_match:
        return None
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    prefix = f"{kind}-{pk}-v"
    if not value.startswith(prefix) or not value[len(prefix):].isdigit():
        return None
    return int(value[len(prefix):])
