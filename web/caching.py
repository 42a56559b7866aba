"""Rendered page bodies and computed figures, kept until the data they show changes.

A cached entry is keyed on what it shows (the page and its filters; what its
reader may read, `tracking.permissions.reader_scope(user).key`, so a page is
never served to someone whose reading differs: the public, an office's focal
point, an evaluation office of a region, ...; the day: overdue flags change
with the date) and on the version of the data (see `tracking.queries.data_version`
and `evaluation_version`). A change writes a new version, so nothing is ever
served stale: entries of older versions are simply never asked for again and
age out of the cache.

Every change made through followthrough writes a history record and so a new
version. A change made behind its back (SQL by hand) shows when its entry
expires (TIMEOUT) or the server restarts.

Pages that show controls for one person (a focal point's update links, a
reviewer's buttons) are rendered for that person, not cached.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)

T = TypeVar("T")
# A safety net for changes made outside the services (SQL by hand): they show within the hour.
TIMEOUT = 3600


def cached(namespace: str, parts: tuple, compute: Callable[[], T]) -> T:
    key = _key(namespace, parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def cached_page(
    request, title: str, nav: str, namespace: str, parts: tuple, template: str, context, *, slow: bool = False
) -> object:
    """A page whose body is rendered once per data version, reader scope and day.

    `context` is a function: nothing is queried when the body is in the cache.
    The page around the body (the signed-in user, messages) is rendered each time.
    A `slow` page (seconds to compute at scale) is revalidated in the background:
    after a change its previous body is shown, with its time, until the new one is ready.
    """
    from django.shortcuts import render
    from django.template.loader import render_to_string

    from tracking import queries
    from tracking.models.responses import today
    from tracking.permissions import reader_scope

    reader = reader_scope(request.user)
    key = (request.get_full_path(), reader.key, today(), *parts)
    version = queries.data_version()

    def body() -> str:
        return render_to_string(template, {**context(), "internal": reader.internal}, request)

    stale_since = None
    if slow:
        html, computed_at, stale = revalidated(namespace, key, version, body)
        stale_since = computed_at if stale else None
    else:
        html = cached(namespace, (*key, version), body)
    response = render(request, "web/page.html", {"title": title, "nav": nav, "body": html, "stale_since": stale_since})
    if stale_since is not None:
        response.stale = True  # not for the whole-page cache: the next reader should get the new figures
        response["Cache-Control"] = "no-store"
    return response


def public_page(view):
    """Whole pages for anonymous readers, once per data version and day: no view, no template runs.

    Only GET requests without a pending message qualify; the page an anonymous
    reader gets carries no CSRF token (it has no form to post) and sets no cookie.
    """
    from functools import wraps

    from django.http import HttpResponse

    from tracking import queries
    from tracking.models.responses import today
    from tracking.permissions import PUBLIC

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.user.is_authenticated or "messages" in request.COOKIES:
            return view(request, *args, **kwargs)
        # Anonymous readers only: what the public reads.
        key = ("page", request.get_full_path(), PUBLIC.key, today(), queries.data_version())
        hit = cached_raw(key)
        if hit is not None:
            status, content_type, body = hit
            return HttpResponse(body, status=status, content_type=content_type)
        response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.cookies
            and not getattr(response, "streaming", False)
            and not getattr(response, "stale", False)
        ):
            store_raw(key, (response.status_code, response["Content-Type"], response.content))
        return response

    return wrapper


# Figures that cost seconds at scale are kept for days: the version says when they are stale.
REVALIDATED_TIMEOUT = 7 * 24 * 3600


def revalidated(namespace: str, parts: tuple, version, compute: Callable[[], T]) -> tuple[T, object, bool]:
    """(value, computed at, stale) for figures that cost seconds (the dashboard over everything).

    The current version's value if there is one. Otherwise, if an older
    version's is there, that one at once (marked stale, with its time) while
    one process computes the new one in the background; only a first ever
    request waits for the computation.
    """
    key = _key(namespace, parts)
    entry = cache.get(key)
    if entry is not None and entry[0] == version:
        return entry[1], entry[2], False
    if entry is None or not getattr(settings, "CACHE_REFRESH_IN_BACKGROUND", True):
        value = compute()
        computed_at = timezone.now()
        cache.set(key, (version, value, computed_at), REVALIDATED_TIMEOUT)
        return value, computed_at, False
    # One refresh at a time, whichever process sees the change first.
    if cache.add(key + ":refreshing", 1, 600):
        threading.Thread(target=_refresh, args=(key, version, compute), daemon=True).start()
    return entry[1], entry[2], True


def _refresh(key: str, version, compute: Callable) -> None:
    from django.db import close_old_connections, connection

    try:
        cache.set(key, (version, compute(), timezone.now()), REVALIDATED_TIMEOUT)
    except Exception:  # a failed refresh leaves the older figures; the next request tries again
        log.exception("refreshing %s failed", key)
    finally:
        cache.delete(key + ":refreshing")
        close_old_connections()
        connection.close()


def _key(namespace: str, parts: tuple) -> str:
    return f"ft:{namespace}:" + hashlib.sha1(repr(parts).encode()).hexdigest()


def cached_raw(parts: tuple):
    return cache.get(_key("raw", parts))


def store_raw(parts: tuple, value) -> None:
    cache.set(_key("raw", parts), value, TIMEOUT)
