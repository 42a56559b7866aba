"""Backup size and restore time at a scale: `python bench/backup.py --scale M|L [--db sqlite,postgres]`.

Builds the scale's corpus as `make bench` does (generated documents,
imported, then seeded to a system in use: about three progress updates per
key action), attaches evidence files to some updates, then times
`followthrough backup` (plain tar and gzip) and `followthrough restore` into
a fresh, empty installation, as an operator would run them. Results:
bench/results/backup-<stamp>-<scale>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py: corpus, installations, commands)

EVIDENCE = """
import os, random
from django.conf import settings
from tracking.models import ActionUpdate
rng = random.Random(2026)
n, size = {n}, {size}
ids = list(ActionUpdate.objects.filter(evidence_file="").order_by("pk").values_list("pk", flat=True)[:: max(1, ActionUpdate.objects.count() // n)][:n])
folder = os.path.join(settings.MEDIA_ROOT, "evidence", "bench")
os.makedirs(folder, exist_ok=True)
for pk in ids:
    name = f"evidence/bench/update-{{pk}}.pdf"
    with open(os.path.join(settings.MEDIA_ROOT, name), "wb") as f:
        f.write(rng.randbytes(size // 2) + bytes(size - size // 2))  # half noise, half compressible
    ActionUpdate.objects.filter(pk=pk).update(evidence_file=name)
print(len(ids))
"""


def timed(cmd: list, env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    p = bench.sh(cmd, env=env)
    return time.perf_counter() - t, p.stdout.strip()


def measure(scale: str, db: str, evidence: int, evidence_size: int) -> dict:
    env = bench.env_for(scale, db, tag="backup")
    docs = bench.corpus(scale)
    bench.fresh_database(env, db)
    shutil.rmtree(Path(env["FOLLOWTHROUGH_VAR_DIR"]) / "media", ignore_errors=True)
    bench.log(f"{scale}/{db}: importing {bench.SCALES[scale]} documents and seeding")
    bench.sh([bench.APP, "import", docs, "--no-progress"], env=env)
    info = json.loads(bench.sh([bench.PY, bench.BENCH / "seed.py"], env={**env, "PYTHONPATH": str(bench.ROOT)}).stdout.strip().splitlines()[-1])
    attached = int(bench.sh([bench.PY, "-c", "import django; django.setup()\n" + EVIDENCE.format(n=evidence, size=evidence_size)],
                            env={**env, "PYTHONPATH": str(bench.ROOT), "DJANGO_SETTINGS_MODULE": "followthrough.settings"}).stdout.split()[-1])
    out: dict = {"data": info["counts"], "evidence_files": attached, "evidence_bytes": attached * evidence_size}
    if db == "sqlite":
        out["database_file_bytes"] = bench.sqlite_path(env).stat().st_size
    work = bench.WORK / f"backup-{scale}-{db}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("backup.tar", "backup.tar.gz"):
        archive = work / name
        bench.log(f"{scale}/{db}: followthrough backup {name}")
        seconds, said = timed([bench.APP, "backup", archive], env)
        out[name] = {"bytes": archive.stat().st_size, "seconds": seconds, "said": said}
        target = bench.env_for(scale, db, tag="restore")
        shutil.rmtree(target["FOLLOWTHROUGH_VAR_DIR"])
        Path(target["FOLLOWTHROUGH_VAR_DIR"]).mkdir(parents=True)
        if db == "postgres":
            name_ = target["DATABASE_URL"].rsplit("/", 1)[1]
            bench.sh(["psql", bench.PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {name_} WITH (FORCE)"])
            bench.sh(["psql", bench.PG_ADMIN, "-qc", f"CREATE DATABASE {name_}"])
        bench.log(f"{scale}/{db}: followthrough restore {name} into an empty installation")
        seconds, said = timed([bench.APP, "restore", archive], target)
        out[name]["restore_seconds"] = seconds
        out[name]["restore_said"] = said
        bench.log(f"{scale}/{db}: {name}: {archive.stat().st_size / 2**20:,.0f} MiB, backup {out[name]['seconds']:.1f} s, restore {seconds:.1f} s")
    shutil.rmtree(work, ignore_errors=True)
    return out


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"# Backup and restore, {results['stamp']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, SQLite {m['sqlite']}, "
        f"PostgreSQL {m['postgresql']}. Load average when it started: {results['load']}. "
        "`followthrough backup` while nothing else writes, then `followthrough restore` into an empty installation; "
        "wall-clock time of each command (including its start-up, about 1 s).",
        "",
        "| scale | database | key actions | progress updates | evidence files | database file | archive | size | backup s | restore s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, r in results["runs"].items():
        scale, db = key.split("/")
        for name in ("backup.tar", "backup.tar.gz"):
            a = r[name]
            lines.append(
                f"| {scale} | {db} | {r['data'].get('key_actions', '')} | {r['data'].get('updates', '')} | "
                f"{r['evidence_files']} ({r['evidence_bytes'] / 2**20:,.0f} MiB) | "
                f"{(str(round(r['database_file_bytes'] / 2**20)) + ' MiB') if 'database_file_bytes' in r else 'n/a'} | "
                f"{name} | {a['bytes'] / 2**20:,.0f} MiB | {a['seconds']:.1f} | {a['restore_seconds']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def machine() -> dict:
    import os
    import platform
    import sqlite3

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    pg = bench.sh(["psql", bench.PG_ADMIN, "-tAc", "show server_version"], check=False).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 2**20, 1), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "postgresql": pg}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=bench.SCALES, default="M")
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--evidence", type=int, default=1000, help="evidence files to attach (default 1000)")
    p.add_argument("--evidence-size", type=int, default=64 * 1024, help="bytes each (default 64 KiB)")
    args = p.parse_args()
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M")
    results = {
        "stamp": stamp,
        "machine": machine(),
        "load": open("/proc/loadavg").read().split()[0],
        "runs": {},
    }
    for db in args.db.split(","):
        results["runs"][f"{args.scale}/{db}"] = measure(args.scale, db, args.evidence, args.evidence_size)
    bench.RESULTS.mkdir(exist_ok=True)
    base = bench.RESULTS / f"backup-{stamp}-{args.scale}"
    base.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str))
    base.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
