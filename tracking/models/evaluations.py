"""Evaluation plans, evaluations and their documents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .reference import Office


class EvaluationPlan(models.Model):
    """An office's plan of evaluations for a period (GATE: "2015 - 2016")."""

    # No index of its own: the unique (office, start_year, end_year) index serves it.
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="plans", verbose_name=_("office"), db_index=False)
    start_year = models.PositiveSmallIntegerField(_("start year"))
    end_year = models.PositiveSmallIntegerField(_("end year"))
    # A closed plan takes no new evaluations; its figures stay as they were.
    closed = models.BooleanField(_("closed"), default=False)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["office__name", "-start_year"]
        constraints = [
            models.UniqueConstraint(fields=["office", "start_year", "end_year"], name="plan_unique_per_office"),
            models.CheckConstraint(condition=models.Q(end_year__gte=models.F("start_year")), name="plan_ends_after_start"),
        ]
        verbose_name = _("evaluation plan")

    def __str__(self) -> str:
        return f"{self.office} {self.period}"

    @property
    def period(self) -> str:
        return plan_period(self.start_year, self.end_year)


def plan_period(start_year: int, end_year: int) -> str:
    """A plan's period as pages name it ("2022 - 2025"), of a plan or of its years read as values."""
    return f"{start_year} - {end_year}"


def evaluation_label(title: str, office: str, start_year: int, end_year: int) -> str:
    """An evaluation's name: its title, or its office and plan when it has none (lists read as values name it so too)."""
    return title or f"(untitled evaluation, {office}, {plan_period(start_year, end_year)})"


class Evaluation(models.Model):
    class Type(models.TextChoices):
        CORPORATE = "corporate", _("Corporate")
        COUNTRY_PORTFOLIO = "country_portfolio", _("Country portfolio")
        PROGRAMME = "programme", _("Programme")
        PROJECT = "project", _("Project")
        THEMATIC = "thematic", _("Thematic")
        JOINT = "joint", _("Joint")
        OTHER = "other", _("Other")

    class Quality(models.TextChoices):
        # The evaluation office's rating of the report (UN Women's GERAAS scale), best first.
        VERY_GOOD = "very_good", _("Very good")
        GOOD = "good", _("Good")
        FAIR = "fair", _("Fair")
        UNSATISFACTORY = "unsatisfactory", _("Unsatisfactory")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ONGOING = "ongoing", _("Ongoing")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("plan"))
    # No index of its own: the unique (office, plan, title) and (office, year) indexes serve it.
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("office"), db_index=False
    )
    title = models.CharField(_("title"), max_length=500, blank=True)
    type = models.CharField(_("type"), max_length=30, choices=Type.choices, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.COMPLETED)
    completion_date = models.DateField(_("completed on"), null=True, blank=True)
    quality = models.CharField(_("report quality"), max_length=20, choices=Quality.choices, blank=True)
    # Why a planned evaluation was cancelled (status Cancelled): the plan's compliance names it.
    cancellation_reason = models.TextField(_("reason for cancelling"), blank=True)
    # Where the record came from (a file name, a URL), for the person who checks it.
    source = models.CharField(_("source"), max_length=300, blank=True)
    # A joint evaluation: each partner office's record points at the lead's (the evaluation office's
    # own record). Each is an ordinary evaluation of its office (its own response, key actions,
    # figures and permissions); the recommendations are shared (Recommendation.shared_from).
    joint_lead = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="joint_partners",
        verbose_name=_("joint evaluation led by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["office", "plan", "title"], name="evaluation_unique_per_plan"),
        ]
        indexes = [
            models.Index(fields=["office", "year"]),
            # The evaluation list's order: a page of it is read down this index, not 10,000 rows sorted (~20 ms at L).
            models.Index(fields=["-year", "title", "id"], name="evaluation_list_order"),
        ]
        verbose_name = _("evaluation")

    def __str__(self) -> str:
        return evaluation_label(self.title, self.office.name, self.plan.start_year, self.plan.end_year)

    def gate_header(self):
        """The evaluation and its management response as a GATE page heads them (gateformat's dataclasses):
        one definition for the exports and the spreadsheet import, which reads a sheet over the stored record."""
        import gateformat

        mr = getattr(self, "management_response", None)
        return (
            gateformat.Evaluation(
                title=self.title,
                office=self.office.name,
                plan_office=self.plan.office.name,
                office_type=self.office.type.code,
                plan_start_year=self.plan.start_year,
                plan_end_year=self.plan.end_year,
            ),
            gateformat.ManagementResponse(
                status=mr.status if mr else "",
                units=list(mr.units_as_written) if mr else [],
                overall_response=mr.overall_response if mr else "",
            ),
        )

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("web:evaluation", args=[self.pk])

    @property
    def joint_lead_id_or_own(self) -> int:
        """The lead of its joint evaluation (itself when it leads one, or is not joint)."""
        return self.joint_lead_id or self.pk


def document_path(instance, filename: str) -> str:
    """A generated name: the uploaded name is kept in `original_name`, never in the path."""
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"documents/{uuid.uuid4().hex}{suffix if suffix.isascii() and suffix[1:].isalnum() else ''}"


class EvaluationDocument(models.Model):
    """A report, terms of reference or annex of an evaluation (a file or a link)."""

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        FRENCH = "fr", _("French")
        SPANISH = "es", _("Spanish")
        ARABIC = "ar", _("Arabic")
        RUSSIAN = "ru", _("Russian")
        CHINESE = "zh", _("Chinese")
        PORTUGUESE = "pt", _("Portuguese")
        OTHER = "other", _("Other")

    class Kind(models.TextChoices):
        REPORT = "report", _("Evaluation report")
        TERMS_OF_REFERENCE = "tor", _("Terms of reference")
        MANAGEMENT_RESPONSE = "management_response", _("Management response")
        ANNEX = "annex", _("Annex")
        OTHER = "other", _("Other")

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.REPORT)
    title = models.CharField(_("title"), max_length=300)
    file = models.FileField(_("file"), upload_to=document_path, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.ENGLISH)
    # Internal documents are for people with a role; public ones follow the evaluation.
    internal = models.BooleanField(_("internal"), default=False)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    # The text of the file (PDF, DOCX), for search.
    text = models.TextField(_("text"), blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evaluation", "kind", "title"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(file="") & models.Q(url="")), name="document_has_file_or_link"
            )
        ]
        verbose_name = _("evaluation document")

    def __str__(self) -> str:
        return self.title
