"""Throttling of expensive public work per client address (a PDF laid out, say): 429 with Retry-After.

The address is the client's as `web.proxies` established it (from
TRUSTED_PROXIES only), so nobody escapes the limit by sending an
X-Forwarded-For header. Counters live in the shared cache, one per address,
so every server of a deployment counts together (a few racing requests may slip
through between servers: this bounds work, it is no quota).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

log = logging.getLogger(__name__)


def wait(request, kind: str, limit: int, window: int = 60) -> int:
    """0 if this address may do one more `kind` now (and count it); else the seconds until it may.

    The window starts at the address's first request (not on the clock's minute), so the
    count is the same whenever the requests come; its end is what Retry-After says.
    """
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    key = f"ft:throttle:{kind}:{address}"
    now = time.time()
    entry = cache.get(key)
    if entry is None or now - entry[1] >= window:
        entry = (0, now)
    n, start = entry[0] + 1, entry[1]
    cache.set(key, (n, start), max(1, int(start + window - now) + 1))
    if n <= limit:
        return 0
    log.warning("throttled: %s from %s (%d in %d s, limit %d)", kind, address, n, window, limit)
    return max(1, int(start + window - now) + 1)


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


def pdf_window() -> int:
    return getattr(settings, "PDF_THROTTLE_SECONDS", 60)
