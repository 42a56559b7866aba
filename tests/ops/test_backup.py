"""`followthrough backup` and `followthrough restore`, as an operator runs them, on the suite's database engine.

A writer process records progress updates through the services, without
pause, while the backup is taken; the restored copy passes the integrity
check and holds every update committed before the backup began, each whole
(its history record, its key action's status and version, its evidence file).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest

from .support import PYTHON, Install, engine

WRITER = Path(__file__).with_name("writer.py")
pytestmark = pytest.mark.slow

# Each update whole in a copy: the ids of updates, of their history records, and the key
# actions' state, so that a test can tell a consistent snapshot from a torn one.
STATE = """
from tracking.models import ActionUpdate, ChangeRecord, KeyAction
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.conf import settings
import os
ct = ContentType.objects.get_for_model(ActionUpdate)
updates = list(ActionUpdate.objects.order_by("pk").values("pk", "key_action_id", "status_after", "evidence_file"))
latest = {}
for u in updates:
    latest[u["key_action_id"]] = u["status_after"]
result = {
    "updates": [u["pk"] for u in updates],
    "update_records": sorted(int(i) for i in ChangeRecord.objects.filter(content_type=ct, action="create").values_list("object_id", flat=True)),
    "status_matches_latest_update": all(
        KeyAction.objects.get(pk=k).status == s for k, s in latest.items()
    ),
    # Every key action's: some moved a step without a progress update (a verification, a deadline revision).
    "versions": {str(k.pk): k.version for k in KeyAction.objects.all()},
    "updates_per_action": {str(k): sum(1 for u in updates if u["key_action_id"] == k) for k in latest},
    "evidence": [u["evidence_file"] for u in updates if u["evidence_file"]],
    "evidence_present": [os.path.exists(os.path.join(settings.MEDIA_ROOT, u["evidence_file"])) for u in updates if u["evidence_file"]],
    "integrity": (connection.cursor().execute("PRAGMA integrity_check").fetchone()[0] if connection.vendor == "sqlite" else "n/a"),
}
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    install = Install(tmp_path_factory.mktemp("backup-source"), "bksrc")
    install.run("migrate", "-v0")
    install.run("loaddemo")
    yield install
    install.drop()


@pytest.fixture
def target(tmp_path):
    install = Install(tmp_path / "target", "bkdst")
    yield install
    install.drop()


class Writer:
    """tests/ops/writer.py in its own process, its committed ids collected as they come."""

    def __init__(self, install: Install, stop: Path):
        self.stop_file = stop
        self.proc = subprocess.Popen(
            [str(PYTHON), str(WRITER), str(stop)], env=install.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.committed: list[int] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.committed.append(int(line))

    def wait_for(self, n: int, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while len(self.committed) < n:
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "the writer did not get going"
            time.sleep(0.05)

    def stop(self):
        self.stop_file.touch()
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        assert self.proc.returncode == 0, self.proc.stderr.read()


def test_a_backup_taken_while_updates_go_on_restores_whole(source, target, tmp_path):
    base = source.query(STATE)
    writer = Writer(source, tmp_path / "stop")
    try:
        writer.wait_for(20)
        before = list(writer.committed)  # each printed after its transaction committed
        archive = tmp_path / "backup.tar.gz"
        made = source.run("backup", str(archive))
        during = len(writer.committed) - len(before)
        writer.wait_for(len(writer.committed) + 5)  # and the writer is still going after it
    finally:
        writer.stop()
    assert during > 0, "updates were committed while the backup ran"
    assert f"to {archive}" in made.stdout and archive.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob("*.partial"))

    restored = target.run("restore", str(archive))
    assert "replaced: nothing (the database was empty)" in restored.stdout
    assert "checked: foreign keys" in restored.stdout and "none dangling" in restored.stdout
    if engine() == "sqlite":
        assert "checked: SQLite integrity check of the backup: ok" in restored.stdout
        assert "checked: SQLite quick check of the restored file: ok" in restored.stdout
    state = target.query(STATE)
    assert state["integrity"] in ("ok", "n/a")
    # Every update committed before the backup began is there...
    assert set(before) <= set(state["updates"])
    # ...and nothing is there by half: each update with its history record, each key action
    # with the status of its latest update and one version step per update.
    assert state["updates"] == state["update_records"]
    assert state["status_matches_latest_update"]
    for action, n in state["updates_per_action"].items():
        grew = n - base["updates_per_action"].get(action, 0)
        assert state["versions"][action] == base["versions"].get(action, 1) + grew
    # The evidence files the restored database names are all there.
    assert state["evidence"] and all(state["evidence_present"])
    # The restored copy is a point in the writer's history: a prefix of what it committed.
    new = [pk for pk in state["updates"] if pk not in set(base["updates"])]
    assert new == writer.committed[: len(new)]


def test_restore_refuses_to_replace_data_without_force_and_says_what_it_replaced(source, target, tmp_path):
    archive = tmp_path / "backup.tar"
    source.run("backup", str(archive))
    target.run("restore", str(archive))
    counts = target.query("from tracking.models import ActionUpdate; result = ActionUpdate.objects.count()")
    (target.media / "evidence" / "late.txt").write_text("a file that came after")

    refused = target.run("restore", str(archive), check=False)
    assert refused.returncode != 0
    assert "refused: the database holds" in refused.stderr and "users" in refused.stderr
    assert "--force" in refused.stderr and f"{target.media} holds" in refused.stderr
    assert (target.media / "evidence" / "late.txt").exists()

    forced = target.run("restore", "--force", str(archive))
    assert "replaced: what the database held (" in forced.stdout
    assert "the files that were there are kept in" in forced.stdout
    assert not (target.media / "evidence" / "late.txt").exists()
    kept = next(target.var.glob("media-before-restore-*"))
    assert (kept / "evidence" / "late.txt").read_text() == "a file that came after"
    assert target.query("from tracking.models import ActionUpdate; result = ActionUpdate.objects.count()") == counts


def test_a_damaged_backup_changes_nothing(source, tmp_path):
    archive = tmp_path / "backup.tar"
    source.run("backup", str(archive))
    # Record something after the backup, then offer an archive whose manifest disagrees with its database.
    source.query(
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.create_user('after-the-backup', password='x' * 20)\nresult = 1"
    )
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["tables"]["tracking_actionupdate"] += 1
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    failed = source.run("restore", "--force", str(damaged), check=False)
    assert failed.returncode != 0
    assert "tracking_actionupdate" in failed.stderr or "does not match its manifest" in failed.stderr
    users = source.query("from django.contrib.auth import get_user_model; result = list(get_user_model().objects.values_list('username', flat=True))")
    assert "after-the-backup" in users, "the database is as it was"

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    p = source.run("restore", str(not_a_backup), check=False)
    assert p.returncode != 0 and "is not a backup archive" in p.stderr


def test_a_backup_is_restored_only_on_its_own_engine(source, tmp_path):
    archive = tmp_path / "backup.tar"
    source.run("backup", str(archive))
    manifest = json.loads(tarfile.open(archive).extractfile("manifest.json").read())
    other = "postgresql" if manifest["engine"] == "sqlite" else "sqlite"
    retagged = tmp_path / "retagged.tar"
    with tarfile.open(archive) as src, tarfile.open(retagged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                data = json.dumps({**manifest, "engine": other}).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    p = source.run("restore", "--force", str(retagged), check=False)
    assert p.returncode != 0 and f"holds a {other} database and this installation uses" in p.stderr
    assert os.path.exists(archive)
