"""Who is acting on this request: one Actor (with a request id that groups its history)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from tracking.actor import Actor


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user if request.user.is_authenticated else None
        request.actor = Actor(user=user, source="web")
        return self.get_response(request)


SESSION_TIME_ZONE = "time_zone"


class TimeZoneMiddleware:
    """Times shown in the reader's own time zone: the one they chose (kept in the session at sign-in
    and when they change it, so no request reads it from the database), else settings.TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import zoneinfo

        from django.utils import timezone

        # Only a session the request already has: an anonymous visit without a cookie stays without one.
        name = request.session.get(SESSION_TIME_ZONE) if request.COOKIES.get(settings.SESSION_COOKIE_NAME) else None
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


@receiver(user_logged_in, dispatch_uid="followthrough.time_zone")
def _time_zone_on_sign_in(sender, request, user, **kwargs):
    # Read once per sign-in, then from the session (TimeZoneMiddleware).
    from tracking.models import PersonSetting

    if request is not None and hasattr(request, "session"):
        name = PersonSetting.objects.filter(user=user).values_list("time_zone", flat=True).first()
        if name:
            request.session[SESSION_TIME_ZONE] = name
