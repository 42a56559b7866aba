"""Signing in under attack: throttling, the lockout page, lifting a lock, rate-limited sign-in mail.

Failed sign-ins are counted two ways (django-axes records them; this
module's handler weighs them), each against its own limit within the
cool-off time (LOGIN_LOCKOUT_MINUTES after the last failure):

- per account, across every address: LOGIN_FAILURE_LIMIT failures lock the
  account, wherever the guesses come from (many addresses guessing one
  password);
- per client address, across every account: LOGIN_ADDRESS_FAILURE_LIMIT
  failures lock the address (one address guessing many accounts). It is
  higher than the first, since an office behind one address shares it.

A lock can be set by anyone who knows a username, so it never keeps the
person out: a password reset lifts their account's lock (and signs them in,
whatever their address), and a one-time sign-in link by e-mail works while
locked. A success lifts only that account's own failures, never the
address's: a guesser with an account of their own cannot wipe their count by
signing into it.

Sign-in e-mails (resets and links) are rate-limited per e-mail address asked
for and per client address (AccountMail records them). Every refusal is
logged on the `followthrough.signin` logger; axes keeps its own records
(AccessAttempt, AccessFailureLog, AccessLog; in the admin).
"""

from __future__ import annotations

import datetime as dt
import logging
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import base36_to_int

from tracking.models import AccountMail

log = logging.getLogger("followthrough.signin")

ACCOUNT, ADDRESS = "account", "address"


def cool_off() -> dt.timedelta:
    return get_cool_off() or dt.timedelta(0)


# --- throttling ------------------------------------------------------------------------------------


def failures(username: str | None, address: str | None, now: dt.datetime | None = None) -> dict[str, dict]:
    """Recent failures per account and per address: {"account": {"count", "last"}, "address": {...}}."""
    since = (now or timezone.now()) - cool_off()
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    out = {}
    for scope, rows in ((ACCOUNT, recent.filter(username=username)), (ADDRESS, recent.filter(ip_address=address))):
        figures = rows.aggregate(count=Sum("failures_since_start"), last=Max("attempt_time"))
        out[scope] = {"count": figures["count"] or 0, "last": figures["last"]}
    return out


def limits() -> dict[str, int]:
    return {ACCOUNT: settings.AXES_FAILURE_LIMIT, ADDRESS: settings.LOGIN_ADDRESS_FAILURE_LIMIT}


def locks(username: str | None, address: str | None) -> list[dict]:
    """The locks in force for a sign-in as `username` from `address`, each with when it ends."""
    found = []
    for scope, figures in failures(username, address).items():
        if figures["count"] >= limits()[scope] and figures["last"] is not None:
            found.append({"scope": scope, "until": figures["last"] + cool_off(), **figures})
    return found


class SignInThrottle(AxesDatabaseHandler):
    """axes' database handler, with a limit per account and another per address.

    axes compares one number with AXES_FAILURE_LIMIT; this handler answers
    with the account's count, or, when the address is over its own limit, a
    count at least at AXES_FAILURE_LIMIT, so that either lock refuses.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        now = getattr(request, "axes_attempt_time", None)
        counts = failures(username, request.axes_ip_address, now)
        by_account, by_address = counts[ACCOUNT]["count"], counts[ADDRESS]["count"]
        if by_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(by_account, settings.AXES_FAILURE_LIMIT)
        return by_account


def lockout_response(request, original_response=None, credentials=None):
    """The page for a refused sign-in: which lock, until when, and the ways in that still work."""
    username = get_client_username(request, credentials) or ""
    address = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")
    found = locks(username, address)
    now = timezone.now()
    until = max((lock["until"] for lock in found), default=now + cool_off())
    seconds = max(60, math.ceil((until - now).total_seconds()))
    context = {
        "username": username,
        "scopes": {lock["scope"] for lock in found} or {ACCOUNT},
        "minutes": math.ceil(seconds / 60),
        "until": until,
        "cool_off_minutes": round(cool_off().total_seconds() / 60),
    }
    response = render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(seconds)
    return response


def lift_lock(username: str, reason: str) -> int:
    """Forget the failed sign-ins of one account (from every address); those of the addresses stay."""
    removed, _ = AccessAttempt.objects.filter(username=username).delete()
    if removed:
        log.info("sign-in lock lifted for %r (%s): %d failure records removed", username, reason, removed)
    return removed


@receiver(user_login_failed, dispatch_uid="followthrough.signin.failed")
def _log_failure(sender, credentials, request=None, **kwargs):
    address = request.META.get("REMOTE_ADDR") if request is not None else None
    log.warning("sign-in failed for %r from %s", credentials.get("username"), address)


@receiver(user_locked_out, dispatch_uid="followthrough.signin.locked")
def _log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    scopes = [lock["scope"] for lock in locks(username, ip_address)] or [ACCOUNT]
    log.warning("sign-in refused for %r from %s: locked (%s)", username, ip_address, ", ".join(scopes))


@receiver(user_logged_in, dispatch_uid="followthrough.signin.success")
def _lift_on_success(sender, request, user, **kwargs):
    # The person knew the password (or held a link sent to them): their own
    # account's failures were theirs or are moot. The address's stay counted.
    lift_lock(user.get_username(), reason="signed in")


# --- sign-in e-mail, rate-limited ------------------------------------------------------------------

MAIL_WINDOW = dt.timedelta(hours=1)
MAIL_RECORDS_KEPT = dt.timedelta(days=30)


def mail_allowed(kind: str, email: str, address: str | None) -> tuple[bool, dt.datetime | None]:
    """May we send a sign-in mail of `kind` to `email`, asked from `address`? Records the request.

    Counted per e-mail address asked for (whether or not an account has it)
    and per client address, over the last hour, resets and links together.
    Returns (allowed, when the next one will be allowed if not).
    """
    now = timezone.now()
    email = email.strip().lower()
    since = now - MAIL_WINDOW
    # A few requests at once may all pass before any is recorded (on
    # PostgreSQL; SQLite takes them one by one): the limit can be overshot by
    # the number of simultaneous requests, no more.
    with transaction.atomic():
        AccountMail.objects.filter(requested_at__lt=now - MAIL_RECORDS_KEPT).delete()
        sent = AccountMail.objects.filter(refused=False, requested_at__gte=since)
        over = []
        for label, rows, limit in (
            ("e-mail address", sent.filter(email=email), settings.ACCOUNT_MAIL_LIMIT),
            ("client address", sent.filter(client_address=address), settings.ACCOUNT_MAIL_CLIENT_LIMIT),
        ):
            times = list(rows.order_by("-requested_at").values_list("requested_at", flat=True)[:limit])
            if len(times) >= limit:
                over.append((label, times[-1] + MAIL_WINDOW))
        AccountMail.objects.create(kind=kind, email=email, client_address=address, requested_at=now, refused=bool(over))
    if over:
        log.warning(
            "%s mail refused for %r from %s: over the limit per %s",
            kind, email, address, " and per ".join(label for label, _ in over),
        )
        return False, max(when for _, when in over)
    return True, None


# --- one-time sign-in links ------------------------------------------------------------------------


class SignInLinkTokens(PasswordResetTokenGenerator):
    """Tokens for sign-in links: signed, expiring after SIGN_IN_LINK_MINUTES, and good once.

    The signed value holds the time of the last sign-in to the microsecond:
    signing in by the link (or any other way) ends it; so does a new
    password or e-mail address.
    """

    key_salt = "followthrough.signin.SignInLinkTokens"

    def _make_hash_value(self, user, timestamp):
        last = "" if user.last_login is None else user.last_login.astimezone(dt.UTC).isoformat()
        return f"{user.pk}|{user.password}|{last}|{timestamp}|{user.email}|{user.is_active}"

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        age = self._num_seconds(self._now()) - base36_to_int(token.split("-")[0])
        return 0 <= age <= settings.SIGN_IN_LINK_MINUTES * 60


sign_in_link_tokens = SignInLinkTokens()
