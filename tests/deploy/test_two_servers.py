"""The production shape: two app servers (gunicorn) on one PostgreSQL database and one shared cache, and a job worker.

A focal point signs in and records progress through server A; an anonymous
reader's next pages on server B show it: the public evaluation page at once,
the dashboard's figures first as the previous ones, marked as such, then the
new ones, computed by the worker. The session made on A is valid on B (no
sticky sessions needed). The shared cache is Redis; tests/deploy/test_cache.py
shares Django's database cache (where there is no Redis) between processes.
"""

from __future__ import annotations

import re
import subprocess
import urllib.error
import urllib.request
import uuid
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest
from django.db import connection

from jobs.models import Worker
from tests.processes import (
    EXE,
    GUNICORN,
    REDIS_URL,
    Processes,
    environment,
    free_port,
    shared_database,
    wait_until,
)
from tracking.models import KeyAction
from tracking.models.responses import ResponseStatus
from tracking.services.demo import DEMO_PASSWORD, DEMO_UNIT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres]

STALE = "newer ones are being computed"


class Reader:
    """One person's browser: a cookie jar shared by both servers (same host, as behind one load balancer)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, url: str) -> str:
        with self.opener.open(url, timeout=60) as r:
            assert r.status == 200, (url, r.status)
            return r.read().decode()

    def post(self, url: str, fields: dict) -> str:
        with self.opener.open(url, data=urlencode(fields).encode(), timeout=60) as r:
            return r.read().decode()


def token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def completed(html: str) -> int:
    return int(re.search(r">(\d+)</span> Completed", html.replace("\n", "")).group(1))


def answering(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture
def redis_prefix():
    """A key prefix of the test's own in the shared Redis (db 5 unless TEST_REDIS_URL says), emptied after."""
    import redis

    prefix = f"ft-test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not answering at {REDIS_URL} ({exc}); the machine starts it, and so does .ci/run")
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture
def deployment(tmp_path, redis_prefix):
    if connection.vendor != "postgresql":
        pytest.skip(
            "several app servers share one PostgreSQL database in production; SQLite is for one machine "
            "(this test runs in the PostgreSQL pass: DATABASE_URL=postgres://...)"
        )
    with shared_database(tmp_path) as database_url:
        env = environment(
            database_url,
            tmp_path,
            CACHE_URL=REDIS_URL,
            CACHE_KEY_PREFIX=redis_prefix,
            # The dashboard's figures computed at most every 3 s (a minute by default): the refresh waits for that.
            CACHE_REFRESH_EVERY="3",
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            SECURE_HSTS_SECONDS="0",
            STATIC_ROOT=str(tmp_path / "static"),
        )
        # What an installation runs besides `migrate` (the test database is migrated): the static files, and
        # here the demo data (its people get the production password hasher, not the tests' cheap one).
        setup = [
            subprocess.Popen([str(EXE), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for args in (["collectstatic", "--noinput", "-v0"], ["loaddemo"])
        ]
        for p in setup:
            out, _ = p.communicate(timeout=600)
            assert p.returncode == 0, out
        procs = Processes(tmp_path)
        try:
            bases = []
            for name in ("server-a", "server-b"):
                port = free_port()
                procs.start(name, [str(GUNICORN), "followthrough.wsgi:application", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2", "--access-logfile", "-"], env)
                bases.append(f"http://127.0.0.1:{port}")
            worker = procs.start("worker", [str(EXE), "worker"], env)
            for base in bases:
                wait_until(f"{base} to answer", lambda base=base: answering(base), timeout=60, procs=procs)
            wait_until("the worker to start", lambda: Worker.objects.filter(pid=worker.pid).exists(), timeout=60, procs=procs)
            yield bases, procs
        finally:
            procs.stop_all()


def test_a_change_through_one_server_is_on_the_others_next_page(deployment):
    (a, b), procs = deployment
    action = KeyAction.objects.filter(
        units__name=DEMO_UNIT, evaluation__management_response__status=ResponseStatus.APPROVED
    ).exclude(status="Completed").order_by("pk").first()
    evaluation_page, dashboard = f"/evaluations/{action.evaluation_id}/", "/dashboard/"

    public = Reader()
    assert "Saved through server A" not in public.get(b + evaluation_page)  # B has it cached now
    before = completed(public.get(b + dashboard))  # and the figures

    focal_point = Reader()
    login = focal_point.get(a + "/accounts/login/")
    focal_point.post(a + "/accounts/login/", {"csrfmiddlewaretoken": token(login), "username": "unit", "password": DEMO_PASSWORD})
    assert "Unit focal point" in focal_point.get(b + "/workspace/")  # signed in on A, known on B
    form = focal_point.get(a + f"/actions/{action.pk}/update/")
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    comment = f"Saved through server A ({uuid.uuid4().hex[:6]})"
    focal_point.post(a + f"/actions/{action.pk}/update/", {
        "csrfmiddlewaretoken": token(form), "version": version, "status": "Completed", "comment": comment,
        "evidence_url": "https://example.org/two-servers",
    })
    action.refresh_from_db()
    assert action.status == "Completed", procs.logs()

    assert comment in public.get(b + evaluation_page)  # B's next page shows it
    stale = public.get(b + dashboard)
    assert STALE in stale and completed(stale) == before  # the previous figures, said to be from before...
    fresh = wait_until(  # ...until the worker has computed the new ones, for both servers
        "the worker to refresh the dashboard", lambda: (h := public.get(b + dashboard)) and STALE not in h and h,
        timeout=60, procs=procs,
    )
    assert completed(fresh) == before + 1
    assert completed(public.get(a + dashboard)) == before + 1
    assert "failed" not in procs.log("worker")
