"""followthrough benchmarks: `make bench` (scale S) or `make bench SCALE=L` (S, M and L).

For each scale and database (SQLite, PostgreSQL) it builds the corpus with the
document generator, imports it with `followthrough import` (documents per
second, peak memory) and inserts the same rows with the bare database driver
(the floor), brings the data to the shape of a system in use (progress
updates, dates, users), serves the app as in production (gunicorn, several
workers, DEBUG off) and drives it from a second process on loopback with wrk
at a few concurrency levels. Side by side, on the same SQLite file, it
measures Datasette (default and fastest mode) and the bare SQL of each
dashboard figure. Results: bench/results/<stamp>.json and .md, and
bench/results/latest.md.

    python bench/run.py --scale S|M|L [--db sqlite,postgres] [--duration 10] [--concurrency 1,8,32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
RESULTS = BENCH / "results"
VENV_BIN = ROOT / ".venv" / "bin"
PY = VENV_BIN / "python"
APP = VENV_BIN / "followthrough"
SCALES = {"S": 100, "M": 1000, "L": 10000}
SEED = 2026
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"
DATASETTE_VERSION = "0.65.5"
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def sh(cmd: list[str], env: dict | None = None, check: bool = True, timeout: int = 7200) -> subprocess.CompletedProcess:
    p = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return p


# --- the machine ------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    mem_kb = 0
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    except (OSError, StopIteration):
        pass
    versions = json.loads(
        sh([PY, "-c", "import json,django,sqlite3,sys,gunicorn,psycopg;print(json.dumps({'python':sys.version.split()[0],'django':django.get_version(),'sqlite':sqlite3.sqlite_version,'gunicorn':gunicorn.__version__,'psycopg':psycopg.__version__}))"]).stdout
    )
    pg = sh(["psql", PG_ADMIN, "-tAc", "show server_version"], check=False).stdout.strip()
    wrk = sh(["wrk", "--version"], check=False)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        **versions,
        "postgresql": pg,
        "wrk": (wrk.stdout + wrk.stderr).split("[")[0].strip(),
        "datasette": DATASETTE_VERSION,
        "gunicorn_workers": WORKERS,
    }


def ensure_tools() -> None:
    if not shutil.which("wrk"):
        log("installing wrk (Debian package) for the load tests")
        sh(["apt-get", "install", "-y", "-q", "wrk"])
    if not (VENV_BIN / "gunicorn").exists():
        raise SystemExit("gunicorn is missing from .venv: run `make install`")


def datasette_bin() -> Path:
    """Datasette in its own virtual environment (its dependencies are not ours)."""
    venv = WORK / "datasette-venv"
    exe = venv / "bin" / "datasette"
    if not exe.exists():
        log(f"installing Datasette {DATASETTE_VERSION} into {venv}")
        sh([sys.executable, "-m", "venv", venv])
        sh([venv / "bin" / "pip", "install", "-q", f"datasette=={DATASETTE_VERSION}"])
    return exe


# --- databases and the corpus -----------------------------------------------------------------


def corpus(scale: str) -> Path:
    folder = WORK / f"corpus-{scale}"
    n = SCALES[scale]
    if not folder.exists() or len(list(folder.glob("*.txt"))) != n or not (folder / "planted.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        log(f"generating {n} documents into {folder}")
        sh([APP, "generate", "--count", n, "-o", folder, "--seed", SEED])
    return folder


def env_for(scale: str, db: str, tag: str = "app") -> dict:
    var = WORK / f"var-{scale}-{db}-{tag}"
    var.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env.update(
        FOLLOWTHROUGH_VAR_DIR=str(var),
        SECRET_KEY="bench-" + "x" * 60,
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # The load comes from one address with one token: no throttle while measuring.
        API_TOKEN_RATE=str(10**9),
        API_ADDRESS_RATE=str(10**9),
    )
    if db == "postgres":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/bench_{scale.lower()}_{tag}"
    return env


def sqlite_path(env: dict) -> Path:
    return Path(env["FOLLOWTHROUGH_VAR_DIR"]) / "followthrough.sqlite3"


def fresh_database(env: dict, db: str) -> None:
    shutil.rmtree(Path(env["FOLLOWTHROUGH_VAR_DIR"]) / "cache", ignore_errors=True)
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(sqlite_path(env)) + suffix).unlink(missing_ok=True)
    else:
        name = env["DATABASE_URL"].rsplit("/", 1)[1]
        sh(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
        sh(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"])
    sh([APP, "migrate", "-v0"], env=env)


def measure_import(scale: str, db: str, docs: Path) -> dict:
    env = env_for(scale, db)
    fresh_database(env, db)
    log(f"{scale}/{db}: importing {SCALES[scale]} documents")
    probe = (
        "import json,resource,sys,time\n"
        "from followthrough.cli import main\n"
        "t=time.perf_counter()\n"
        "try:\n"
        "    main(['import', sys.argv[1], '--no-progress'])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "el=time.perf_counter()-t\n"
        "print(json.dumps({'seconds': el, 'peak_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, "
        "'children_peak_rss_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024}))\n"
    )
    p = sh([PY, "-c", probe, docs], env=env)
    figures = json.loads(p.stdout.strip().splitlines()[-1])
    summary = next((line for line in p.stdout.splitlines() if line.startswith("Imported")), "")
    n = SCALES[scale]
    figures.update(documents=n, documents_per_second=n / figures["seconds"], summary=summary)
    # The same documents again: nothing may change.
    t = time.perf_counter()
    again = sh([APP, "import", docs, "--no-progress"], env=env).stdout
    figures["reimport_seconds"] = time.perf_counter() - t
    figures["reimport_summary"] = next((line for line in again.splitlines() if line.startswith("Imported")), "")
    # The floor, into a database of its own.
    floor_env = env_for(scale, db, tag="floor")
    fresh_database(floor_env, db)
    target = ["--sqlite", sqlite_path(floor_env)] if db == "sqlite" else ["--postgres", floor_env["DATABASE_URL"]]
    floor = json.loads(sh([PY, BENCH / "floor.py", "--count", n, "--seed", SEED, *target]).stdout.strip().splitlines()[-1])
    figures["floor"] = floor
    figures["ratio_to_floor"] = figures["seconds"] / floor["seconds"]
    log(f"{scale}/{db}: import {figures['seconds']:.1f} s ({figures['documents_per_second']:.0f} docs/s), floor {floor['seconds']:.2f} s")
    return figures


# --- serving and loading -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not answer")


class Server:
    def __init__(self, cmd: list, env: dict, url: str):
        self.proc = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self.url = url
        wait_up(url)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def serve_app(env: dict) -> Server:
    sh([APP, "collectstatic", "--noinput", "-v0"], env=env)
    port = free_port()
    cmd = [VENV_BIN / "gunicorn", "followthrough.wsgi:application", "-w", WORKERS, "-b", f"127.0.0.1:{port}",
           "--access-logfile", "-", "--log-level", "warning", "--timeout", "120"]
    # The app's settings plus one route: /bench/ceiling/, the bare Django answer the API is compared with.
    env = {**env, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "bench.ceiling_settings"}
    return Server(cmd, env, f"http://127.0.0.1:{port}/")


def wrk(url: str, concurrency: int, duration: int, cookie: str = "") -> dict:
    """`cookie`: a Cookie header, or "Bearer <token>" for the API's Authorization header."""
    threads = min(concurrency, 2)
    env = {**os.environ, "COOKIE": "" if cookie.startswith("Bearer ") else cookie,
           "AUTHORIZATION": cookie if cookie.startswith("Bearer ") else ""}
    p = sh(["wrk", "-t", threads, "-c", concurrency, "-d", f"{duration}s", "--timeout", "30s", "-s", BENCH / "load.lua", url],
           env=env, check=False, timeout=duration + 120)
    line = next((x for x in p.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        return {"error": (p.stdout + p.stderr)[-500:]}
    r = json.loads(line)
    seconds = r["duration_us"] / 1e6
    return {
        "rps": r["requests"] / seconds if seconds else 0.0,
        "p50_ms": r["p50_us"] / 1000,
        "p95_ms": r["p95_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": r["errors"] + r["non_2xx"],
        "requests": r["requests"],
    }


def pages(info: dict) -> dict[str, tuple[str, str]]:
    """(path, cookie) of every page and endpoint the issue names."""
    unit, office_cookie = info["cookies"]["bench-unit"], info["cookies"]["bench-office"]
    return {
        "home": ("/", ""),
        "evaluation page": (f"/evaluations/{info['evaluation_id']}/", ""),
        "office page": (f"/offices/{info['office_slug']}/", ""),
        "my actions": ("/workspace/actions/", unit),
        "overdue by unit": (f"/actions/?overdue=1&unit={info['unit_id']}", office_cookie),
        "dashboard": ("/dashboard/", ""),
        "key action list (50, status)": ("/actions/?status=Initiated", ""),
        "evaluation list": ("/evaluations/", ""),
        "action page": (f"/actions/{info['action_id']}/", ""),
        # Search pages are never cached (each query is its own page): these are measured uncached.
        **{f"search: {q}": (f"/search/?q={urllib.parse.quote(q)}", "") for q in SEARCH_QUERIES},
        "search: recommendations, one filter": (f"/search/?q=strategy&kind=recommendation&year={info.get('year', 2020)}", ""),
        "similar recommendations": (f"/recommendations/{info.get('recommendation_id', 1)}/similar/", ""),
        "recurring themes": ("/recurring/", ""),
        # The API, against the bare Django ceiling (/bench/ceiling/: the same stack, no query).
        "bare Django (ceiling)": ("/bench/ceiling/", ""),
        "API list: key actions (100)": ("/api/v1/key-actions?limit=100", ""),
        "API list: key actions (100, token)": ("/api/v1/key-actions?limit=100", "Bearer " + info["token"]),
        "API list: evaluations (100)": ("/api/v1/evaluations?limit=100", ""),
        "API detail: key action (token)": (f"/api/v1/key-actions/{info['action_id']}", "Bearer " + info["token"]),
        "API detail: evaluation": (f"/api/v1/evaluations/{info['evaluation_id']}", ""),
        "API changes (200, token)": ("/api/v1/changes?limit=200", "Bearer " + info["token"]),
    }


# Words of the generated corpus: common, a phrase, a prefix, rare (planted), French with its accents dropped.
SEARCH_QUERIES = ["partners", '"resource mobilization strategy"', "sustainab*", "risk appetite", "evaluation donnees ventilees"]

NOT_BUILT: dict[str, str] = {}
API_PAGES = ("API list: key actions (100)", "API list: key actions (100, token)", "API list: evaluations (100)",
             "API detail: key action (token)", "API detail: evaluation", "API changes (200, token)")


def measure_pages(scale: str, db: str, levels: list[int], duration: int) -> dict:
    env = env_for(scale, db)
    log(f"{scale}/{db}: seeding progress updates, dates and users")
    info = json.loads(sh([PY, BENCH / "seed.py"], env={**env, "PYTHONPATH": str(ROOT)}).stdout.strip().splitlines()[-1])
    # Similar lists and themes first (a job after the import): the similar and recurring pages read them.
    similarities = measure_similarities(scale, env)
    server = serve_app(env)
    out = {"data": info["counts"], "pages": {}, "not_measured": NOT_BUILT, "similarities": similarities}
    try:
        for name, (path, cookie) in pages(info).items():
            url = server.url.rstrip("/") + path
            # As in use: the page has been asked for once (one process computes it, the
            # shared cache keeps it), and every worker has warmed up; then measure.
            t = time.perf_counter()
            header = {"Authorization": cookie} if cookie.startswith("Bearer ") else {"Cookie": cookie}
            request = urllib.request.Request(url, headers=header if cookie else {})
            urllib.request.urlopen(request, timeout=600).read()
            cold_ms = (time.perf_counter() - t) * 1000
            wrk(url, WORKERS, 2, cookie)
            out["pages"][name] = {"path": path, "first_ms": cold_ms, **{str(c): wrk(url, c, duration, cookie) for c in levels}}
            r = out["pages"][name][str(levels[-1] if 8 not in levels else 8)]
            log(f"{scale}/{db}: {name:<30} p95 {r.get('p95_ms', float('nan')):8.1f} ms  {r.get('rps', 0):7.0f} req/s  errors {r.get('errors')}")
        if db == "sqlite":
            out["dashboard_sql"] = dashboard_sql(env)
            out["datasette"] = measure_datasette(env, levels, duration, server.url)
    finally:
        server.stop()
    return out


def measure_similarities(scale: str, env: dict) -> dict:
    """Similar lists and themes for the whole corpus, timed, with precision and recall on the planted
    near-duplicates; with embeddings too where the extra is installed (BENCH_EMBEDDINGS=1)."""
    planted = WORK / f"corpus-{scale}" / "planted.json"
    out = {}
    methods = ["tfidf"] + (["embeddings"] if os.environ.get("BENCH_EMBEDDINGS") == "1" else [])
    for method in methods:
        e = {**env, "SIMILARITY_METHOD": method}
        t = time.perf_counter()
        p = sh([APP, "similarities", "--all", "--json", "--measure", planted], env=e, check=False, timeout=4 * 3600)
        if p.returncode != 0:
            out[method] = {"error": (p.stderr or p.stdout)[-400:]}
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r["wall_seconds"] = time.perf_counter() - t
        out[method] = r
        m = r.get("measured", {})
        log(f"{scale}: similarities ({method}) {r['seconds']:.1f} s for {r['recommendations']:,} recommendations; "
            f"precision {m.get('precision') or 0:.2f}, recall {m.get('recall') or 0:.2f}")
    return out


def dashboard_sql(env: dict) -> dict:
    """Each dashboard figure's SQL, timed with the bare driver, against the dashboard page's time."""
    script = BENCH / "dashboard_sql.py"
    # No cache: the page computed afresh, to set against its SQL.
    env = {**env, "PYTHONPATH": str(ROOT), "CACHE_BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    return json.loads(sh([PY, script], env=env).stdout.strip().splitlines()[-1])


def datasette_fts(db: Path) -> None:
    """Datasette's full-text search needs an FTS table on the table it searches (as `sqlite-utils
    enable-fts` makes): key actions' text, comments and responsible, with the tokenizer ours uses."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        con.execute("DROP TABLE IF EXISTS tracking_keyaction_fts")
        con.execute(
            "CREATE VIRTUAL TABLE tracking_keyaction_fts USING fts5(text, comments, responsible, "
            "content='tracking_keyaction', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        con.execute("INSERT INTO tracking_keyaction_fts(tracking_keyaction_fts) VALUES ('rebuild')")
        con.commit()
    finally:
        con.close()


def measure_datasette(env: dict, levels: list[int], duration: int, app_url: str) -> dict:
    exe = datasette_bin()
    db = sqlite_path(env)
    datasette_fts(db)
    out = {}
    port = free_port()
    server = Server(
        [exe, "serve", db, "--port", port, "--host", "127.0.0.1", "--setting", "sql_time_limit_ms", "10000",
         "--setting", "facet_time_limit_ms", "1000", "--setting", "num_sql_threads", "3"],
        {**os.environ},
        f"http://127.0.0.1:{port}/",
    )
    try:
        table = f"http://127.0.0.1:{port}/followthrough/tracking_keyaction?status=Initiated&_size=50"
        search = f"http://127.0.0.1:{port}/followthrough/tracking_keyaction?_search=partners&_size=20"
        cases = {
            "datasette table, default": table,
            "datasette table, fastest": table + "&_nocount=1&_nofacet=1&_nosuggest=1",
            # The same word as "search: partners", over key actions only (ours: all five kinds, counts per filter).
            "datasette search, default": search,
            "datasette search, fastest": search + "&_nocount=1&_nofacet=1&_nosuggest=1",
        }
        for name, url in cases.items():
            wrk(url, 2, 2)
            out[name] = {str(c): wrk(url, c, duration) for c in levels}
            log(f"datasette: {name:<28} p50 {out[name].get('8', out[name][str(levels[-1])]).get('p50_ms', 0):8.1f} ms")
    finally:
        server.stop()
    return out


# --- the report ------------------------------------------------------------------------------


def evaluate_targets(results: dict) -> list[dict]:
    """Each target of the issue, met or not, from the largest scale measured."""
    targets = []
    scales = [s for s in ("S", "M", "L") if s in results["scales"]]
    top = scales[-1]
    sq = results["scales"][top].get("sqlite", {})
    imp = sq.get("import", {})
    if imp:
        targets.append({"target": "Import L in under 60 s on SQLite", "scale": top, "value": f"{imp['seconds']:.1f} s",
                        "met": top == "L" and imp["seconds"] < 60})
        targets.append({"target": "Import within 2x of the bare-driver floor", "scale": top,
                        "value": f"{imp['ratio_to_floor']:.1f}x", "met": imp["ratio_to_floor"] <= 2})
    for db in ("sqlite", "postgres"):
        pages_ = results["scales"][top].get(db, {}).get("pages", {})
        for name, by_c in pages_.items():
            r = by_c.get("8")
            if r and "p95_ms" in r:
                # No request answered within the run: not a latency of 0 ms.
                if not r.get("requests"):
                    targets.append({"target": f"p95 < 100 ms at c=8: {name} ({db})", "scale": top, "value": "no answer in the run", "met": False})
                    continue
                targets.append({"target": f"p95 < 100 ms at c=8: {name} ({db})", "scale": top, "value": f"{r['p95_ms']:.0f} ms",
                                "met": r["p95_ms"] < 100 and r["errors"] == 0})
        for name in ("evaluation page",):
            r = pages_.get(name, {}).get("8")
            if r and "rps" in r:
                targets.append({"target": f"{name} >= 300 req/s ({db})", "scale": top, "value": f"{r['rps']:.0f} req/s", "met": r["rps"] >= 300})
    ds = sq.get("datasette", {})
    ours = sq.get("pages", {}).get("key action list (50, status)", {}).get("8")
    theirs = ds.get("datasette table, fastest", {}).get("8") if isinstance(ds, dict) else None
    if ours and theirs and theirs.get("p50_ms"):
        ratio = ours["p50_ms"] / theirs["p50_ms"]
        targets.append({"target": "Key action list vs Datasette fastest (ratio <= 0.5)", "scale": top, "value": f"{ratio:.2f}", "met": ratio <= 0.5})
    if len(scales) > 1:
        first, last = scales[0], scales[-1]
        for name in ("evaluation page", "action page", "key action list (50, status)", "evaluation list"):
            a = results["scales"][first].get("sqlite", {}).get("pages", {}).get(name, {}).get("1")
            b = results["scales"][last].get("sqlite", {}).get("pages", {}).get(name, {}).get("1")
            if a and b and a.get("p50_ms"):
                growth = b["p50_ms"] / a["p50_ms"]
                targets.append({"target": f"Flat from {first} to {last} (within 20%): {name}", "scale": f"{first}->{last}",
                                "value": f"{growth:.2f}x", "met": growth <= 1.2})
    ours = sq.get("pages", {}).get("search: partners", {}).get("8")
    theirs = ds.get("datasette search, default", {}).get("8") if isinstance(ds, dict) else None
    if ours and theirs and theirs.get("p95_ms") and ours.get("requests"):
        ratio = ours["p95_ms"] / theirs["p95_ms"]
        targets.append({"target": "Search: half of Datasette's latency or better (p95 at c=8, 'partners')", "scale": top,
                        "value": f"{ratio:.2f}", "met": ratio <= 0.5})
    sim = sq.get("similarities", {}).get("tfidf")
    if sim and "seconds" in sim:
        targets.append({"target": "Similarities for the whole corpus (TF-IDF), time", "scale": top,
                        "value": f"{sim['seconds']:.0f} s for {sim['recommendations']:,}", "met": None})
    for db in ("sqlite", "postgres"):
        pages_ = results["scales"][top].get(db, {}).get("pages", {})
        ceiling = pages_.get("bare Django (ceiling)", {}).get("8")
        for name in API_PAGES:
            r = pages_.get(name, {}).get("8")
            if r and ceiling and r.get("requests") and ceiling.get("rps"):
                targets.append({"target": f"{name} ({db}), c=8: p95, req/s (÷ bare Django)", "scale": top,
                                "value": f"{r['p95_ms']:.0f} ms ({r['p95_ms'] / ceiling['p95_ms']:.1f}×), "
                                         f"{r['rps']:.0f} req/s ({r['rps'] / ceiling['rps']:.2f}×)",
                                "met": None})
        detail = pages_.get("API detail: key action (token)", {}).get("8")
        if detail and "rps" in detail:
            targets.append({"target": f"API detail >= 300 req/s ({db})", "scale": top, "value": f"{detail['rps']:.0f} req/s",
                            "met": detail["rps"] >= 300})
    return targets


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"# followthrough benchmarks, {results['started'][:16].replace('T', ' ')}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}. Python {m['python']}, Django {m['django']}, "
        f"SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}, gunicorn {m['gunicorn']} ({m['gunicorn_workers']} workers), "
        f"{m['wrk']}, Datasette {m['datasette']}. Load from a second process on loopback; {results['duration']} s per measurement.",
        "",
        "## Targets",
        "",
        "| target | scale | measured | met |",
        "| --- | --- | --- | --- |",
    ]
    for t in results["targets"]:
        met = {True: "yes", False: "**no**", None: "—"}[t["met"]]
        lines.append(f"| {t['target']} | {t['scale']} | {t['value']} | {met} |")
    lines += ["", "## Import", "", "| scale | database | documents | seconds | documents/s | peak memory (MiB) | floor (s) | ÷ floor | re-import |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for scale, by_db in results["scales"].items():
        for db, r in by_db.items():
            i = r.get("import")
            if i:
                lines.append(
                    f"| {scale} | {db} | {i['documents']:,} | {i['seconds']:.1f} | {i['documents_per_second']:.0f} | "
                    f"{max(i['peak_rss_mib'], i.get('children_peak_rss_mib', 0)):.0f} | {i['floor']['seconds']:.2f} | {i['ratio_to_floor']:.1f}× | "
                    f"{i['reimport_summary'].split(': ', 1)[-1]} |"
                )
    for scale, by_db in results["scales"].items():
        for db, r in by_db.items():
            if "pages" not in r:
                continue
            d = r["data"]
            lines += ["", f"## Pages at {scale} on {db}", "",
                      f"{d['evaluations']:,} evaluations, {d['recommendations']:,} recommendations, {d['key_actions']:,} key actions, {d['updates']:,} progress updates.",
                      "First request: the page computed afresh (empty cache), before the load.",
                      "", "| page | concurrency | req/s | p50 ms | p95 ms | p99 ms | errors |", "| --- | --- | --- | --- | --- | --- | --- |"]
            for name, by_c in r["pages"].items():
                if "first_ms" in by_c:
                    lines.append(f"| {name} | first request | | {by_c['first_ms']:.0f} | | | |")
                for c, x in by_c.items():
                    if c in ("path", "first_ms"):
                        continue
                    if "rps" in x:
                        lines.append(f"| {name} | {c} | {x['rps']:.0f} | {x['p50_ms']:.1f} | {x['p95_ms']:.1f} | {x['p99_ms']:.1f} | {x['errors']} |")
                    else:
                        lines.append(f"| {name} | {c} | error: {x.get('error', '')[:80]} | | | | |")
            for name, why in r.get("not_measured", {}).items():
                lines.append(f"| {name} | — | {why} | | | | |")
            ds = r.get("datasette")
            if ds:
                lines += ["", f"### Datasette on the same SQLite file ({scale})", "", "| case | concurrency | req/s | p50 ms | p95 ms | p99 ms | errors |",
                          "| --- | --- | --- | --- | --- | --- | --- |"]
                for name, by_c in ds.items():
                    if isinstance(by_c, str):
                        lines.append(f"| {name} | — | {by_c} | | | | |")
                        continue
                    for c, x in by_c.items():
                        if "rps" in x:
                            lines.append(f"| {name} | {c} | {x['rps']:.0f} | {x['p50_ms']:.1f} | {x['p95_ms']:.1f} | {x['p99_ms']:.1f} | {x['errors']} |")
            sim = r.get("similarities")
            if sim:
                lines += ["", f"### Similar recommendations and themes ({scale}, {db})", "",
                          "| method | recommendations | seconds | lists | themes | precision | recall | across languages |",
                          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
                for method, x in sim.items():
                    if "error" in x:
                        lines.append(f"| {method} | error: {x['error'][:80]} | | | | | | |")
                        continue
                    m = x.get("measured", {})
                    f = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
                    lines.append(f"| {method} | {x['recommendations']:,} | {x['seconds']:.1f} | {x['lists_recomputed']:,} | {x['themes']:,} | "
                                 f"{f(m.get('precision'))} | {f(m.get('recall'))} | {f(m.get('cross_language_recall'))} |")
            sql = r.get("dashboard_sql")
            if sql:
                lines += ["", f"### Dashboard figures: bare SQL against the page ({scale})", "",
                          f"Dashboard page, computed afresh (no cache): {sql['page_ms']:.0f} ms; served (p50, c=1): "
                          f"{r['pages'].get('dashboard', {}).get('1', {}).get('p50_ms', float('nan')):.1f} ms.", "",
                          "| figure | bare SQL ms |", "| --- | --- |"]
                for name, ms in sql["figures"].items():
                    lines.append(f"| {name} | {ms:.1f} |")
                lines.append(f"| all figures | {sql['total_ms']:.1f} |")
                lines.append("")
                lines.append(f"Page computed afresh ÷ bare SQL of its figures: {sql['page_ms'] / sql['total_ms']:.2f}×.")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=SCALES, default="S")
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--duration", type=int, default=None)
    p.add_argument("--concurrency", default=None)
    args = p.parse_args()
    scales = list(SCALES)[: list(SCALES).index(args.scale) + 1] if args.scale != "S" else ["S"]
    duration = args.duration or (3 if args.scale == "S" else 10)
    levels = [int(c) for c in (args.concurrency or ("1,8" if args.scale == "S" else "1,8,32")).split(",")]
    dbs = [d for d in args.db.split(",") if d]
    ensure_tools()
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = {"started": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(), "duration": duration,
               "concurrency": levels, "scales": {}}
    for scale in scales:
        docs = corpus(scale)
        results["scales"][scale] = {}
        for db in dbs:
            r = {"import": measure_import(scale, db, docs)}
            r.update(measure_pages(scale, db, levels, duration))
            results["scales"][scale][db] = r
    results["targets"] = evaluate_targets(results)
    stamp = re.sub(r"[^0-9T]", "", results["started"])[:13]
    name = f"{stamp}-{args.scale}"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1))
    md = markdown(results)
    (RESULTS / f"{name}.md").write_text(md)
    (RESULTS / "latest.md").write_text(md)
    print(md)
    log(f"results: bench/results/{name}.json and .md (bench/results/latest.md)")


if __name__ == "__main__":
    main()
