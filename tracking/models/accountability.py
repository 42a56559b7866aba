"""Verified completion: the evaluation office checks a unit's claim that a key action is Completed.

The verification state is a field of its own on the key action, beside the
status (not a new status value): statuses stay the four GATE prints, so the
GATE pages, imports and exports keep working, and "Completed" still means
what the unit reported. A completion counts as *verified* only once the
evaluation office accepted it; any other Completed action is *self-reported*.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VerificationState(models.TextChoices):
    """Where a key action stands in verification (`KeyAction.verification`)."""

    # Never claimed Completed here (or imported as Completed: self-reported, never checked).
    NONE = "", _("Not verified")
    AWAITING = "awaiting", _("Completed (awaiting verification)")
    VERIFIED = "verified", _("Completed (verified)")
    # The evaluation office sent the completion back: the action is open again.
    SENT_BACK = "sent_back", _("Reopened (completion sent back)")


class Verification(models.Model):
    """One decision of the evaluation office on a claimed completion: accepted, or sent back with a reason."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted: completion verified")
        SENT_BACK = "sent_back", _("Sent back: reopened")

    key_action = models.ForeignKey("tracking.KeyAction", on_delete=models.CASCADE, related_name="verifications")
    # The progress update that claimed completion (with its evidence).
    claim = models.ForeignKey(
        "tracking.ActionUpdate", on_delete=models.SET_NULL, null=True, blank=True, related_name="verifications"
    )
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("decided on"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="verifications"
    )
    author_name = models.CharField(_("verified by"), max_length=150, blank=True)

    class Meta:
        ordering = ["key_action", "created_at", "id"]
        verbose_name = _("verification")

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.created_at:%Y-%m-%d})"


class DeadlineRevision(models.Model):
    """One change of a key action's deadline on an approved response: from what, to what, why, by whom, when.

    The first deadline is kept on the key action (`KeyAction.first_deadline`) and
    timeliness is measured against it, so moving a deadline never hides lateness.
    """

    key_action = models.ForeignKey("tracking.KeyAction", on_delete=models.CASCADE, related_name="deadline_revisions")
    previous = models.DateField(_("previous deadline"), null=True, blank=True)
    deadline = models.DateField(_("new deadline"))
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("revised on"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="deadline_revisions"
    )
    author_name = models.CharField(_("revised by"), max_length=150, blank=True)

    class Meta:
        ordering = ["key_action", "created_at", "id"]
        verbose_name = _("deadline revision")

    def __str__(self) -> str:
        before = self.previous.strftime("%Y/%m") if self.previous else "—"
        return f"Deadline {before} → {self.deadline:%Y/%m} ({self.created_at:%Y-%m-%d})"


DEFAULT_OUTCOME_QUESTION = _("Did it change what the evaluation found?")


class OutcomeQuestion(models.Model):
    """A later question on a completed key action, scheduled by the evaluation office and answered by the unit:
    did completing it change what the evaluation found? (tracking/services/outcomes.py)"""

    key_action = models.OneToOneField("tracking.KeyAction", on_delete=models.CASCADE, related_name="outcome")
    question = models.TextField(_("question"))
    ask_on = models.DateField(_("asked from"))
    created_at = models.DateTimeField(_("scheduled on"), default=timezone.now)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    asked_by_name = models.CharField(_("scheduled by"), max_length=150, blank=True)
    # None: not answered yet.
    confirmed = models.BooleanField(_("outcome confirmed"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered on"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    answered_by_name = models.CharField(_("answered by"), max_length=150, blank=True)
    # Raised on every change (scheduled again, answered): a change based on an older version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("outcome question")

    def __str__(self) -> str:
        return f"Outcome question on key action {self.key_action_id} ({self.ask_on:%Y-%m-%d})"

    @property
    def answered(self) -> bool:
        return self.confirmed is not None
