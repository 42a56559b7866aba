"""A person's own settings (today: the time zone times are shown in), changed by that person, recorded."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ..actor import Actor
from ..models import ChangeRecord, PersonSetting
from . import history


def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def set_time_zone(actor: Actor, name: str) -> PersonSetting:
    """The person's time zone ("" for the site's). Only for oneself, signed in."""
    if not actor.is_authenticated:
        raise PermissionDenied("Sign in to choose your time zone.")
    name = (name or "").strip()
    if name and name not in zoneinfo.available_timezones():
        raise ValidationError({"time_zone": [f"“{name[:60]}” is not a time zone (e.g. Europe/Paris, Africa/Nairobi)."]})
    with transaction.atomic():
        setting, made = PersonSetting.objects.select_for_update().get_or_create(user=actor.user)
        before = setting.time_zone
        if made or before != name:
            setting.time_zone = name
            setting.save(update_fields=["time_zone"])
            history.write([history.change(
                actor, ChangeRecord.Action.CREATE if made else ChangeRecord.Action.UPDATE, setting,
                before=None if made else {"time_zone": before}, after={"time_zone": name}, message="time zone chosen",
            )])
    return setting
