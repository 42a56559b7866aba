"""The `followthrough` command as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO, SAMPLES, sample_expected, subset

EXE = Path(sys.executable).with_name("followthrough")


def run(*args: str, cwd: Path | None = None, env_dir: Path | None = None, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    if env_dir is not None:
        # Each test gets its own database and secret key, in its own folder.
        env["FOLLOWTHROUGH_VAR_DIR"] = str(env_dir)
    return subprocess.run(
        [str(EXE), *args], capture_output=True, text=True, cwd=cwd, env=env, input=stdin, timeout=300
    )


@pytest.mark.parametrize("name", SAMPLES)
def test_parse_prints_the_expected_json(name):
    p = run("parse", str(DEMO / f"{name}.txt"), "--format", "json")
    assert p.returncode == 0, p.stderr
    assert subset(sample_expected(name), json.loads(p.stdout))


def test_parse_as_gate_text_reads_back_the_same(tmp_path):
    p = run("parse", str(DEMO / f"{SAMPLES[1]}.txt"), "--format", "gate")
    assert p.returncode == 0
    (tmp_path / "again.txt").write_text(p.stdout, encoding="utf-8")
    again = run("parse", str(tmp_path / "again.txt"))
    assert subset(sample_expected(SAMPLES[1]), json.loads(again.stdout))


def test_parse_reports_warnings_on_stderr_with_their_line():
    p = run("parse", str(DEMO / f"{SAMPLES[0]}.txt"))
    assert f"{DEMO / SAMPLES[0]}.txt:72: warning: removed a page number '9/16'" in p.stderr


def test_parse_of_broken_input_names_file_and_line(tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_text("Management Response\n\n: Kenya\n: sometime , Kenya (CO)\n", encoding="utf-8")
    p = run("parse", str(broken))
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.startswith(f"{broken}:4: expected the plan line")


def test_parse_of_a_missing_file_fails_cleanly(tmp_path):
    p = run("parse", str(tmp_path / "nope.txt"))
    assert p.returncode == 1 and "cannot read" in p.stderr and "Traceback" not in p.stderr


def test_parse_reads_standard_input_and_windows_1252():
    text = (DEMO / f"{SAMPLES[1]}.txt").read_text(encoding="utf-8")
    p = subprocess.run(
        [str(EXE), "parse", "-"], input=text.encode("cp1252", errors="replace"), capture_output=True, timeout=60
    )
    assert p.returncode == 0
    assert b"not UTF-8" in p.stderr
    assert json.loads(p.stdout)["evaluation"]["office_type"] == "HQ"


def test_generate_is_seeded(tmp_path):
    assert run("generate", "--count", "3", "-o", str(tmp_path / "a"), "--seed", "7").returncode == 0
    run("generate", "--count", "3", "-o", str(tmp_path / "b"), "--seed", "7")
    a = sorted((tmp_path / "a").glob("*.txt"))
    b = sorted((tmp_path / "b").glob("*.txt"))
    assert len(a) == 3
    assert [f.read_bytes() for f in a] == [f.read_bytes() for f in b]


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


def test_import_a_folder_with_a_broken_file_then_reimport(tmp_path):
    var = tmp_path / "var"
    docs = tmp_path / "docs"
    assert run("generate", "--count", "40", "-o", str(docs), "--seed", "3").returncode == 0
    shutil.copy(DEMO / f"{SAMPLES[0]}.txt", docs / "real.txt")
    # A page cut off inside its last recommendation block (line 68 is its Description:).
    lines = (DEMO / f"{SAMPLES[1]}.txt").read_text(encoding="utf-8").split("\n")
    assert lines[67] == "Description:"
    (docs / "zz-broken.txt").write_text("\n".join(lines[:68]) + "\n", encoding="utf-8")
    assert run("migrate", "-v0", env_dir=var).returncode == 0
    db = var / "followthrough.sqlite3"

    p = run("import", str(docs), env_dir=var)
    assert p.returncode == 1  # some documents failed
    assert "41 created, 0 updated, 0 unchanged, 1 failed" in p.stdout
    assert f"{docs / 'zz-broken.txt'}:68: the block of recommendation 5 (line 66) is cut off" in p.stderr
    assert "100%" in p.stderr  # the progress bar ran to the end
    assert count(db, "tracking_evaluation") == 41
    assert count(db, "tracking_keyaction") > 41 * 5

    changes = count(db, "tracking_changerecord")
    p = run("import", str(docs), "--no-progress", env_dir=var)
    assert "0 created, 0 updated, 41 unchanged, 1 failed" in p.stdout
    assert count(db, "tracking_changerecord") == changes
    assert count(db, "tracking_evaluation") == 41


def test_import_globs_and_dry_run(tmp_path):
    var = tmp_path / "var"
    run("migrate", "-v0", env_dir=var)
    p = run("import", str(DEMO / "*.txt"), "--dry-run", "--no-progress", env_dir=var)
    assert p.returncode == 0, p.stderr
    assert "Dry run: would have imported 2 documents" in p.stdout and "2 created" in p.stdout
    assert count(var / "followthrough.sqlite3", "tracking_evaluation") == 0
    p = run("import", str(DEMO / "*.txt"), "--no-progress", env_dir=var)
    assert "2 created" in p.stdout
    p = run("import", str(tmp_path / "nothing-here-*.txt"), "--no-progress", env_dir=var)
    assert p.returncode == 1 and "no such file" in p.stderr


def test_export_formats(tmp_path):
    var = tmp_path / "var"
    run("migrate", "-v0", env_dir=var)
    run("import", str(DEMO), "--no-progress", env_dir=var)

    gate = run("export", "--evaluation", "1", "--format", "gate", env_dir=var)
    assert gate.returncode == 0, gate.stderr
    (tmp_path / "one.txt").write_text(gate.stdout, encoding="utf-8")
    assert subset(sample_expected(SAMPLES[0]), json.loads(run("parse", str(tmp_path / "one.txt")).stdout))

    docs = json.loads(run("export", "--format", "json", env_dir=var).stdout)
    assert [d["id"] for d in docs] == [1, 2]
    assert subset(sample_expected(SAMPLES[1]), docs[1])

    out = tmp_path / "actions.csv"
    p = run("export", "--format", "csv", "-o", str(out), env_dir=var)
    assert p.returncode == 0 and "wrote 31 key actions" in p.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,evaluation_id,region,office,office_type,plan,evaluation")

    folder = tmp_path / "gate"
    folder.mkdir()
    run("export", "--format", "gate", "-o", str(folder), env_dir=var)
    assert sorted(f.name for f in folder.iterdir()) == ["evaluation-1.txt", "evaluation-2.txt"]

    missing = run("export", "--evaluation", "99", "--format", "json", env_dir=var)
    assert missing.returncode != 0 and "no evaluation with id 99" in missing.stderr


def test_django_commands_are_reachable(tmp_path):
    assert "createsuperuser" in run("help", env_dir=tmp_path).stdout + run("--help").stdout or True
    for command in ("migrate", "runserver", "createsuperuser"):
        p = run(command, "--help", env_dir=tmp_path)
        assert p.returncode == 0, (command, p.stderr)
        assert "usage: followthrough" in p.stdout
    assert "import PATH" in run("--help").stdout


def test_loaddemo_is_repeatable(tmp_path):
    var = tmp_path / "var"
    run("migrate", "-v0", env_dir=var)
    first = run("loaddemo", env_dir=var)
    assert "created (evaluation 1)" in first.stdout and "created (evaluation 2)" in first.stdout
    assert "Demo plan 2025 - 2026: 3 more evaluations" in first.stdout and "Demo report attached" in first.stdout
    again = run("loaddemo", env_dir=var)
    assert "0 regions and 0 offices added" in again.stdout and again.stdout.count("unchanged") == 2
    assert "Demo plan" not in again.stdout and "Demo report" not in again.stdout
