"""Reminders seen from the app: my notifications (sent and pending), my choices, and the unsubscribe link.

The reminders themselves are made and sent by `followthrough remind` (reminders/); these pages
only read its records and change a person's choices through reminders/preferences.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from reminders import preferences
from reminders.models import Kind, Message
from reminders.plan import claimed_keys, plan, reminder_today
from reminders.send import read_unsubscribe_token
from tracking import params
from tracking.services import people

from ..forms import ReminderPreferenceForm
from ..middleware import SESSION_TIME_ZONE

SHOWN = 100


def _address(request) -> str:
    return (request.user.email or "").strip().lower()


@login_required
def notifications(request):
    """What was sent to me, what today's run would send me, and what I choose to receive."""
    address = _address(request)
    sent = Message.objects.none()
    pending = []
    if address:
        sent = Message.objects.filter(address=address).prefetch_related("reminders").order_by("-created_at", "-pk")[:SHOWN]
        on = reminder_today()
        planned = plan(on, only=address)
        done = claimed_keys(planned)
        pending = [p for p in planned if p.key not in done]
    pref = preferences.preference_of(address) if address else None
    form = ReminderPreferenceForm(initial={f: getattr(pref, f) for f in preferences.FIELDS}) if pref else None
    return render(
        request,
        "web/notifications.html",
        {"address": address, "sent": sent, "pending": pending, "form": form, "nav": "notifications",
         "time_zones": people.time_zones(), "time_zone": request.session.get(SESSION_TIME_ZONE, ""),
         "site_time_zone": settings.TIME_ZONE},
    )


@login_required
@require_POST
def notification_preferences(request):
    address = _address(request)
    if not address:
        messages.error(request, "Your account has no e-mail address: reminders cannot reach you. Ask an administrator.")
        return redirect("web:notifications")
    form = ReminderPreferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Your choices were not saved: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("web:notifications")
    preferences.save_preferences(address, form.cleaned_data)
    messages.success(request, "Your reminder choices are saved.")
    return redirect("web:notifications")


@login_required
@require_POST
def time_zone(request):
    """The time zone this person reads times in (tracking/services/people.py records it)."""
    try:
        setting = people.set_time_zone(request.actor, params.text(request.POST, "time_zone", 64))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:notifications")
    if setting.time_zone:
        request.session[SESSION_TIME_ZONE] = setting.time_zone
    else:
        request.session.pop(SESSION_TIME_ZONE, None)
    messages.success(request, f"Times are now shown in {setting.time_zone or settings.TIME_ZONE}.")
    return redirect("web:notifications")


@csrf_exempt  # the signed token is the credential; mail clients post List-Unsubscribe=One-Click without a form
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """One click, no sign-in: GET shows what the link stops and a button; POST (or the mail client's one-click POST) stops it."""
    try:
        address, kind = read_unsubscribe_token(token)
    except signing.BadSignature:
        raise Http404("This unsubscribe link is not valid.") from None
    what = "every reminder" if kind == "all" else Kind(kind).label.lower()
    if request.method == "POST":
        preferences.unsubscribe(address, kind)
        return render(request, "web/unsubscribe.html", {"done": True, "what": what, "address": address})
    return render(request, "web/unsubscribe.html", {"done": False, "what": what, "address": address, "token": token})
