"""Reference data: regions, offices, responsible units, controlled vocabularies."""

from __future__ import annotations

from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from gateformat.split import normalize_unit


class Region(models.Model):
    """A region as GATE's navigation groups offices ("Arab States", ...)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("region")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:140]
        super().save(*args, **kwargs)


class OfficeType(models.Model):
    """EO, HQ, RO, MCO, CO, PP, ... (an administrator may add more)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("office type")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Office(models.Model):
    """An office that owns evaluations: a country office, a division, the evaluation office."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=220, unique=True)
    type = models.ForeignKey(OfficeType, on_delete=models.PROTECT, related_name="offices", verbose_name=_("type"))
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="offices", verbose_name=_("region")
    )
    # Other spellings seen on pages ("Independent Evaluation Office(IEO)").
    aliases = models.JSONField(_("other names"), default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("office")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Office, self.name)
        super().save(*args, **kwargs)


class Unit(models.Model):
    """A responsible unit (division, section, team, role) that carries key actions."""

    # No index of its own: the unique (office, name) index serves it.
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="units", verbose_name=_("office"), db_index=False)
    name = models.CharField(_("name"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    # Created by an import from a responsible text nobody has reviewed yet.
    auto_created = models.BooleanField(_("added by an import"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["office__name", "name"]
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="unit_unique_per_office")]
        verbose_name = _("unit")

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym and self.acronym not in self.name else self.name

    def names(self) -> list[str]:
        """Every name this unit answers to."""
        return [n for n in [self.name, self.acronym, *[a.name for a in self.aliases.all()]] if n]


class UnitAlias(models.Model):
    """Another name or acronym of a unit, so responsible texts find it."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="aliases", db_index=False)  # see unit_alias_unique
    name = models.CharField(_("name"), max_length=200)
    key = models.CharField(max_length=200, editable=False, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "key"], name="unit_alias_unique")]
        verbose_name = _("unit alias")
        verbose_name_plural = _("unit aliases")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.key = normalize_unit(self.name)
        super().save(*args, **kwargs)


class Term(models.Model):
    """A value of one of the controlled vocabularies that tag recommendations."""

    class Kind(models.TextChoices):
        THEMATIC_AREA = "thematic_area", _("Thematic area")
        OPERATING_PRINCIPLE = "operating_principle", _("Operating principle")
        ORGANIZATIONAL_PRIORITY = "organizational_priority", _("Organizational priority")
        UNEG_CRITERION = "uneg_criterion", _("UNEG criterion")

    kind = models.CharField(_("vocabulary"), max_length=30, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("offered for new entries"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    auto_created = models.BooleanField(_("added by an import"), default=False)

    class Meta:
        ordering = ["kind", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="term_unique_per_kind")]
        verbose_name = _("vocabulary term")

    def __str__(self) -> str:
        return self.name


def unique_slug(model: type[models.Model], name: str, max_length: int = 200) -> str:
    base = slugify(name)[:max_length] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug = f"{base[: max_length - 6]}-{n}"
        n += 1
    return slug
