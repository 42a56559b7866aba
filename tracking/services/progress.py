"""Progress updates on key actions: a new status, a dated comment, optional evidence.

An update is refused, not merged, when the key action changed since the
person opened it (optimistic locking on `KeyAction.version`); the refused
attempt is written to the history so nothing typed is lost without a trace.
"""

from __future__ import annotations

import os
import re

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from .. import permissions, text
from ..actor import Actor
from ..models import ActionUpdate, ChangeRecord, KeyAction
from ..models.responses import ActionStatus
from . import history, locking, tallies, verification

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
MAX_EVIDENCE_LINK = ActionUpdate._meta.get_field("evidence_url").max_length
# "name:" at the start of a link: a scheme, unless what follows is a port ("example.org:8080/x").
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?!\d+(?:[/?#]|$))")
EVIDENCE_EXTENSIONS = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp",
                       ".txt", ".csv", ".png", ".jpg", ".jpeg", ".gif", ".zip"}


def validate_progress(
    status: str, comment: str, evidence_file: UploadedFile | None = None, evidence_url: str = ""
) -> None:
    """The rules of a progress update, as field errors."""
    errors: dict[str, list[str]] = {}
    if status not in ActionStatus.values:
        errors["status"] = [f"Choose one of: {', '.join(ActionStatus.values)}."]
    comment = comment.strip()
    if status == ActionStatus.COMPLETED and not comment:
        errors["comment"] = ["Say what was done: a Completed action needs a comment."]
    if status == ActionStatus.COMPLETED and evidence_file is None and not evidence_url.strip():
        # Completion is verified by the evaluation office, on this evidence (services/verification.py).
        errors["evidence_url"] = ["Attach the evidence of completion (a file or a link): the evaluation office verifies it."]
    if status == ActionStatus.NO_LONGER_APPLICABLE and not comment:
        errors["comment"] = ["Give the reason the action no longer applies."]
    message = text.problem(comment, label="comment")
    if message:
        errors["comment"] = [message]
    if evidence_url:
        try:
            evidence_link(evidence_url)
        except ValidationError as exc:
            errors["evidence_url"] = exc.messages
    if evidence_file is not None:
        ext = os.path.splitext(evidence_file.name)[1].lower()
        if ext not in EVIDENCE_EXTENSIONS:
            errors["evidence_file"] = [f"Files of type {ext or '(none)'} are not accepted as evidence."]
        elif evidence_file.size > MAX_EVIDENCE_BYTES:
            errors["evidence_file"] = [f"The file is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB."]
    if errors:
        raise ValidationError(errors)


def evidence_link(value: str) -> str:
    """An evidence link as stored: a web address (http or https), completed with https:// when typed without.

    "www.example.org/report.pdf" and "example.org" become https:// links; a
    link with any other scheme (javascript:, data:, vbscript:, file:, mailto:...)
    is refused: evidence links are shown as links, and only web addresses may be.
    """
    link = value.strip()
    if not link:
        return ""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in link):
        # Browsers drop tabs and line breaks inside a link ("java\tscript:"): none is accepted.
        raise ValidationError("A link cannot contain spaces, line breaks or control characters.")
    scheme = _SCHEME.match(link)
    if link.startswith("//"):
        link = "https:" + link
    elif scheme is None:
        link = "https://" + link
    elif scheme.group(1).lower() not in ("http", "https"):
        raise ValidationError(
            f"Only web addresses (http:// or https://) can be evidence links, not “{scheme.group(1)}:” links."
        )
    if len(link) > MAX_EVIDENCE_LINK:
        raise ValidationError(f"The link is longer than {MAX_EVIDENCE_LINK} characters: attach the file instead.")
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        raise ValidationError("Enter a web address, such as https://www.example.org/report.pdf.") from None
    return link


def _own_name(upload: UploadedFile | None) -> str:
    """The name the file had on the person's computer (no folders, no control characters), at most 255 characters."""
    if upload is None or not upload.name:
        return ""
    name = upload.name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable()).strip()[:255]


def record_progress(
    actor: Actor,
    action: KeyAction,
    *,
    version: int,
    status: str,
    comment: str,
    evidence_file: UploadedFile | None = None,
    evidence_url: str = "",
    evidence_internal: bool = False,
    reopen_reason: str = "",
) -> ActionUpdate:
    """Record a progress update; the key action takes its new status.

    Evidence on an approved response is public, unless `evidence_internal`:
    then only people with a role see it (tracking.permissions, EVIDENCE).

    Moving a Completed action (verified or not) to another status reopens it:
    that needs `reopen_reason`, kept on the update and in the history.

    `version` is the key action's version the person saw. Raises
    PermissionDenied, ValidationError or ConflictError; writes nothing then
    (except the record of a refused attempt).
    """
    validate_progress(status, comment, evidence_file, evidence_url)
    comment = comment.strip()
    evidence_url = evidence_link(evidence_url)
    reopen_reason = reopen_reason.strip()
    message = text.problem(reopen_reason, label="reason")
    if message:
        raise ValidationError({"reopen_reason": [message]})
    attempted = {
        "status": status,
        "comment": comment,
        "evidence_url": evidence_url,
        **({"evidence_internal": True} if evidence_internal else {}),
        **({"reopen_reason": reopen_reason} if reopen_reason else {}),
        "based_on_version": version,
    }
    with locking.refusals_kept(actor, attempted, "progress update refused: the key action had changed"), transaction.atomic():
        current = locking.locked(actor, action, permissions.UPDATE_ACTION, version=version)
        reopening = current.status == ActionStatus.COMPLETED and status != ActionStatus.COMPLETED
        if reopening and not reopen_reason:
            # Checked on the action as it is (under the lock): the form may have been opened before it was completed.
            raise ValidationError(
                {"reopen_reason": ["Give the reason this Completed action is opened again: it is kept on its timeline."]}
            )
        now = timezone.now()
        state = verification.state_after_progress(current.verification, status)
        completed_on = verification.completed_on_after_progress(current, status, timezone.localdate(now))
        # The counts behind the figures follow the new status, verification and completion date (tracking.services.tallies).
        counted = (current.status, current.is_verified, current.completed_on) != (status, tallies.is_verified(status, state), completed_on)
        with tallies.kept_in_step(actions=[current.pk] if counted else []):
            locking.bump(current, version, status=status, verification=state, completed_on=completed_on, updated_at=now)
        update = ActionUpdate.objects.create(
            key_action=current,
            created_at=now,
            status_before=current.status,
            status_after=status,
            comment=comment,
            reopen_reason=reopen_reason if reopening else "",
            author=actor.user if actor.is_authenticated else None,
            author_name=actor.name,
            source=actor.source if actor.source in ActionUpdate.Source.values else ActionUpdate.Source.WEB,
            evidence_file=evidence_file or "",
            evidence_name=_own_name(evidence_file),
            evidence_url=evidence_url,
            evidence_internal=bool(evidence_internal and (evidence_file or evidence_url)),
        )
        records = [
            history.change(
                actor,
                ChangeRecord.Action.CREATE,
                update,
                after=history.snapshot(update),
                evaluation_id=current.evaluation_id,
                message=f"progress update on key action {current.code}",
            )
        ]
        old, new = history.diff(
            {"status": current.status, "verification": current.verification, "completed_on": _day(current.completed_on)},
            {"status": status, "verification": state, "completed_on": _day(completed_on)},
        )
        if new:
            records.append(
                history.change(
                    actor, ChangeRecord.Action.UPDATE, current, before=old, after=new, evaluation_id=current.evaluation_id
                )
            )
        history.write(records)
        return update


# Kept here too: older callers import it from this module.
refused = locking.refused


def _day(day) -> str | None:
    return day.isoformat() if day else None
