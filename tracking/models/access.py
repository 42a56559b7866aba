"""Roles and the scope each one acts on (an office, a unit, a region, everything)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .reference import Office, Region, Unit


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    EVALUATION_OFFICE = "evaluation_office", _("Evaluation office")
    OFFICE_FOCAL_POINT = "office_focal_point", _("Office focal point")
    UNIT_FOCAL_POINT = "unit_focal_point", _("Unit focal point")
    VIEWER = "viewer", _("Viewer")


ROLE_HELP = {
    Role.ADMINISTRATOR: _("Users, roles, offices, units and vocabularies."),
    Role.EVALUATION_OFFICE: _(
        "Evaluation plans and evaluations; reviews, approves or returns management responses. "
        "Scope: a region, an office, or everything when neither is set."
    ),
    Role.OFFICE_FOCAL_POINT: _("Drafts and submits the office's management responses; updates any key action of the office."),
    Role.UNIT_FOCAL_POINT: _("Updates the key actions assigned to the unit."),
    Role.VIEWER: _(
        "Reads, changes nothing: everything approved, and the drafts of the offices in scope. "
        "Scope: a region, an office, or everything when neither is set."
    ),
}


class RoleAssignment(models.Model):
    """A user holds a role over a scope. A user may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, null=True, blank=True, related_name="role_assignments", verbose_name=_("office")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="role_assignments", verbose_name=_("unit")
    )
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="role_assignments", verbose_name=_("region")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            # One assignment per user, role and scope (partial indexes: NULL scopes
            # would otherwise never collide).
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(office=None, unit=None, region=None),
                name="role_assignment_unique_global",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "office"], condition=models.Q(office__isnull=False), name="role_assignment_unique_office"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit"], condition=models.Q(unit__isnull=False), name="role_assignment_unique_unit"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"], condition=models.Q(region__isnull=False), name="role_assignment_unique_region"
            ),
            # Each role names exactly the scope it acts on.
            models.CheckConstraint(
                name="role_assignment_scope",
                condition=(
                    models.Q(role="administrator", office=None, unit=None, region=None)
                    | models.Q(role="office_focal_point", office__isnull=False, unit=None, region=None)
                    | models.Q(role="unit_focal_point", unit__isnull=False, office=None, region=None)
                    | (
                        models.Q(role__in=["evaluation_office", "viewer"], unit=None)
                        & ~models.Q(office__isnull=False, region__isnull=False)
                    )
                ),
            ),
        ]
        verbose_name = _("role assignment")

    def __str__(self) -> str:
        scope = self.unit or self.office or self.region or _("everything")
        return f"{self.user} — {self.get_role_display()} ({scope})"

    def clean(self) -> None:
        role = self.role
        if role == Role.ADMINISTRATOR and (self.office_id or self.unit_id or self.region_id):
            raise ValidationError(_("This role applies to everything: leave office, unit and region empty."))
        if role == Role.OFFICE_FOCAL_POINT and (not self.office_id or self.unit_id or self.region_id):
            raise ValidationError({"office": _("An office focal point acts for one office: choose it (and only it).")})
        if role == Role.UNIT_FOCAL_POINT and (not self.unit_id or self.office_id or self.region_id):
            raise ValidationError({"unit": _("A unit focal point acts for one unit: choose it (and only it).")})
        if role in (Role.EVALUATION_OFFICE, Role.VIEWER) and (self.unit_id or (self.office_id and self.region_id)):
            raise ValidationError(_("This role acts on a region, an office, or everything (neither)."))


class PersonSetting(models.Model):
    """A person's own settings: the time zone the site shows times in (empty: the site's, settings.TIME_ZONE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="setting")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("personal setting")

    def __str__(self) -> str:
        return f"Settings of {self.user}"


class AccountMail(models.Model):
    """A sign-in e-mail someone asked for (a password reset or a one-time sign-in link).

    The record that rate-limits them, per e-mail address asked for and per
    client address (web/signin.py). The address asked for is kept as typed
    (lower-cased) whether or not an account has it, so the limit, and its
    message, are the same either way: they tell nobody who has an account.
    """

    class Kind(models.TextChoices):
        PASSWORD_RESET = "password_reset", _("Password reset")
        SIGN_IN_LINK = "sign_in_link", _("Sign-in link")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.CharField(_("e-mail address asked for"), max_length=254)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    refused = models.BooleanField(default=False, help_text=_("Over the limit: no mail was sent."))

    class Meta:
        indexes = [
            models.Index(fields=["email", "requested_at"], name="account_mail_email"),
            models.Index(fields=["client_address", "requested_at"], name="account_mail_client"),
            models.Index(fields=["requested_at"], name="account_mail_time"),
        ]
        verbose_name = _("sign-in e-mail")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.email} from {self.client_address} at {self.requested_at:%Y-%m-%d %H:%M}"
