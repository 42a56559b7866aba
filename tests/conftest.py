"""Shared fixtures: the real GATE samples, and a cheap password hasher for speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "gate"
DEMO = ROOT / "tracking" / "demo"
SAMPLES = ["000_6da9e6de966dff24", "002_543cb0e5625ab64b"]


def sample_text(name: str) -> str:
    return (DEMO / f"{name}.txt").read_text(encoding="utf-8")


def sample_expected(name: str) -> dict:
    return json.loads((DATA / f"{name}.expected.json").read_text(encoding="utf-8"))


def real_pages() -> list[tuple[dict, dict]]:
    pages = {}
    for line in (DATA / "real-headers" / "pages.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            p = json.loads(line)
            pages[p["url"]] = p
    labels = [
        json.loads(line)
        for line in (DATA / "real-headers" / "headers.expected.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [(pages[label["url"]], label) for label in labels]


def subset(want, got) -> bool:
    """`got` holds everything `want` holds (extra keys allowed; `source` ignored)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k == "source" or (k in got and subset(v, got[k])) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and all(subset(a, b) for a, b in zip(want, got))
    return want == got


@pytest.fixture(autouse=True)
def _fresh_cache(_test_settings):
    # Tests build rows with factories (no history records, so no new data
    # version): each test starts with an empty page cache.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def no_page_cache(settings):
    """For tests that count what computing a page costs, not fetching it from the page cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # A cheap hasher keeps sign-in tests fast; the test client speaks plain HTTP.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    # In memory: tests leave no cache files behind.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    # Stale figures are refreshed in line: a test sees the new ones at once (test_caching.py tests the background).
    settings.CACHE_REFRESH_IN_BACKGROUND = False
    # Tests ask for many PDFs from one address; tests/reports/test_pdf_bounds.py tests the throttle itself.
    settings.PDF_RENDERS_PER_MINUTE = 10_000
    # Production serves hashed files from `collectstatic`; tests need no manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
