"""Sending the reminders of a day: claim each one (a unique row), then send what is claimed and unsent.

    run(on)         plan, claim, send; returns what it did
    run(on, dry_run=True)   plan only: what would be sent, to whom, why

Once per address, kind and period, across runs, machines and crashes:

1. claim: a person's planned reminders are rendered as one digest (in the
   person's language) and inserted, in one transaction, as a `Message` with a
   `Reminder` row each (unique per address, kind and period), its key actions
   and escalations. A second run, here or on another server, finds the rows
   there and claims nothing more; one that loses the race rolls back.
2. send: every message pending, failed (fewer than REMINDER_MAX_ATTEMPTS
   tries), or left "being sent" by a crashed run for longer than the lease,
   is taken by a conditional UPDATE (one run wins it) and sent on its own; a
   refusal is recorded on that message, which the next run tries again, and
   the others go on.

A run that crashes between the SMTP server's acceptance and the row's update
leaves the message "being sent"; it goes again after the lease: a crash can
repeat one message, never lose it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core import mail, signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Escalation, Kind, Message, Reminder
from .plan import Planned, absolute, claimed_keys, plan, reminder_today

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "reminders.unsubscribe"


def unsubscribe_token(address: str, kind: str = "all") -> str:
    """A signed (address, kind) for the one-click unsubscribe link: no sign-in, no expiry, not guessable."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"a": address.strip().lower(), "k": kind}, compress=True)


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """(address, kind) of a token; signing.BadSignature if it was not made here."""
    data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or data.get("k") not in ("all", *Kind.values):
        raise signing.BadSignature("not an unsubscribe token")
    return data["a"], data["k"]


def unsubscribe_url(address: str, kind: str) -> str:
    return absolute(reverse("web:unsubscribe", args=[unsubscribe_token(address, kind)]))


SUBJECTS = {
    Kind.UNIT_DIGEST: lambda c: _("Key actions: %(overdue)d overdue, %(due)d due soon") % c,
    Kind.OFFICE_DIGEST: lambda c: _("Your office: %(responses)d responses to draft or submit, %(overdue)d overdue key actions") % c,
    Kind.WEEKLY_SUMMARY: lambda c: _("Weekly summary: %(new)d newly overdue, %(awaiting)d responses awaiting approval") % c
    + (_(", %(verify)d completions awaiting verification") % c if c.get("verify") else ""),
    Kind.ESCALATION: lambda c: _("Escalation: %(actions)d key actions long overdue") % c,
    Kind.QUARTERLY_CALL: lambda c: _("Quarterly call for progress: %(open)d open key actions") % c,
}

INTROS = {
    Kind.UNIT_DIGEST: lambda: _("These key actions of your unit are overdue or due soon. Each link opens its progress form."),
    Kind.OFFICE_DIGEST: lambda: _("What your office has to do in followthrough."),
    Kind.WEEKLY_SUMMARY: lambda: _("The week in followthrough, for the offices you review."),
    Kind.ESCALATION: lambda: _("These key actions have stayed overdue. You are told once per action and level."),
    Kind.QUARTERLY_CALL: lambda: _("It is time to report progress on your open key actions: one link each to update it."),
}


def render(parts: list[Planned]) -> dict[str, str]:
    """Subject, text and HTML of one person's digest (their reminders of this run), in their language."""
    first = parts[0]
    with translation.override(first.language):
        context = {
            "parts": [
                {
                    "kind": p.kind,
                    "title": Kind(p.kind).label,
                    "intro": INTROS[p.kind](),
                    "sections": [s for s in p.sections if s["items"]],
                    "reason": p.reason,
                    "unsubscribe_url": unsubscribe_url(p.address, p.kind),
                }
                for p in parts
            ],
            "preferences_url": absolute(reverse("web:notifications")),
            "unsubscribe_all_url": unsubscribe_url(first.address, "all"),
            "language": first.language,
        }
        subjects = [SUBJECTS[p.kind](p.counts) for p in parts]
        return {
            "subject": (subjects[0] if len(subjects) == 1 else " · ".join(subjects))[:300],
            "text": render_to_string("reminders/mail/reminder.txt", context),
            "html": render_to_string("reminders/mail/reminder.html", context),
        }


def claim(parts: list[Planned], on: dt.date) -> Message | None:
    """One person's reminders of this run, claimed (a unique row each) and put in one message, in one transaction.

    None if another run claimed any of them first: that run sends them (and what it did not
    claim is planned again by the next run).
    """
    content = render(parts)
    first = parts[0]
    try:
        with transaction.atomic():
            message = Message.objects.create(
                address=first.address, user_id=first.user_id, day=on, language=first.language,
                reason="; ".join(dict.fromkeys(p.reason for p in parts))[:500],
                unsubscribes=parts[0].kind if len(parts) == 1 else "all", **content,
            )
            Reminder.objects.bulk_create(Reminder(address=p.address, kind=p.kind, period=p.period, message=message) for p in parts)
            message.actions.set(sorted({pk for p in parts for pk in p.action_ids}))
            Escalation.objects.bulk_create(
                Escalation(key_action_id=action_id, level=level, address=p.address, message=message)
                for p in parts
                for action_id, level in p.escalations
            )
    except IntegrityError:
        return None
    return message


def _to_send(now: dt.datetime) -> Q:
    lease = now - dt.timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS)
    return Q(status__in=[Message.Status.PENDING, Message.Status.FAILED], attempts__lt=settings.REMINDER_MAX_ATTEMPTS) | Q(
        status=Message.Status.SENDING, claimed_at__lt=lease
    )


def email_of(message: Message) -> mail.EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(message.address, message.unsubscribes)
    email = mail.EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": message.language,
            "Auto-Submitted": "auto-generated",
        },
    )
    email.attach_alternative(message.html, "text/html")
    return email


def waiting() -> list[Message]:
    """Messages of earlier runs the next run sends: failed ones (to be tried again), or left unsent by a crash."""
    return list(Message.objects.filter(_to_send(timezone.now())).order_by("created_at", "pk"))


@dataclass
class Result:
    planned: list[Planned] = field(default_factory=list)
    already: int = 0  # planned, but claimed by an earlier (or a parallel) run
    claimed: int = 0
    sent: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"planned": len(self.planned), "already": self.already, "claimed": self.claimed,
                "sent": len(self.sent), "failed": len(self.failed)}


def send_claimed(run_id: str, result: Result) -> None:
    """Send every message waiting to be sent (this run's, and earlier runs' failures), each on its own."""
    now = timezone.now()
    candidates = list(Message.objects.filter(_to_send(now)).order_by("created_at", "pk").values_list("pk", flat=True))
    connection = None
    for pk in candidates:
        # One run wins each message: the UPDATE re-checks the condition on the row it changes.
        taken = Message.objects.filter(pk=pk).filter(_to_send(now)).update(
            status=Message.Status.SENDING, claimed_by=run_id, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not taken:
            continue
        message = Message.objects.get(pk=pk)
        try:
            if connection is None:
                connection = mail.get_connection(fail_silently=False)
            connection.send_messages([email_of(message)])
        except Exception as exc:  # a refused recipient, a lost connection: this message only
            error = f"{type(exc).__name__}: {exc}"[:2000]
            Message.objects.filter(pk=pk, claimed_by=run_id).update(status=Message.Status.FAILED, error=error)
            result.failed.append((pk, error))
            log.warning("reminder %s to %s not sent: %s", pk, message.address, error)
            if connection is not None:
                try:
                    connection.close()
                except Exception:  # noqa: BLE001 (already broken)
                    pass
                connection = None
            continue
        Message.objects.filter(pk=pk, claimed_by=run_id).update(status=Message.Status.SENT, sent_at=timezone.now(), error="")
        result.sent.append(pk)
    if connection is not None:
        connection.close()


def run(on: dt.date | None = None, dry_run: bool = False) -> Result:
    """The reminders of the day `on` (REMINDER_TODAY or today when not given): one mail per person."""
    on = on or reminder_today()
    result = Result(planned=plan(on))
    already = claimed_keys(result.planned)
    result.already = sum(1 for p in result.planned if p.key in already)
    if dry_run:
        return result
    run_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    by_person: dict[str, list[Planned]] = {}
    for p in result.planned:
        if p.key not in already:
            by_person.setdefault(p.address, []).append(p)
    for parts in by_person.values():
        if claim(parts, on) is None:
            result.already += len(parts)
        else:
            result.claimed += len(parts)
    send_claimed(run_id, result)
    return result
