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

import contextlib
import contextvars
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)

T = TypeVar("T")
# A safety net for changes made outside the services (SQL by hand): they show within the hour.
TIMEOUT = 3600


# After a change every reader of a busy page misses its entry at once; rather than each compute it again,
# the first computes it and the others wait for its value, at most this long: a page slower than that is
# computed by its waiters too, as before (pages that take seconds are `slow` ones, kept and refreshed by a job).
COMPUTING_WAIT = 2.0
# The mark of an entry being computed, in the shared cache (so across servers); a request that died leaves
# one that expires.
COMPUTING_TIMEOUT = 60


def cached(namespace: str, parts: tuple, compute: Callable[[], T]) -> T:
    key = _key(namespace, parts)
    value = cache.get(key)
    if value is None:
        value = computed_once(key, compute, lambda v: cache.set(key, v, TIMEOUT))
    return value


def computed_once(key: str, compute: Callable[[], T], keep: Callable[[T], None], found: Callable[[], object] | None = None):
    """`compute()` and `keep` its value under `key`, unless another request is computing it: then wait for
    theirs (`found()`, by default the value under `key`). One computation of an entry at a time, not one per
    reader who missed it. Returns what `compute()` or `found()` gave."""
    found = found or (lambda: cache.get(key))
    guard = key + ":computing"
    token = secrets.token_hex(8)
    claimed = cache.add(guard, token, COMPUTING_TIMEOUT)
    if claimed:
        value = found()  # kept by another request between this one's miss and its claim
        if value is not None:
            _release(guard, token)
            return value
    else:
        delay, until = 0.005, time.monotonic() + COMPUTING_WAIT
        while time.monotonic() < until:
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
            if cache.get(guard) is None:  # done: its value is kept by now, if it was one to keep
                value = found()
                if value is not None:
                    return value
                break  # done without keeping a value (an error, a page not to keep): compute it here
    try:
        value = compute()
        keep(value)
        return value
    finally:
        if claimed:
            _release(guard, token)


def _release(guard: str, token: str) -> None:
    # Ours still? A computation that outlived COMPUTING_TIMEOUT may find another request's mark there.
    if cache.get(guard) == token:
        cache.delete(guard)


def cached_page(
    request, title: str, nav: str, namespace: str, parts: tuple, template: str, context, *, slow: bool = False,
    version: Callable[[], object] | None = None,
) -> object:
    """A page whose body is rendered once per data version, reader scope and day.

    `context` is a function: nothing is queried when the body is in the cache.
    The page around the body (the signed-in user, messages) is rendered each time.
    `version`: what moves when what the body shows may change (default: any change anywhere,
    `queries.data_version`); an office's page follows its office, the figures follow their counts.
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
    version = (version or queries.data_version)()

    def body() -> str:
        # A slow page's figures, over every key action, planned for the values asked (a region, a year).
        with queries.planned_for_their_values() if slow else contextlib.nullcontext():
            return render_to_string(template, {**context(), "internal": reader.internal}, request)

    stale_since = None
    if slow:
        html, computed_at, stale = revalidated(namespace, key, version, body, request)
        stale_since = computed_at if stale else None
    else:
        html = cached(namespace, (*key, version), body)
    response = render(request, "web/page.html", {"title": title, "nav": nav, "body": html, "stale_since": stale_since})
    if stale_since is not None:
        response.stale = True  # not for the whole-page cache: the next reader should get the new figures
        response["Cache-Control"] = "no-store"
    return response


def public_page(view=None, *, version: Callable[..., object] | None = None):
    """Whole pages for anonymous readers, once per data version and day: no view, no template runs.

    Only GET requests without a pending message qualify; the page an anonymous
    reader gets carries no CSRF token (it has no form to post) and sets no cookie.
    `version(request, *args, **kwargs)`: what moves when the page may change (default: any
    change anywhere); `@public_page(version=...)` keeps a page through changes that are not its.
    """
    from functools import wraps

    from django.http import HttpResponse

    from tracking import queries
    from tracking.models.responses import today
    from tracking.permissions import PUBLIC

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != "GET" or request.user.is_authenticated or "messages" in request.COOKIES:
                return view(request, *args, **kwargs)
            # Anonymous readers only: what the public reads.
            moved = version(request, *args, **kwargs) if version else queries.data_version()
            key = ("page", request.get_full_path(), PUBLIC.key, today(), moved)
            hit = cached_raw(key)
            if hit is not None:
                status, content_type, body = hit
                return HttpResponse(body, status=status, content_type=content_type)
            # Not one computation at a time here (`computed_once`): a page that is not kept (stale figures
            # shown while a job computes the new ones, a 404) would make its readers wait for each other in
            # turn. Its body, the costly part, is computed once (`cached`).
            response = view(request, *args, **kwargs)
            _keep_page(key, response)
            return response

        return wrapper

    return decorate(view) if view is not None else decorate


def _keep_page(key: tuple, response) -> None:
    """A whole page kept for the public if it can be (served whole, no cookie, not a stale figure)."""
    if (
        response.status_code == 200
        and not response.cookies
        and not getattr(response, "streaming", False)
        and not getattr(response, "stale", False)
    ):
        store_raw(key, (response.status_code, response["Content-Type"], response.content))


# Figures that cost seconds at scale are kept for days: the version says when they are stale.
REVALIDATED_TIMEOUT = 7 * 24 * 3600
# One queued refresh per key at a time, for at most this long (past it, a request may queue another).
REFRESH_GUARD_TIMEOUT = 600
# Set while a job worker replays a page (`replay`): its slow figures are computed, not queued again.
_replaying: contextvars.ContextVar[bool] = contextvars.ContextVar("replaying", default=False)


def revalidated(
    namespace: str, parts: tuple, version, compute: Callable[[], T], request=None
) -> tuple[T, object, bool]:
    """(value, computed at, stale) for figures that cost seconds (the dashboard over everything).

    The current version's value if there is one. Otherwise, if an older
    version's is there, that one at once (marked stale, with its time) while
    a job worker replays `request` to compute the new one (one job per key
    at a time, `jobs.tasks.refresh_page`; CACHE_REFRESH_EVERY seconds after the
    previous one was computed at the soonest: under a stream of changes each
    page's figures are computed that often, not without pause). A first ever request waits for the
    computation, and so does every request when no worker runs, or with
    CACHE_REFRESH_IN_BACKGROUND off.
    """
    key = _key(namespace, parts)
    entry = cache.get(key)
    if entry is not None and entry[0] == version:
        return entry[1], entry[2], False
    if (
        entry is not None
        and request is not None
        and getattr(settings, "CACHE_REFRESH_IN_BACKGROUND", True)
        and not _replaying.get()
        and _refresh(key, request, entry[2])
    ):
        return entry[1], entry[2], True
    value = compute()
    computed_at = timezone.now()
    cache.set(key, (version, value, computed_at), REVALIDATED_TIMEOUT)
    return value, computed_at, False


def _refresh(key: str, request, computed_at) -> bool:
    """Queue the one refresh of `key` (unless it is queued already), to run CACHE_REFRESH_EVERY seconds after the
    figures it replaces were computed (`computed_at`) at the soonest; False when no worker would run it."""
    from datetime import timedelta

    from jobs import queue
    from jobs.tasks import refresh_page

    every = max(0, settings.CACHE_REFRESH_EVERY)
    guard = key + ":refreshing"
    if not cache.add(guard, 1, REFRESH_GUARD_TIMEOUT + every):
        return True  # queued or running already, whichever server queued it
    if not queue.workers_alive():
        cache.delete(guard)
        return False
    user = request.user
    when = computed_at + timedelta(seconds=every)
    task = refresh_page.using(run_after=when) if when > timezone.now() else refresh_page
    task.enqueue(
        path=request.get_full_path(),
        user_id=user.pk if user.is_authenticated else None,
        host=request.get_host(),
        secure=request.is_secure(),
        guard=guard,
    )
    return True


def replay(path: str, user_id: int | None, host: str, secure: bool) -> int:
    """Run a page's view again as the reader who found it stale, its slow figures computed and stored.

    The job's half of `_refresh`. The view makes its cache keys from this
    request as from the reader's, so what it stores is keyed for what it shows.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django.urls import resolve
    from django_htmx.middleware import HtmxDetails

    from tracking.actor import Actor

    request = RequestFactory().get(path, HTTP_HOST=host, secure=secure)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    request.user = user or AnonymousUser()
    request.actor = Actor(user=user, source="web")
    request.htmx = HtmxDetails(request)
    match = resolve(request.path_info)
    token = _replaying.set(True)
    try:
        return match.func(request, *match.args, **match.kwargs).status_code
    finally:
        _replaying.reset(token)


def _key(namespace: str, parts: tuple) -> str:
    return f"ft:{release()}:{namespace}:" + hashlib.sha1(repr(parts).encode()).hexdigest()


# The code and templates that make what is kept: a new release renders pages afresh rather than serve
# bodies an older template made (the data version alone would keep them until the data changed).
RELEASE_PACKAGES = ("web", "reports", "tracking", "search", "api", "jobs", "reminders", "gateformat", "followthrough")


def fingerprint(roots) -> str:
    """A short digest of the .py and .html files under `roots` (their paths and contents)."""
    from pathlib import Path

    digest = hashlib.sha1()
    for root in roots:
        root = Path(root)
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".html") and "migrations" not in p.parts):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


@functools.cache
def release() -> str:
    """This release's fingerprint, once per process (servers of one release share their cache entries)."""
    from pathlib import Path

    base = Path(settings.BASE_DIR)
    return fingerprint([base / name for name in RELEASE_PACKAGES if (base / name).is_dir()])


def cached_raw(parts: tuple):
    return cache.get(_key("raw", parts))


def store_raw(parts: tuple, value) -> None:
    cache.set(_key("raw", parts), value, TIMEOUT)


def lookup(namespace: str, parts: tuple):
    """The value kept for `parts`, or None (for callers that decide what a miss costs, see `web.throttle`)."""
    return cache.get(_key(namespace, parts))


def store(namespace: str, parts: tuple, value) -> None:
    cache.set(_key(namespace, parts), value, TIMEOUT)
