"""Management responses, recommendations, key actions and their progress updates."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case, Prefetch, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .accountability import VerificationState
from .evaluations import Evaluation
from .reference import Term, Unit


class ActionStatus(models.TextChoices):
    """The four statuses a key action can be given today.

    Statuses are stored as GATE prints them, so older values a page shows
    (Ongoing, Over due, ...) are kept as written rather than guessed into one
    of these; anything but Completed and No Longer Applicable counts as open.
    """

    NOT_INITIATED = "Not Initiated", _("Not Initiated")
    INITIATED = "Initiated", _("Initiated")
    COMPLETED = "Completed", _("Completed")
    NO_LONGER_APPLICABLE = "No Longer Applicable", _("No Longer Applicable")


CLOSED_STATUSES = (ActionStatus.COMPLETED.value, ActionStatus.NO_LONGER_APPLICABLE.value)


class ResponseStatus(models.TextChoices):
    DRAFT = "Draft", _("Draft")
    SUBMITTED = "Submitted", _("Submitted")
    RETURNED = "Returned", _("Returned for revision")
    APPROVED = "Approved", _("Approved")


class Category(models.TextChoices):
    ACCEPTED = "Accepted", _("Accepted")
    PARTIALLY_ACCEPTED = "Partially Accepted", _("Partially Accepted")
    REJECTED = "Rejected", _("Rejected")
    NOT_APPLICABLE = "Not applicable", _("Not applicable")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def month_label(day: dt.date | None) -> str:
    """A deadline as lists show it ("2026/10"; none: empty)."""
    return day.strftime("%Y/%m") if day else ""


def today() -> dt.date:
    return timezone.localdate()


# --- overdue and due: the one home of both rules ------------------------------------------------
#
# Each rule is written twice, side by side: as a filter (for lists and figures
# computed by the database) and as a test on a loaded key action (for a row on
# a page). tests/tracking/test_overdue.py holds them to the same answers;
# everything else (querysets, figures, lists, exports, templates) calls these.


def overdue_q(on: dt.date | None = None, prefix: str = "") -> Q:
    """Overdue, as a filter: the deadline month has passed and the status is neither Completed nor No Longer Applicable.

    `prefix` reaches the key action from another model (e.g. "key_actions__").
    """
    return Q(**{f"{prefix}deadline__lt": month_start(on or today())}) & ~Q(**{f"{prefix}status__in": CLOSED_STATUSES})


def is_overdue(deadline: dt.date | None, status: str, on: dt.date | None = None) -> bool:
    """Overdue, as a test (the same rule as `overdue_q`)."""
    return deadline is not None and status not in CLOSED_STATUSES and deadline < month_start(on or today())


def _first_of_next_month(on: dt.date | None = None) -> dt.date:
    return (month_start(on or today()) + dt.timedelta(days=32)).replace(day=1)


def due_q(on: dt.date | None = None, prefix: str = "") -> Q:
    """Due, as a filter: the deadline month has come (this month or earlier); No Longer Applicable left out."""
    return Q(**{f"{prefix}deadline__lt": _first_of_next_month(on)}) & ~Q(
        **{f"{prefix}status": ActionStatus.NO_LONGER_APPLICABLE.value}
    )


def first_deadline_q(lookup: str, value, prefix: str = "") -> Q:
    """A filter on the first deadline: `first_deadline`, or the deadline when it was never revised."""
    return Q(**{f"{prefix}first_deadline__{lookup}": value}) | Q(
        **{f"{prefix}first_deadline__isnull": True, f"{prefix}deadline__{lookup}": value}
    )


class ManagementResponse(models.Model):
    """The office's answer to one evaluation: its status, units and overall response."""

    evaluation = models.OneToOneField(Evaluation, on_delete=models.CASCADE, related_name="management_response")
    # Indexed with the evaluation (Meta): the reading rules' "approved" reads the evaluations from the index alone.
    status = models.CharField(_("status"), max_length=30, default=ResponseStatus.DRAFT)
    units = models.ManyToManyField(Unit, blank=True, related_name="coordinated_responses", verbose_name=_("coordinating units"))
    units_as_written = models.JSONField(_("coordinating units as written"), default=list, blank=True)
    overall_response = models.TextField(_("overall response"), blank=True)
    submitted_at = models.DateTimeField(_("submitted on"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved on"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    # What the last import took from its page, field by field (the baseline a re-import compares with).
    imported = models.JSONField(default=dict, blank=True, editable=False)
    # Raised on every change; a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("management response")
        # Almost every public query joins "its response is approved": the evaluations of approved responses,
        # from the index alone (the rows, with their texts, are wide). At L, counting the evaluations the public
        # reads: 22 -> 11 ms on PostgreSQL, 8 -> 3 ms on SQLite.
        indexes = [models.Index(fields=["status", "evaluation"], name="response_status_evaluation")]

    def __str__(self) -> str:
        return f"Management response to {self.evaluation}"

    @property
    def is_approved(self) -> bool:
        return self.status == ResponseStatus.APPROVED


class Recommendation(models.Model):
    # No index of its own: the unique (management_response, position) index serves it.
    management_response = models.ForeignKey(
        ManagementResponse, on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    # Denormalised from the response so lists and figures need one join less.
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="recommendations")
    position = models.PositiveIntegerField(_("position"))
    number = models.CharField(_("number"), max_length=20)
    text = models.TextField(_("recommendation"))
    response_text = models.TextField(_("management response"), blank=True)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=40, blank=True, db_index=True)
    # The Thematic Area line exactly as the page gives it (one value or a list).
    thematic_area_as_written = models.TextField(_("thematic area as written"), blank=True)
    terms = models.ManyToManyField(Term, through="RecommendationTerm", related_name="recommendations", blank=True)
    # The label as the page wrote it ("Evaluation recommendation 1: "), written back on export.
    label = models.CharField(_("label as written"), max_length=80, blank=True)
    # No longer on its imported page (kept with everything in it, see the importer).
    archived_at = models.DateTimeField(_("archived on"), null=True, blank=True)
    # What the last import took from its page, field by field (the baseline a re-import compares with).
    imported = models.JSONField(default=dict, blank=True, editable=False)
    # How far it was adopted, on settings.ADOPTION_SCALE: by management, and as validated by the
    # evaluation office, side by side (tracking/services/ratings.py). Database defaults: the importer
    # inserts recommendations with plain SQL, without naming them.
    adoption_by_management = models.CharField(_("adoption (management)"), max_length=40, blank=True, default="", db_default="")
    adoption_by_management_note = models.TextField(_("adoption note (management)"), blank=True, default="", db_default="")
    adoption_validated = models.CharField(_("adoption (evaluation office)"), max_length=40, blank=True, default="", db_default="")
    adoption_validated_note = models.TextField(_("adoption note (evaluation office)"), blank=True, default="", db_default="")
    # A partner's copy of a joint evaluation's shared recommendation: the lead's recommendation. Text and
    # number are kept in step with it (tracking/services/joint.py); category and key actions are the partner's.
    shared_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="shared_copies",
        verbose_name=_("shared recommendation"),
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["management_response", "position"]
        constraints = [
            models.UniqueConstraint(fields=["management_response", "position"], name="recommendation_position_unique"),
        ]
        # The home page counts the recommendations of the evaluations a reader reads, those not copied from
        # another: from this index alone (reading each row of 75,000 from the table cost 20-60 ms at L).
        indexes = [models.Index(fields=["evaluation", "shared_from"], name="recommendation_counted")]
        verbose_name = _("recommendation")

    def __str__(self) -> str:
        return f"Recommendation {self.number}"

    def terms_of(self, kind: str) -> list[Term]:
        """Tags of one vocabulary, in the order the response gives them (uses prefetched rows)."""
        return [rt.term for rt in self.tags.all() if rt.term.kind == kind]

    @property
    def thematic_areas(self) -> list[Term]:
        return self.terms_of(Term.Kind.THEMATIC_AREA)

    @property
    def operating_principles(self) -> list[Term]:
        return self.terms_of(Term.Kind.OPERATING_PRINCIPLE)

    @property
    def organizational_priorities(self) -> list[Term]:
        return self.terms_of(Term.Kind.ORGANIZATIONAL_PRIORITY)

    @property
    def uneg_criteria(self) -> list[Term]:
        return self.terms_of(Term.Kind.UNEG_CRITERION)


class RecommendationTerm(models.Model):
    """A recommendation's tag, in order (the page lists them in a meaningful order)."""

    # No index of its own: the unique (recommendation, term) index serves it.
    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="tags", db_index=False)
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="tagged")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["recommendation", "position"]
        constraints = [models.UniqueConstraint(fields=["recommendation", "term"], name="recommendation_term_unique")]


class KeyActionQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=CLOSED_STATUSES)

    def overdue(self, on: dt.date | None = None):
        """Deadline month passed and neither Completed nor No Longer Applicable (`overdue_q`)."""
        return self.filter(overdue_q(on))

    def due(self, on: dt.date | None = None):
        """The deadline month has come (this month or earlier); No Longer Applicable left out (`due_q`)."""
        return self.filter(due_q(on))

    def with_overdue(self, on: dt.date | None = None):
        """Each action flagged `is_overdue_flag` (`overdue_q`), e.g. to list overdue ones first."""
        return self.annotate(
            is_overdue_flag=Case(When(overdue_q(on), then=Value(True)), default=Value(False), output_field=models.BooleanField())
        )


class KeyAction(models.Model):
    # No index of its own: the unique (recommendation, position) index serves it.
    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="key_actions", db_index=False)
    # Denormalised: lists, filters and figures over actions start here.
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="key_actions")
    position = models.PositiveIntegerField(_("position"))
    number = models.CharField(_("number"), max_length=20)
    text = models.TextField(_("key action"))
    responsible = models.TextField(_("responsible (as written)"), blank=True)
    units = models.ManyToManyField(Unit, blank=True, related_name="key_actions", verbose_name=_("responsible units"))
    # Month precision: stored as the first day of the month.
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    # The deadline before any revision, kept for ever (tracking/services/deadlines.py); empty: never
    # revised, the deadline is the first. Timeliness is measured against it (`first_deadline_q`).
    first_deadline = models.DateField(_("first deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=40, default=ActionStatus.NOT_INITIATED)
    # The day it was last marked Completed (empty when open, or when an import did not say).
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    comments = models.TextField(_("comments"), blank=True)
    # Beside the status, not a status value (tracking/models/accountability.py).
    # A database default too: the importer inserts key actions with plain SQL, without naming it.
    verification = models.CharField(
        _("verification"), max_length=20, blank=True, default="", db_default="", choices=VerificationState.choices,
        db_index=True,
    )
    # How sure the importer was of the action/responsible split (None: typed in).
    split_confidence = models.FloatField(null=True, blank=True)
    # The number as the page wrote it ("1)", "1.1."), written back on export.
    label = models.CharField(_("number as written"), max_length=20, blank=True)
    # No longer on its imported page (kept with its progress, see the importer).
    archived_at = models.DateTimeField(_("archived on"), null=True, blank=True)
    # What the last import took from its page, field by field (the baseline a re-import compares with).
    imported = models.JSONField(default=dict, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = KeyActionQuerySet.as_manager()

    class Meta:
        ordering = ["recommendation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["recommendation", "position"], name="key_action_position_unique"),
        ]
        indexes = [
            # The key-action list's order within a status (deadline, then id) and the evaluation each row's
            # reading rules join on: PostgreSQL walks it alone, not the table, once VACUUM has marked the
            # table's pages all visible (tracking/services/statistics.py) (a list by status and evaluation
            # year at L: 150 -> 50 ms; it read 63,000 table rows to keep 51).
            models.Index(fields=["status", "deadline", "id", "evaluation"], name="key_action_list_order"),
            models.Index(fields=["deadline"]),
            # A recommendation's key actions with what their rates read: the recurring themes' rates count
            # the key actions of 25,000 recommendations at L from this index alone, not from the table's rows
            # (623 -> 542 ms for the page, on a slow machine).
            models.Index(fields=["recommendation", "status", "deadline"], name="key_action_by_recommendation"),
            # Every figure counted from the key actions reads them by evaluation (who may read them is decided
            # by the evaluation and its response) and only these columns: from this index alone, not the
            # rows with their texts (the dashboard's pass over 195,000 actions at L: 195 ms -> 135 ms). The id
            # too, for PostgreSQL (SQLite's indexes hold the rowid): a list's page sorted from an evaluation's
            # actions reads their ids here, not from the table (year and status at L: 103 -> 8 ms).
            models.Index(
                fields=["evaluation", "status", "deadline", "first_deadline", "completed_on", "verification", "recommendation"],
                include=["id"],
                name="key_action_figures",
            ),
        ]
        verbose_name = _("key action")

    def __str__(self) -> str:
        # Named as people name it ("Key action 3.2"): in the history, messages and the admin.
        return f"Key action {self.code}"

    @property
    def code(self) -> str:
        """The number people use: with its recommendation's ("3.2"), unless it already carries one ("3.2", "1.a.")."""
        return action_code(self.recommendation.number, self.number)

    @property
    def long_name(self) -> str:
        """"Evaluation title — 3.2": the name in lists and titles that cross evaluations."""
        return f"{self.evaluation} — {self.code}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def is_overdue(self, on: dt.date | None = None) -> bool:
        return is_overdue(self.deadline, self.status, on)

    @property
    def is_verified(self) -> bool:
        return self.status == ActionStatus.COMPLETED and self.verification == VerificationState.VERIFIED

    @property
    def awaits_verification(self) -> bool:
        return self.status == ActionStatus.COMPLETED and self.verification == VerificationState.AWAITING

    @property
    def outcome_or_none(self):
        """The outcome question, or None (templates: a missing one-to-one row raises otherwise)."""
        return getattr(self, "outcome", None)

    @property
    def first_deadline_or_deadline(self) -> dt.date | None:
        return self.first_deadline or self.deadline

    @property
    def was_revised(self) -> bool:
        return self.first_deadline is not None and self.first_deadline != self.deadline

    @property
    def days_late(self) -> int | None:
        """Days from the end of the first deadline's month to completion (0: on time); None if not known."""
        first = self.first_deadline_or_deadline
        if self.status != ActionStatus.COMPLETED or self.completed_on is None or first is None:
            return None
        return max(0, (self.completed_on - month_end(first)).days)

    @property
    def first_deadline_label(self) -> str:
        return month_label(self.first_deadline_or_deadline)

    @property
    def deadline_label(self) -> str:
        return month_label(self.deadline)

    @property
    def gate_comments(self) -> str:
        """The comments column as GATE shows it: the latest progress comment, dated ("2026-12-02: Done.").

        The latest comment of a progress update recorded here (not by an
        import), on one line, unless an import set the comments since; else
        the comments as the page gave them. What exports write, and what a
        re-import compares the page's comments with. Reads the updates
        prefetched by `progress_comments()`, or all its updates prefetched (else one query).
        """
        updates = getattr(self, PROGRESS_COMMENTS, None)
        if updates is None:
            prefetched = getattr(self, "_prefetched_objects_cache", {}).get("updates")
            if prefetched is not None:  # all of them, prefetched for a page: no query
                updates = sorted(
                    (u for u in prefetched if u.comment and u.source != ActionUpdate.Source.IMPORT),
                    key=lambda u: (u.created_at, u.pk),
                )
            else:
                updates = list(progress_comments().queryset.filter(key_action=self))
        if updates:
            latest = updates[-1]
            taken = (self.imported or {}).get("@comments_at")
            if not taken or latest.created_at > dt.datetime.fromisoformat(taken):
                return f"{timezone.localdate(latest.created_at).isoformat()}: {' '.join(latest.comment.split())}"
        return self.comments


PROGRESS_COMMENTS = "progress_comments"


def action_code(recommendation_number: str, number: str) -> str:
    """A key action's number with its recommendation's: ("3", "2") -> "3.2"; ("3", "3.2") -> "3.2"."""
    rec = (recommendation_number or "").strip().rstrip(".)")
    own = (number or "").strip().rstrip(".)")
    if not rec or not own or "." in own:
        return own or rec
    return f"{rec}.{own}"


def progress_comments(prefix: str = "") -> Prefetch:
    """Prefetch a key action's progress updates that carry a comment (not the import's own), oldest first.

    `prefix` reaches the key actions from another model ("key_actions__").
    See `KeyAction.gate_comments`.
    """
    return Prefetch(
        f"{prefix}updates",
        queryset=ActionUpdate.objects.exclude(source=ActionUpdate.Source.IMPORT).exclude(comment="").order_by("created_at", "id"),
        to_attr=PROGRESS_COMMENTS,
    )


class ActionUpdate(models.Model):
    """One progress report on a key action: the status it moved from and to, and why."""

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        COMMAND = "command", _("Command line")

    key_action = models.ForeignKey(KeyAction, on_delete=models.CASCADE, related_name="updates")
    created_at = models.DateTimeField(_("recorded on"), default=timezone.now)
    status_before = models.CharField(_("status before"), max_length=40, blank=True)
    status_after = models.CharField(_("status after"), max_length=40)
    comment = models.TextField(_("comment"), blank=True)
    # Why a Completed action was opened again (required then: tracking/services/progress.py).
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_updates"
    )
    # Kept when the account is gone, so the record still says who.
    author_name = models.CharField(_("author"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.WEB)
    evidence_file = models.FileField(_("evidence file"), upload_to="evidence/%Y/", blank=True)
    # The file's own name as the person sent it: the stored name may be cleaned or made unique.
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    # Evidence on an approved response is public unless marked internal: then only
    # people with a role see it listed, and only they may download it.
    evidence_internal = models.BooleanField(_("evidence is internal"), default=False)

    class Meta:
        ordering = ["key_action", "created_at", "id"]
        verbose_name = _("progress update")
        # The newest first (home page, feeds) as an index walk: on created_at alone, the many updates of one
        # moment (an import's) were sorted by id whole (PostgreSQL: 88 ms for the newest 200 at L).
        indexes = [models.Index(fields=["created_at", "id"], name="action_update_newest")]

    def __str__(self) -> str:
        return f"{self.status_before or '—'} → {self.status_after} ({self.created_at:%Y-%m-%d})"

    @property
    def evidence_label(self) -> str:
        """The evidence file by its own name (as sent), else the stored file's last part."""
        if not self.evidence_file:
            return ""
        return self.evidence_name or self.evidence_file.name.rsplit("/", 1)[-1]
