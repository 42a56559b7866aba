"""Forms: they turn posted text into values for the services; the rules live in the services."""

from __future__ import annotations

import datetime as dt

from django import forms

from gateformat.months import month_date, month_text, read_month
from tracking.models import Office, Term, Unit
from tracking.models.evaluations import Evaluation, EvaluationDocument
from tracking.models.responses import ActionStatus, Category


class MonthField(forms.CharField):
    """A deadline with month precision: `YYYY-MM` (what <input type=month> sends) or `YYYY/MM`."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}[-/]\d{2}"})

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        month = read_month(value)  # the one home of month reading (gateformat.months)
        if month is None:
            raise forms.ValidationError("Give the month as YYYY-MM.")
        return month_date(month)

    def prepare_value(self, value):
        if isinstance(value, dt.date):
            return month_text(value)
        return value


class VersionedForm(forms.Form):
    """Carries the version of the record the person is looking at (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ProgressForm(VersionedForm):
    status = forms.ChoiceField(choices=ActionStatus.choices, label="New status")
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What was done, or why it no longer applies. Required for Completed and No Longer Applicable.",
    )
    evidence_file = forms.FileField(required=False, label="Evidence file")
    # Text, not <input type=url>: the browser would refuse "www.example.org/report.pdf"
    # before the service completes it with https:// (tracking.services.progress.evidence_link).
    evidence_url = forms.CharField(
        required=False,
        label="Evidence link",
        max_length=2048,
        widget=forms.TextInput(
            attrs={"inputmode": "url", "autocomplete": "url", "spellcheck": "false", "placeholder": "https://…"}
        ),
    )
    evidence_internal = forms.BooleanField(
        required=False,
        label="Keep the evidence internal",
        help_text="Evidence on an approved response is public: anyone can open the file or the link. "
        "Tick this to show it only to people with a role.",
    )
    # Shown on a Completed action only (web/templates/web/includes/progress_form.html); the service requires it
    # when a Completed action moves to another status, whatever the form showed.
    reopen_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Reason for reopening",
        help_text="Needed when a Completed action moves to another status: why it is open again.",
    )


class ReturnForm(VersionedForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reason for return")


class EvaluationForm(forms.Form):
    office = forms.ModelChoiceField(queryset=Office.objects.select_related("type").order_by("name"))
    title = forms.CharField(max_length=500)
    start_year = forms.IntegerField(min_value=1990, max_value=2100, label="Plan starts")
    end_year = forms.IntegerField(min_value=1990, max_value=2100, label="Plan ends")
    year = forms.IntegerField(min_value=1990, max_value=2100, required=False, help_text="Default: the plan's last year.")
    type = forms.ChoiceField(choices=[("", "—")] + list(Evaluation.Type.choices), required=False)
    status = forms.ChoiceField(choices=Evaluation.Status.choices, initial=Evaluation.Status.COMPLETED)
    completion_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cancellation_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Reason for cancelling",
        help_text="Required when the status is Cancelled: the plan's compliance shows it.",
    )

    def values(self) -> dict:
        keys = ("office", "start_year", "end_year", "title", "year", "type", "status", "completion_date", "cancellation_reason")
        return {k: self.cleaned_data[k] for k in keys}

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if offices is not None:
            self.fields["office"].queryset = offices


class EvaluationEditForm(EvaluationForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class PlanForm(forms.Form):
    office = forms.ModelChoiceField(queryset=Office.objects.select_related("type").order_by("name"))
    start_year = forms.IntegerField(min_value=1990, max_value=2100, label="Plan starts")
    end_year = forms.IntegerField(min_value=1990, max_value=2100, label="Plan ends")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if offices is not None:
            self.fields["office"].queryset = offices


class PlanEditForm(VersionedForm):
    start_year = forms.IntegerField(min_value=1990, max_value=2100, label="Plan starts")
    end_year = forms.IntegerField(min_value=1990, max_value=2100, label="Plan ends")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class DocumentForm(forms.Form):
    file = forms.FileField(required=False, help_text="PDF, DOCX, XLSX, PPTX, ODT, DOC or XLS.")
    url = forms.CharField(
        required=False, label="Or a link", max_length=500,
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false", "placeholder": "https://…"}),
    )
    kind = forms.ChoiceField(choices=EvaluationDocument.Kind.choices, initial=EvaluationDocument.Kind.REPORT, label="Document")
    title = forms.CharField(max_length=300, required=False, help_text="Default: the file's name.")
    language = forms.ChoiceField(choices=EvaluationDocument.Language.choices, initial=EvaluationDocument.Language.ENGLISH)
    internal = forms.BooleanField(
        required=False, label="Internal", help_text="Only people with a role see it; otherwise it is public with the evaluation."
    )

    def __init__(self, *args, max_bytes: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and self.max_bytes and upload.size > self.max_bytes:
            # Refused before it is read: the service checks again, with the content.
            raise forms.ValidationError(f"“{upload.name}” is {upload.size / 1024 / 1024:.1f} MB: at most {self.max_bytes // (1024 * 1024)} MB.")
        return upload


class UnitPicker(forms.CheckboxSelectMultiple):
    """Units as ticks, the office's own first, others marked with their office: never a Ctrl-click box.

    Plain HTML works alone; site.js adds a type-to-filter box over it (`data-unit-picker`).
    """

    template_name = "web/widgets/unit_picker.html"
    home_office_id: int | None = None

    def optgroups(self, name, value, attrs=None):
        own, others = [], []
        for _group, options, _index in super().optgroups(name, value, attrs):
            for option in options:
                unit = getattr(option["value"], "instance", None)
                if unit is None:
                    continue
                label = str(unit)
                if unit.auto_created:
                    label += " (added by an import, not yet reviewed)"
                if unit.office_id == self.home_office_id:
                    own.append((unit.name.casefold(), {**option, "label": label}))
                else:
                    label += f" (Other office: {unit.office.name})"
                    others.append((unit.office.name.casefold(), unit.name.casefold(), {**option, "label": label}))
        groups = [("This office", [o for *_k, o in sorted(own, key=lambda t: t[0])]),
                  ("Other offices", [o for *_k, o in sorted(others, key=lambda t: t[:2])])]
        return [(label, options, i) for i, (label, options) in enumerate(groups) if options]


def unit_choices(office: Office):
    """The units a response or key action of this office may name: its own, and the corporate ones (HQ, evaluation office)."""
    from django.db.models import Q

    return Unit.objects.filter(Q(office=office) | Q(office__type__code__in=("HQ", "EO"))).select_related("office")


class UnitsField(forms.ModelMultipleChoiceField):
    widget = UnitPicker

    def for_office(self, office: Office) -> None:
        self.queryset = unit_choices(office)
        self.widget.home_office_id = office.pk


class ResponseHeaderForm(VersionedForm):
    overall_response = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    units = UnitsField(queryset=Unit.objects.none(), required=False, label="Coordinating units")

    def __init__(self, *args, office=None, **kwargs):
        super().__init__(*args, **kwargs)
        if office is not None:
            self.fields["units"].for_office(office)


def _terms(kind: str):
    return Term.objects.filter(kind=kind, active=True).order_by("position", "name")


class RecommendationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    number = forms.CharField(max_length=20)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Recommendation")
    response_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Management response")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    category = forms.ChoiceField(choices=[("", "—")] + list(Category.choices), required=False)
    thematic_areas = forms.ModelMultipleChoiceField(queryset=_terms(Term.Kind.THEMATIC_AREA), required=False)
    operating_principles = forms.ModelMultipleChoiceField(queryset=_terms(Term.Kind.OPERATING_PRINCIPLE), required=False)
    organizational_priorities = forms.ModelMultipleChoiceField(
        queryset=_terms(Term.Kind.ORGANIZATIONAL_PRIORITY), required=False
    )
    uneg_criteria = forms.ModelMultipleChoiceField(queryset=_terms(Term.Kind.UNEG_CRITERION), required=False, label="UNEG criteria")

    TAG_FIELDS = ("thematic_areas", "operating_principles", "organizational_priorities", "uneg_criteria")
    FIELD_OF_KIND = dict(zip(Term.Kind.values, TAG_FIELDS, strict=True))

    def terms(self) -> list[Term]:
        return [t for name in self.TAG_FIELDS for t in self.cleaned_data[name]]

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("number", "text", "response_text", "description", "category")}


class KeyActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    number = forms.CharField(max_length=20)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Key action")
    units = UnitsField(queryset=Unit.objects.none(), required=False, label="Responsible units")
    responsible = forms.CharField(
        max_length=500, required=False, label="Responsible (as written)", help_text="Default: the names of the units chosen."
    )
    deadline = MonthField(required=False)
    status = forms.ChoiceField(choices=ActionStatus.choices, initial=ActionStatus.NOT_INITIATED)
    comments = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, office=None, **kwargs):
        super().__init__(*args, **kwargs)
        if office is not None:
            self.fields["units"].for_office(office)

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("number", "text", "responsible", "deadline", "status", "comments")}


def apply_errors(form: forms.Form, error) -> None:
    """Show a service's ValidationError on the form, field by field where it names fields."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class ReminderPreferenceForm(forms.Form):
    """What reminders a person receives, how often, and in which language (reminders/preferences.py saves it)."""

    unit_digest = forms.BooleanField(label="Digest of my unit's key actions (due soon, overdue)", required=False)
    office_digest = forms.BooleanField(label="Digest of my office (responses to draft, overdue key actions)", required=False)
    weekly_summary = forms.BooleanField(label="Weekly summary for the evaluation office", required=False)
    escalation = forms.BooleanField(label="Escalations of long-overdue key actions", required=False)
    quarterly_call = forms.BooleanField(label="Quarterly call for progress", required=False)
    frequency = forms.ChoiceField(label="Digests come", choices=[("daily", "Every day"), ("weekly", "Once a week")])
    language = forms.ChoiceField(label="Language of the mails", required=False)

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "The site's language"), *settings.REMINDER_LANGUAGES]


class VerifyForm(VersionedForm):
    """The evaluation office's decision on a claimed completion (tracking/services/verification.py)."""

    decision = forms.ChoiceField(choices=[("accept", "Accept: completion verified"), ("send_back", "Send back: reopen")])
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Reason",
        help_text="Required to send back: what is missing. The unit reads it on the action's timeline.",
    )


class DeadlineForm(VersionedForm):
    """A deadline revision (tracking/services/deadlines.py): the new month and why."""

    deadline = MonthField(required=False, label="New deadline")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Reason for the change",
        help_text="Required. Kept with the revision and shown on the timeline; the first deadline is kept and "
        "timeliness is measured against it.",
    )


class AdoptionForm(VersionedForm):
    """One side's rating of how far a recommendation was adopted (tracking/services/ratings.py)."""

    side = forms.CharField(widget=forms.HiddenInput)
    rating = forms.ChoiceField(label="How far it was adopted", required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Note")

    def __init__(self, *args, **kwargs):
        from tracking.services.ratings import scale

        super().__init__(*args, **kwargs)
        self.fields["rating"].choices = [("", "Not rated"), *scale()]


class OutcomeScheduleForm(forms.Form):
    """The evaluation office schedules the later question on a completed action's outcome."""

    ask_on = forms.DateField(label="Ask the unit from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Question",
        help_text="Left empty: “Did it change what the evaluation found?”",
    )


class OutcomeAnswerForm(forms.Form):
    """The unit's answer on the outcome of a completed action."""

    confirmed = forms.TypedChoiceField(
        label="Did it change what the evaluation found?", choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes", empty_value=None, required=False, widget=forms.RadioSelect,
    )
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="What changed, or why nothing did")


class SharedRecommendationForm(VersionedForm):
    number = forms.CharField(label="Number", max_length=20)
    text = forms.CharField(label="Recommendation", widget=forms.Textarea(attrs={"rows": 6}))
