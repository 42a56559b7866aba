"""A real `followthrough import` process on the test's database (SQLite file in WAL mode, or PostgreSQL).

Killed with SIGKILL half way through 1,000 documents, it leaves whole
documents only, and running it again completes the import. While it runs, a
person's save (a progress update through the service) goes through with the
database's lock wait cut to one second: imports commit batch by batch, never
hold the database for the whole run.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from gateformat import generate
from tests.processes import EXE, Processes, environment, shared_database, wait_until
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.models import ChangeRecord, Evaluation, KeyAction, Recommendation
from tracking.services.progress import record_progress

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def procs(tmp_path):
    with shared_database(tmp_path) as url:
        procs = Processes(tmp_path)
        procs.env = environment(url, tmp_path)  # type: ignore[attr-defined]
        try:
            yield procs
        finally:
            procs.stop_all()


def start_import(procs: Processes, name: str, folder: Path, *extra: str) -> subprocess.Popen:
    args = [str(EXE), "import", str(folder), "--no-progress", "--workers", "1", *extra]
    return procs.start(name, args, procs.env)  # type: ignore[attr-defined]


def test_an_import_killed_half_way_leaves_whole_documents_and_a_second_run_completes_it(procs, tmp_path):
    folder = tmp_path / "docs"
    count = 1000
    generate.write(folder, count, seed=7)
    truth = {
        str(folder / g.filename): (len(g.document.recommendations), len(g.document.key_actions))
        for g in generate.Generator(7).documents(count)
    }
    first = start_import(procs, "first", folder)
    wait_until("some documents to be imported", lambda: Evaluation.objects.count() >= 60, timeout=240, procs=procs)
    assert first.poll() is None, "the run ended before it could be killed:\n" + procs.logs()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    imported = Evaluation.objects.count()
    assert 0 < imported < count
    # Whole documents only: each evaluation holds every recommendation and key action of its page.
    recs = {e: 0 for e in Evaluation.objects.values_list("pk", flat=True)}
    for ev_id in Recommendation.objects.values_list("evaluation_id", flat=True):
        recs[ev_id] += 1
    actions = dict.fromkeys(recs, 0)
    for ev_id in KeyAction.objects.values_list("evaluation_id", flat=True):
        actions[ev_id] += 1
    for pk, source in Evaluation.objects.values_list("pk", "source"):
        assert (recs[pk], actions[pk]) == truth[source], source
    assert ChangeRecord.objects.filter(action="create", content_type__model="evaluation").count() == imported

    second = start_import(procs, "second", folder)
    assert second.wait(timeout=600) == 0, procs.log("second")
    assert "0 failed" in procs.log("second")
    assert set(Evaluation.objects.values_list("source", flat=True)) == set(truth)
    assert Evaluation.objects.count() == len(truth)
    assert KeyAction.objects.count() == sum(a for _, a in truth.values())


def test_a_save_during_a_long_import_goes_through(procs, tmp_path):
    office = make_office("Office W")
    action = make_action(make_recommendation(make_evaluation(office, status="Approved")), status="Not Initiated")
    folder = tmp_path / "docs"
    generate.write(folder, 400, seed=11)
    run = start_import(procs, "import", folder, "--batch-size", "20")
    # Whatever waits for a lock gives up after one second (the default waits 20 s).
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 1000")
        else:
            cursor.execute("SET lock_timeout = '1s'")
    saves = 0
    for threshold in (20, 60, 100, 140, 180):
        wait_until(f"{threshold} documents imported", lambda t=threshold: Evaluation.objects.count() > t, timeout=240, procs=procs)
        if run.poll() is not None:
            break
        action.refresh_from_db()
        status = "Initiated" if action.status != "Initiated" else "Not Initiated"
        record_progress(Actor.system("command"), action, version=action.version, status=status, comment=f"save {saves}",
                        reopen_reason="Saved again.")
        saves += 1
    assert saves >= 2, "the import ended before the saves:\n" + procs.logs()
    assert run.wait(timeout=600) == 0, procs.log("import")
    assert action.updates.count() == saves
