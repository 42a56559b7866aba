"""Readers who miss the same cache entry at once: one computes it, the others wait for its value
(`web.caching.computed_once`), so a change does not make every reader of a busy page compute its body again."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from web import caching


class Slow:
    """A computation that takes `seconds`, counted; `started` is set when the first one begins."""

    def __init__(self, seconds: float = 0.3, fail: bool = False):
        self.seconds, self.fail = seconds, fail
        self.calls = 0
        self.started = threading.Event()

    def __call__(self):
        self.calls += 1
        n = self.calls
        self.started.set()
        time.sleep(self.seconds)
        if self.fail and n == 1:
            raise RuntimeError("the first computation fails")
        return f"value {n}"


def _both(first, second, started: threading.Event) -> list:
    """Run `first` in a thread, then `second` in another once `first` is computing; their results."""
    out: dict[str, object] = {}

    def run(name, fn):
        try:
            out[name] = fn()
        except RuntimeError as e:
            out[name] = e

    a = threading.Thread(target=run, args=("a", first))
    a.start()
    assert started.wait(5)
    b = threading.Thread(target=run, args=("b", second))
    b.start()
    a.join(10)
    b.join(10)
    return [out["a"], out["b"]]


@pytest.fixture(params=["locmem", "file"])
def shared_cache(request, settings, tmp_path):
    """The in-process cache, and the file cache (the default for one machine: each thread its own instance, as
    each server process has)."""
    if request.param == "file":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}}
    return request.param


def test_a_reader_who_misses_while_another_computes_gets_that_value(shared_cache):
    compute = Slow()
    results = _both(lambda: caching.cached("herd", ("page",), compute), lambda: caching.cached("herd", ("page",), compute),
                    compute.started)
    assert results == ["value 1", "value 1"] and compute.calls == 1
    assert caching.cached("herd", ("page",), compute) == "value 1" and compute.calls == 1


def test_different_entries_are_computed_side_by_side():
    compute = Slow()
    results = _both(lambda: caching.cached("herd", ("a",), compute), lambda: caching.cached("herd", ("b",), compute),
                    compute.started)
    assert sorted(results) == ["value 1", "value 2"] and compute.calls == 2


def test_when_the_computation_fails_the_waiting_reader_computes_it():
    compute = Slow(fail=True)
    results = _both(lambda: caching.cached("herd", ("page",), compute), lambda: caching.cached("herd", ("page",), compute),
                    compute.started)
    assert isinstance(results[0], RuntimeError) and results[1] == "value 2"
    assert compute.calls == 2
    # No mark is left behind: the next reader gets the kept value at once.
    assert cache.get(caching._key("herd", ("page",)) + ":computing") is None


def test_a_mark_left_by_a_request_that_died_delays_a_reader_at_most_the_wait(monkeypatch):
    monkeypatch.setattr(caching, "COMPUTING_WAIT", 0.2)
    cache.add(caching._key("herd", ("page",)) + ":computing", 1, 60)
    start = time.monotonic()
    assert caching.cached("herd", ("page",), lambda: "computed") == "computed"
    assert 0.15 <= time.monotonic() - start < 2


def test_a_computation_longer_than_the_wait_is_computed_by_the_waiting_reader_too(monkeypatch):
    monkeypatch.setattr(caching, "COMPUTING_WAIT", 0.1)
    compute = Slow(seconds=0.5)
    results = _both(lambda: caching.cached("herd", ("page",), compute), lambda: caching.cached("herd", ("page",), compute),
                    compute.started)
    assert sorted(results) == ["value 1", "value 2"] and compute.calls == 2


def test_a_computation_that_outlived_its_mark_leaves_another_requests_mark_alone(monkeypatch):
    guard = caching._key("herd", ("page",)) + ":computing"

    def compute():
        cache.set(guard, "another request's", 60)  # ours expired meanwhile; another request claimed the entry
        return "computed"

    assert caching.cached("herd", ("page",), compute) == "computed"
    assert cache.get(guard) == "another request's"


def test_an_entry_kept_between_a_miss_and_the_claim_is_not_computed_again(monkeypatch):
    """A request that missed just before another kept the value (and released its mark) takes that value."""
    from django.core.cache import caches

    key = caching._key("herd", ("page",))
    backend = caches["default"]  # the object itself, not the proxy: undone on it whatever the settings are then
    real_add = backend.add

    def add_after_another_kept_it(k, *args, **kwargs):
        if k == key + ":computing":
            backend.set(key, "kept by the other", 60)
        return real_add(k, *args, **kwargs)

    monkeypatch.setattr(backend, "add", add_after_another_kept_it)
    assert caching.computed_once(key, lambda: "computed again", lambda v: None) == "kept by the other"
    assert cache.get(key + ":computing") is None


def test_two_readers_of_a_public_page_missed_at_once_compute_its_body_once():
    """The whole page is not made one at a time (one not kept, such as stale figures, would make its readers
    wait in turn), but its body is."""
    body = Slow()

    @caching.public_page(version=lambda request: 1)
    def view(request):
        return HttpResponse(caching.cached("herd", ("body",), body))

    def get():
        request = RequestFactory().get("/herd/")
        request.user = AnonymousUser()
        response = view(request)
        return response.status_code, response.content

    assert _both(get, get, body.started) == [(200, b"value 1"), (200, b"value 1")] and body.calls == 1
