"""Reminders: every message planned or sent, who asked for what, and the head of each office.

A `Reminder` row is the claim on one reminder: unique per address, kind and
period, it is inserted before anything is sent, so two runs (on one machine
or two) never both send it. The reminders a run claims for one person go in
one `Message` (one mail per person per run), which keeps what was sent
(subject, text, HTML), when, how many tries, and the last error. A failed
message is tried again by the next run; one failure never stops the others.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracking.models import KeyAction, Office


class Kind(models.TextChoices):
    UNIT_DIGEST = "unit_digest", _("Unit focal point digest")
    OFFICE_DIGEST = "office_digest", _("Office focal point digest")
    WEEKLY_SUMMARY = "weekly_summary", _("Evaluation office weekly summary")
    ESCALATION = "escalation", _("Escalation of overdue key actions")
    QUARTERLY_CALL = "quarterly_call", _("Quarterly call for progress")


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Once a week")


class Preference(models.Model):
    """What one address receives, and how often (a person without a row receives everything, daily)."""

    # By address, not account: an office head may have no account, and an unsubscribe link names an address.
    address = models.EmailField(_("e-mail address"), unique=True)
    unit_digest = models.BooleanField(_("unit focal point digest"), default=True)
    office_digest = models.BooleanField(_("office focal point digest"), default=True)
    weekly_summary = models.BooleanField(_("evaluation office weekly summary"), default=True)
    escalation = models.BooleanField(_("escalations of overdue key actions"), default=True)
    quarterly_call = models.BooleanField(_("quarterly call for progress"), default=True)
    frequency = models.CharField(
        _("digests"), max_length=10, choices=Frequency.choices, default=Frequency.DAILY,
        help_text=_("How often the digests come (escalations and calls come when due)."),
    )
    language = models.CharField(_("language"), max_length=10, blank=True, help_text=_("Empty: the site's language."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reminder preference")

    def __str__(self) -> str:
        return self.address

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))


class OfficeHead(models.Model):
    """Whom the last escalation level reaches for an office: a person with an account, or an address."""

    office = models.OneToOneField(Office, on_delete=models.CASCADE, related_name="head", verbose_name=_("office"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("person")
    )
    address = models.EmailField(_("e-mail address"), blank=True, help_text=_("Used when no person is chosen."))

    class Meta:
        verbose_name = _("office head")

    def __str__(self) -> str:
        return f"{self.office}: {self.email or '—'}"

    @property
    def email(self) -> str:
        return (self.user.email if self.user and self.user.email else self.address).strip().lower()


class Message(models.Model):
    """One mail to one person in one run: the digest of every reminder that run claimed for them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (tried again on the next run)")

    address = models.EmailField(_("to"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reminders"
    )
    day = models.DateField(_("for the day"))
    reason = models.CharField(_("why"), max_length=500)
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"))
    # "all", or the one kind it carries: what its List-Unsubscribe link stops.
    unsubscribes = models.CharField(max_length=20, default="all")
    actions = models.ManyToManyField(KeyAction, blank=True, related_name="reminders", verbose_name=_("key actions"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("planned on"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(_("sent on"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["address", "created_at"], name="reminder_message_address")]
        verbose_name = _("reminder message")

    def __str__(self) -> str:
        return f"Reminders to {self.address} ({self.day})"

    @property
    def kind_labels(self) -> list[str]:
        return [Kind(r.kind).label for r in self.reminders.all()]


class Reminder(models.Model):
    """The claim on one reminder: an address, a kind, a period. Inserted before sending, so it goes once."""

    address = models.EmailField(_("to"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Daily digests: 2026-12-02; weekly: 2026-W49; the quarterly call: 2026-Q4; escalations: the day they were found.
    period = models.CharField(_("period"), max_length=20)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reminders")

    class Meta:
        ordering = ["message", "kind"]
        constraints = [models.UniqueConstraint(fields=["address", "kind", "period"], name="reminder_once_per_period")]
        verbose_name = _("reminder")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.address} ({self.period})"


class Escalation(models.Model):
    """One key action escalated at one level to one address: each is sent once."""

    key_action = models.ForeignKey(KeyAction, on_delete=models.CASCADE, related_name="escalations", db_index=False)
    level = models.PositiveSmallIntegerField()
    address = models.EmailField()
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="escalations")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key_action", "level", "address"], name="escalation_once_per_level"),
        ]
