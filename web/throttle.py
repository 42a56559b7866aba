"""Throttling of expensive public work per client address (a PDF laid out, say): 429 with Retry-After.

The address is the client's as `web.proxies` established it (from
TRUSTED_PROXIES only), so nobody escapes the limit by sending an
X-Forwarded-For header. Counters live in the shared cache, one per address
and time window, so every server of a deployment counts together.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

log = logging.getLogger(__name__)


def wait(request, kind: str, limit: int, window: int = 60) -> int:
    """0 if this address may do one more `kind` now (and count it); else the seconds until it may."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    now = time.time()
    slot = int(now // window)
    key = f"ft:throttle:{kind}:{address}:{slot}"
    cache.add(key, 0, window + 5)
    try:
        n = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window + 5)
        n = 1
    if n <= limit:
        return 0
    log.warning("throttled: %s from %s (%d in %d s, limit %d)", kind, address, n, window, limit)
    return max(1, int((slot + 1) * window - now) + 1)


def too_many(seconds: int, what: str) -> HttpResponse:
    response = HttpResponse(
        f"Too many {what} asked for from this address: try again in {seconds} seconds.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response


def pdf_limit() -> int:
    return getattr(settings, "PDF_RENDERS_PER_MINUTE", 6)
