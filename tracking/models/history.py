"""The audit trail: who changed what, when, with the values before and after.

Written by the services (never by signals), append-only: nothing in the app
updates or deletes a row, and the admin shows it read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CurrentTransaction(models.Func):
    """The current transaction's id on PostgreSQL (as a bigint); NULL elsewhere."""

    output_field = models.BigIntegerField()
    template = "NULL"
    arity = 0

    def as_postgresql(self, compiler, connection, **extra_context):
        return "pg_current_xact_id()::text::bigint", []


class ChangeRecord(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")
        # A change that was refused (someone else changed the record first):
        # kept so that no attempt is lost without a trace.
        REFUSED = "refused", _("Refused")

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    user_name = models.CharField(_("user"), max_length=150, blank=True)
    # One id for all the changes of one request or one import, to see them together.
    request_id = models.UUIDField(null=True, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    # Neither foreign key needs an index of its own: the (content_type, object_id)
    # and (evaluation, id) indexes serve them, and each index slows every write.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    object_id = models.PositiveBigIntegerField()
    object_repr = models.CharField(_("record"), max_length=300)
    # The evaluation the record belongs to, so its page can show all of them.
    evaluation = models.ForeignKey(
        "tracking.Evaluation", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="changes", db_constraint=False,
        db_index=False,
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    # The writing transaction's id (PostgreSQL: set by the database; SQLite, whose writes are serialised: none).
    # Ids are given at insert, not at commit: the changes feed goes by (txid, id), up to the oldest
    # transaction still open, so a change committed late by a long transaction is never skipped (api/v1.py).
    txid = models.BigIntegerField(null=True, blank=True, editable=False, db_default=CurrentTransaction())

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            # Each evaluation's newest record is one probe (the pages' data versions); its history page
            # sorts its few hundred records by time itself.
            models.Index(fields=["evaluation", "id"], name="change_evaluation_newest"),
            models.Index(fields=["txid", "id"], name="tracking_change_txid_id"),
        ]
        verbose_name = _("change record")

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.user_name or 'system'} {self.action} {self.object_repr}"

    def changed_fields(self) -> list[tuple[str, object, object]]:
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
