"""The short soak: gunicorn as in production, 8 virtual users mixing reads, sign-ins, exports and progress
updates through the real form for about 25 s, on the suite's database engine. `make soak` runs the long one.

What must hold: no 5xx, no failed request, no unexpected status, no worker restarted, every kind of
work done, every update recorded, and each worker's memory flat after the warm-up (bench/soak.py says how
that is measured; the short run allows more growth than the long one, since caches are still filling).
"""

from __future__ import annotations

import sys

import pytest

from .support import ROOT, Install

sys.path.insert(0, str(ROOT))

from bench import soak  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def install(tmp_path):
    install = Install(tmp_path / "soak", "soak")
    yield install
    install.drop()


def test_a_short_soak_answers_everything_and_memory_stays_flat(install):
    # The demo data only (the long soak adds a generated corpus): 120 offices' pages, three evaluations.
    result = soak.run(install.env, duration=25, concurrency=8, documents=0, rss_growth_mb=30, log=lambda *_: None)
    print(soak.report(result))
    assert result["errors_5xx"] == 0, result["server_log_tail"]
    assert result["failed"] == 0 and result["unexpected"] == 0, result["unexpected_examples"]
    assert result["workers_restarted"] == []
    assert set(result["kinds"]) == {"public read", "signed-in read", "export", "sign-in", "update"}
    assert result["requests"] >= 8 * 4
    assert result["memory_flat"], result["memory"]
    # Every progress update the form accepted is recorded, with its history.
    posted = result["updates_recorded"]
    counts = install.query(
        "from tracking.models import ActionUpdate\n"
        "result = ActionUpdate.objects.filter(comment__startswith='Soak update').count()"
    )
    assert posted > 0 and counts == posted
