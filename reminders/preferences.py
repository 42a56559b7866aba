"""Changing what a person receives: from their notifications page, or from a signed unsubscribe link."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from .models import Kind, Preference

FIELDS = ["unit_digest", "office_digest", "weekly_summary", "escalation", "quarterly_call", "frequency", "language"]


def preference_of(address: str) -> Preference:
    address = address.strip().lower()
    return Preference.objects.filter(address=address).first() or Preference(address=address)


@transaction.atomic
def save_preferences(address: str, values: dict) -> Preference:
    """Set the named choices of an address (the others are kept)."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown reminder preference: {', '.join(sorted(unknown))}")
    language = values.get("language")
    if language and language not in dict(settings.REMINDER_LANGUAGES):
        raise ValueError(f"language {language!r} is not one of {', '.join(dict(settings.REMINDER_LANGUAGES))}")
    pref, _ = Preference.objects.select_for_update().get_or_create(address=address.strip().lower())
    for name, value in values.items():
        setattr(pref, name, value)
    pref.full_clean()
    pref.save()
    return pref


def unsubscribe(address: str, kind: str) -> Preference:
    """Stop one kind of reminder (or every kind: "all") for an address."""
    kinds = Kind.values if kind == "all" else [kind]
    if not set(kinds) <= set(Kind.values):
        raise ValueError(f"unknown kind of reminder: {kind!r}")
    return save_preferences(address, {k: False for k in kinds})
