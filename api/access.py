"""Who is calling the API: a token, a session (with its CSRF check on writes) or nobody; and the throttle.

Every request of /api/v1/ passes here once (the API's `auth`): the result is
`request.auth`, a `Caller`. A token that is unknown, expired or revoked is
refused (401) rather than treated as anonymous, so a client never mistakes
the public record for its own. Requests are counted per token (or signed-in
user) and per client address in the Django cache, in fixed windows; over the
limit, 429 with Retry-After.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from ninja.security import HttpBearer

from tracking.actor import Actor

from .errors import ApiError
from .models import ApiToken, hash_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Caller:
    user: object | None  # None: the public
    token: ApiToken | None = None
    via_session: bool = False

    def __bool__(self) -> bool:  # ninja takes a falsy result for "not authenticated"
        return True

    @property
    def read_only(self) -> bool:
        return bool(self.token and self.token.read_only)

    def actor(self, request) -> Actor:
        return Actor(user=self.user, source="api")


def _rate(name: str, default: tuple[int, int]) -> tuple[int, int]:
    return getattr(settings, name, default)


def throttle_address(request) -> None:
    """Count this request for its client address (first: guessing tokens counts too)."""
    address = request.META.get("REMOTE_ADDR") or "unknown"
    _count([("address", address, *_rate("API_ADDRESS_RATE", (600, 60)))])


def throttle(request, caller: Caller) -> None:
    """Count this request for its token (or signed-in user)."""
    if caller.token is not None:
        _count([("token", str(caller.token.pk), *_rate("API_TOKEN_RATE", (300, 60)))])
    elif caller.user is not None:
        _count([("user", str(caller.user.pk), *_rate("API_TOKEN_RATE", (300, 60)))])


def _count(keys) -> None:
    """Over a limit: ApiError 429 with the seconds to wait."""
    now = time.time()
    for kind, ident, limit, window in keys:
        slot = int(now // window)
        key = f"api-throttle:{kind}:{ident}:{window}:{slot}"
        cache.add(key, 0, timeout=window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 1)
            count = 1
        if count > limit:
            wait = max(1, math.ceil((slot + 1) * window - now))
            raise ApiError(429, "throttled", f"Too many requests for this {kind}: try again in {wait} s.", retry_after=wait)


def _csrf_failure(request) -> str | None:
    check = CsrfViewMiddleware(lambda r: None)
    check.process_request(request)
    response = check.process_view(request, None, (), {})
    return None if response is None else "CSRF check failed: send the X-CSRFToken header of the session."


def _check_body(request) -> None:
    """JSON bodies without NUL characters or lone surrogates: the databases refuse both (a 400 here, not a 500 there)."""
    if not request.body or "json" not in request.content_type:
        return
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return  # the API's parser says what is wrong with it
    _clean(data, "body")


def _clean(value, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ApiError(400, "invalid", "Text cannot contain NUL characters or lone surrogates.", field=where)
    elif isinstance(value, dict):
        for k, v in value.items():
            _clean(k, where)
            _clean(v, str(k))
    elif isinstance(value, list):
        for v in value:
            _clean(v, where)


class CallerAuth(HttpBearer):
    """A bearer token (`Authorization: Bearer ft_...`), else the session, else the public."""

    openapi_description = "A personal API token, made on the profile's API tokens page. Without it: the public record."

    def __call__(self, request) -> Caller:
        for value in request.GET.values():
            if "\x00" in value:
                raise ApiError(400, "invalid", "Query parameters cannot contain NUL characters.")
        _check_body(request)
        throttle_address(request)
        header = request.headers.get("Authorization", "")
        if header:
            caller = self._by_token(header)
        else:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                caller = Caller(user=user, via_session=True)
                if request.method not in SAFE_METHODS:
                    failure = _csrf_failure(request)
                    if failure:
                        raise ApiError(403, "csrf", failure)
            else:
                caller = Caller(user=None)
        throttle(request, caller)
        if caller.read_only and request.method not in SAFE_METHODS:
            raise ApiError(403, "read_only", "This token is read only: it cannot change anything.")
        return caller

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return None

    def _by_token(self, header: str) -> Caller:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise ApiError(401, "unauthenticated", "Send the token as: Authorization: Bearer <token>.", field="Authorization")
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw.strip())).first()
        if token is None or not token.is_active or not token.user.is_active:
            raise ApiError(401, "unauthenticated", "This token is unknown, expired or revoked.", field="Authorization")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # at most once a minute: no write per request
            token.last_used_at = now
        return Caller(user=token.user, token=token)
