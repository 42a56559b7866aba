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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import API_PAGES, CEILING, SLOW_PAGES  # noqa: E402

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
    proc = subprocess.Popen([str(PY), "-c", probe, str(docs)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The writer and its parser processes together: the sum of their resident memory, sampled.
    peak_tree = 0.0
    while proc.poll() is None:
        peak_tree = max(peak_tree, tree_rss_mib(proc.pid))
        time.sleep(0.1)
    stdout, stderr = proc.communicate()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"import failed ({proc.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    p = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    figures = json.loads(p.stdout.strip().splitlines()[-1])
    figures["peak_tree_rss_mib"] = peak_tree
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


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (MiB), read from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            rss[int(entry.name)] = int((entry / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- serving and loading -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 600) -> None:
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


def wrk(base: str, targets: list[tuple[str, str]], concurrency: int, duration: int) -> dict:
    """Load over several URLs: `targets` are (path, header) pairs, taken in turn by each connection."""
    threads = min(concurrency, 2)
    listing = WORK / f"targets-{os.getpid()}.txt"
    listing.write_text("".join(f"{path}\t{header}\n" for path, header in targets))
    p = sh(["wrk", "-t", threads, "-c", concurrency, "-d", f"{duration}s", "--timeout", "30s", "-s", BENCH / "load.lua", base],
           env={**os.environ, "TARGETS": str(listing)}, check=False, timeout=duration + 120)
    line = next((x for x in p.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        return {"error": (p.stdout + p.stderr)[-500:]}
    r = json.loads(line)
    if not r["requests"]:
        # Not one answer within the run: a failure, never a latency of 0 ms.
        return {"error": f"no request completed in {duration} s", "requests": 0}
    seconds = r["duration_us"] / 1e6
    return {
        "rps": r["requests"] / seconds if seconds else 0.0,
        "p50_ms": r["p50_us"] / 1000,
        "p95_ms": r["p95_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": r["errors"] + r["non_2xx"],
        "requests": r["requests"],
    }


def fetch(url: str, header: str) -> float:
    """One request (ms), failing loudly: a page that errors is not measured."""
    headers = dict([header.split(": ", 1)]) if header else {}
    t = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=600) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


def page_sets(env: dict, info: dict) -> dict[str, list[tuple[str, str]]]:
    """bench/pages.py's URLs, read off the benchmark's database, with each reader's header."""
    code = ("import json,sys,django;django.setup();from bench.pages import page_sets,header;"
            "info=json.loads(sys.stdin.read());"
            "print(json.dumps({k:[(p,header(info,w)) for p,w in v] for k,v in page_sets(info).items()}))")
    p = subprocess.run([str(PY), "-c", code], input=json.dumps(info), env={**env, "PYTHONPATH": str(ROOT),
                       "DJANGO_SETTINGS_MODULE": "followthrough.settings"}, capture_output=True, text=True, check=True)
    return {k: [tuple(x) for x in v] for k, v in json.loads(p.stdout.strip().splitlines()[-1]).items()}


# The three ways a page is served: computed afresh for every request (no cache at all), from the
# shared cache (Redis, the production shape, with a job worker refreshing slow figures), and from
# that cache while a writer records progress updates, as in the weeks when offices report.
MODES = ("uncached", "cached", "cached, 2 writes/s")
WRITE_RATE = 2.0


def measure_pages(scale: str, db: str, levels: list[int], duration: int) -> dict:
    env = env_for(scale, db)
    log(f"{scale}/{db}: seeding progress updates, dates and users")
    info = json.loads(sh([PY, BENCH / "seed.py"], env={**env, "PYTHONPATH": str(ROOT)}).stdout.strip().splitlines()[-1])
    # Similar lists and themes first (a job after the import): the similar and recurring pages read them.
    similarities = measure_similarities(scale, env)
    # Then the planner's statistics, as the daily job does after its run of every theme
    # (jobs.tasks.refresh_recurring_themes): the run rewrites the themes' kept counts, and pages read
    # right after it, before any VACUUM, were measured slower than the machine serves them.
    p = sh([APP, "shell", "-c", STATISTICS], env=env, check=False)
    log(f"{scale}/{db}: statistics after the themes: {p.stdout.strip()[-200:] or p.stderr.strip()[-300:]}")
    sets = page_sets(env, info)
    out = {"data": info["counts"], "urls": {k: [p for p, _ in v] for k, v in sets.items()}, "modes": {},
           "similarities": similarities}
    uncached = {**env, "CACHE_BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    out["modes"].update(serve_and_load(scale, db, "uncached", uncached, sets, levels, duration))
    redis_db = "7" if db == "sqlite" else "8"
    shared = {**env, "CACHE_URL": f"redis://127.0.0.1:6379/{redis_db}", "CACHE_KEY_PREFIX": f"bench-{scale}-{db}"}
    sh(["redis-cli", "-n", redis_db, "flushdb"], check=False)
    worker = subprocess.Popen([str(APP), "worker"], env=shared, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        # The worker first runs what is due: measured after, not during.
        wait_for_queue(shared)
        cached = serve_and_load(scale, db, "cached", shared, sets, levels, duration, with_writer=True)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # A job still running (the day's similar lists at L): the run's figures matter more than its end.
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    out["modes"].update(cached)
    if db == "sqlite":
        out["dashboard_sql"] = dashboard_sql(env)
        out["datasette"] = measure_datasette(env, levels, duration)
    return out


def serve_and_load(scale: str, db: str, mode: str, env: dict, sets: dict, levels: list[int], duration: int,
                   with_writer: bool = False) -> dict:
    """One server run: every page's URLs, under load; with `with_writer`, again while the writer writes."""
    server = serve_app(env)
    base = server.url.rstrip("/")
    results: dict = {mode: {}}
    try:
        results[mode] = load_pages(scale, db, mode, base, sets, levels, duration)
        if with_writer:
            stop = WORK / f"writer-stop-{os.getpid()}"
            stop.unlink(missing_ok=True)
            writer = subprocess.Popen([str(PY), str(BENCH / "writer.py"), "--rate", str(WRITE_RATE), "--stop", str(stop)],
                                      env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
            try:
                time.sleep(2)
                name = f"{mode}, {WRITE_RATE:g} writes/s"
                results[name] = load_pages(scale, db, name, base, sets, levels, duration, warm=False)
            finally:
                stop.touch()
                report = writer.communicate(timeout=120)[0].strip().splitlines()
                stop.unlink(missing_ok=True)
            results[name]["writer"] = json.loads(report[-1]) if report else {"error": "the writer printed nothing"}
            log(f"{scale}/{db}: writer {results[name]['writer']}")
    finally:
        server.stop()
    return results


# The periodic jobs' due runs, enqueued here rather than left to the worker's next look at the schedule
# (it came after the queue was found empty, and the day's run of every similar list then took a core
# through the cached measurements). The day's similar lists and themes were made just before by
# `similarities --all` (measure_similarities): that run is recorded as the day's, not made again.
ENQUEUE_DUE = (
    "from django.utils import timezone; from jobs import schedule; from jobs.models import ScheduledRun;"
    "now = timezone.now();"
    "[ScheduledRun.objects.get_or_create(name=p.name, due_at=p.due_at(now)) for p in schedule.registered()"
    " if p.name.endswith('refresh_recurring_themes')];"
    "print(schedule.enqueue_due(now))"
)


STATISTICS = "from tracking.services.statistics import refresh_statistics; print(refresh_statistics())"


def wait_for_queue(env: dict, limit: float = 1800) -> None:
    """Until the job queue holds nothing ready or running (or `limit` seconds), what is due enqueued first."""
    p = sh([APP, "shell", "-c", ENQUEUE_DUE], env=env, check=False)
    log(f"periodic jobs enqueued before measuring: {p.stdout.strip() or p.stderr.strip()[-300:]}")
    code = ("from django_tasks_db.models import DBTaskResult as T;"
            "print(T.objects.filter(status__in=['READY','RUNNING']).count())")
    deadline = time.time() + limit
    while time.time() < deadline:
        p = sh([APP, "shell", "-c", code], env=env, check=False)
        left = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "?"
        if left == "0":
            return
        log(f"waiting for the job queue: {left} jobs ready or running")
        time.sleep(10)


def wait_idle(base: str, ceiling: list[tuple[str, str]], limit: float = 120) -> None:
    """Until the server answers its bare page at once: requests of the previous run still being computed
    would otherwise be measured as this page's time."""
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            if fetch(base + ceiling[0][0], "") < 100:
                return
        except OSError:
            pass
        time.sleep(1)


def load_pages(scale: str, db: str, mode: str, base: str, sets: dict, levels: list[int], duration: int,
               warm: bool = True) -> dict:
    out: dict = {}
    for name, targets in sets.items():
        wait_idle(base, sets[CEILING])
        if warm:
            # As in use: each URL asked for once (the slowest first answer is kept: computed afresh,
            # or filling the cache), then every worker warmed up; then measured.
            try:
                first = max(fetch(base + path, header) for path, header in targets)
            except OSError as e:
                out[name] = {"error": f"{type(e).__name__}: {e}"[:300]}
                log(f"{scale}/{db}/{mode}: {name} failed: {out[name]['error']}")
                continue
            wrk(base, targets, WORKERS, 2)
        else:
            first = None
        row = {"urls": len(targets), "first_ms": first}
        for c in levels:
            # The warm-up's (or the previous level's) requests still computing are not this run's.
            wait_idle(base, sets[CEILING])
            row[str(c)] = wrk(base, targets, c, duration)
        out[name] = row
        r = row[str(8 if 8 in levels else levels[-1])]
        log(f"{scale}/{db}/{mode}: {name:<26} p95 {r.get('p95_ms', float('nan')):8.1f} ms  {r.get('rps', 0):7.0f} req/s  "
            f"errors {r.get('errors', r.get('error'))}")
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


def measure_datasette(env: dict, levels: list[int], duration: int) -> dict:
    """Datasette on the same SQLite file: its table view and its full-text search, each mode in a server run of its own
    (a mode's cached statements and pages must not help the next)."""
    exe = datasette_bin()
    db = sqlite_path(env)
    datasette_fts(db)
    table = "/followthrough/tracking_keyaction?status=Initiated&_size=50"
    search = "/followthrough/tracking_keyaction?_search=partners&_size=20"
    fastest = "&_nocount=1&_nofacet=1&_nosuggest=1"
    cases = {
        "datasette table, default": table,
        "datasette table, fastest": table + fastest,
        # The same word as our "search" page's first URL, over key actions only (ours: every kind, counts per filter).
        "datasette search, default": search,
        "datasette search, fastest": search + fastest,
    }
    out: dict = {}
    for name, path in cases.items():
        port = free_port()
        server = Server(
            [exe, "serve", db, "--port", port, "--host", "127.0.0.1", "--setting", "sql_time_limit_ms", "10000",
             "--setting", "facet_time_limit_ms", "1000", "--setting", "num_sql_threads", "3"],
            {**os.environ},
            f"http://127.0.0.1:{port}/",
        )
        try:
            base = f"http://127.0.0.1:{port}"
            fetch(base + path, "")
            wrk(base, [(path, "")], 2, 2)
            out[name] = {str(c): wrk(base, [(path, "")], c, duration) for c in levels}
            r = out[name][str(8 if 8 in levels else levels[-1])]
            log(f"datasette: {name:<28} p50 {r.get('p50_ms', float('nan')):8.1f} ms  p95 {r.get('p95_ms', float('nan')):8.1f} ms")
        finally:
            server.stop()
    return out


# --- the report ------------------------------------------------------------------------------


def at8(row: dict | None, levels=("8",)) -> dict | None:
    """A page's figures at c=8 (or the highest level measured), or None."""
    if not row:
        return None
    for c in levels:
        if c in row:
            return row[c]
    keys = [k for k in row if k.isdigit()]
    return row[max(keys, key=int)] if keys else None


def answered(r: dict | None) -> bool:
    return bool(r) and bool(r.get("requests")) and "p95_ms" in r


def evaluate_targets(results: dict) -> list[dict]:
    """Each target of the performance issue (and the search and API issues' figures), met or not, at the largest scale."""
    targets: list[dict] = []
    scales = [s for s in ("S", "M", "L") if s in results["scales"]]
    top = scales[-1]

    def add(target: str, value: str, met, scale: str = top) -> None:
        targets.append({"target": target, "scale": scale, "value": value, "met": met})

    for db in ("sqlite", "postgres"):
        r = results["scales"][top].get(db)
        if not r:
            continue
        modes = r.get("modes", {})
        uncached, under_writes = modes.get("uncached", {}), modes.get("cached, 2 writes/s", {})
        for name, row in uncached.items():
            if name == CEILING or name in API_PAGES:
                continue
            x = at8(row)
            bound = 500 if name in SLOW_PAGES else 150
            what = "computed afresh" if name in SLOW_PAGES else "page cache off"
            if not answered(x):
                add(f"{name}, {what}: p95 < {bound} ms ({db})", (x or row).get("error", "not measured"), False)
                continue
            add(f"{name}, {what}: p95 < {bound} ms ({db})", f"{x['p95_ms']:.0f} ms ({row['urls']} URLs)",
                x["p95_ms"] < bound and x["errors"] == 0)
        for name, row in under_writes.items():
            if name == CEILING or name in API_PAGES or not isinstance(row, dict) or name == "writer":
                continue
            x = at8(row)
            if not answered(x):
                add(f"{name}, cached under 2 writes/s: p95 < 100 ms ({db})", (x or row).get("error", "not measured"), False)
                continue
            add(f"{name}, cached under 2 writes/s: p95 < 100 ms ({db})", f"{x['p95_ms']:.0f} ms", x["p95_ms"] < 100 and x["errors"] == 0)
        ceiling, page = at8(uncached.get(CEILING)), at8(uncached.get("evaluation page"))
        if answered(ceiling) and answered(page):
            ratio = page["rps"] / ceiling["rps"]
            add(f"evaluation page, page cache off: req/s >= 0.4x the bare Django one-query page ({db})",
                f"{page['rps']:.0f} / {ceiling['rps']:.0f} req/s = {ratio:.2f}x", ratio >= 0.4)
        imp = r.get("import")
        if imp:
            add(f"import: <= 2x the floor ({db}; floor: {'COPY' if db == 'postgres' else 'multi-row INSERTs'})",
                f"{imp['seconds']:.1f} s / {imp['floor']['seconds']:.1f} s = {imp['ratio_to_floor']:.1f}x", imp["ratio_to_floor"] <= 2)
        for name in API_PAGES:
            x = at8(uncached.get(name))
            if answered(x) and answered(ceiling):
                add(f"{name} ({db}), c=8: p95; req/s as a ratio to bare Django",
                    f"{x['p95_ms']:.0f} ms; {x['rps']:.0f} req/s = {x['rps'] / ceiling['rps']:.2f}x", None)
        ds = r.get("datasette") or {}
        ours, theirs = at8(uncached.get("key-action list")), at8(ds.get("datasette table, fastest"))
        if answered(ours) and answered(theirs):
            ratio = ours["p50_ms"] / theirs["p50_ms"]
            add(f"key-action list, page cache off: p50 <= 0.5x Datasette's fastest mode ({db} file)",
                f"{ours['p50_ms']:.0f} ms / {theirs['p50_ms']:.0f} ms = {ratio:.2f}x", ratio <= 0.5)
        ours = at8(uncached.get("search"))
        for mode in ("default", "fastest"):
            theirs = at8(ds.get(f"datasette search, {mode}"))
            if answered(ours) and answered(theirs):
                add(f"search, page cache off, p95 beside Datasette's full-text search ({mode} mode)",
                    f"{ours['p95_ms']:.0f} ms / {theirs['p95_ms']:.0f} ms = {ours['p95_ms'] / theirs['p95_ms']:.2f}x", None)
        sim = r.get("similarities", {}).get("tfidf")
        if sim and "seconds" in sim:
            add(f"similar recommendations for the whole corpus, TF-IDF ({db})",
                f"{sim['seconds']:.0f} s for {sim['recommendations']:,}", None)
    return targets


def fmt(x: dict | None, ceiling: dict | None = None) -> str:
    if not x:
        return "—"
    if not answered(x):
        return "failed: " + x.get("error", "")[:60]
    text = f"{x['p95_ms']:.0f} / {x['p50_ms']:.0f} ms, {x['rps']:.0f} req/s"
    if answered(ceiling):
        text += f" ({x['rps'] / ceiling['rps']:.2f}x)"
    if x.get("errors"):
        text += f", **{x['errors']} errors**"
    return text


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"# followthrough benchmarks, {results['started'][:16].replace('T', ' ')}, at commit {results['commit']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}. Python {m['python']}, Django {m['django']}, "
        f"SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}, gunicorn {m['gunicorn']} ({m['gunicorn_workers']} workers), "
        f"{m['wrk']}, Datasette {m['datasette']}. Load from a second process on loopback (wrk), {results['duration']} s per "
        f"measurement, spread over several URLs per page (different evaluations, filters, readers); load average at the start "
        f"{results.get('load_average', '?')}.",
        "",
        "Each page is served three ways: **uncached** (no cache at all: every request computed afresh), **cached** (the "
        "shared Redis cache, as in production, with a job worker refreshing slow figures) and **cached under writes** (the "
        f"same, while a writer records {WRITE_RATE:g} progress updates a second through the services). Figures: p95 / p50 "
        "at c=8, req/s, and req/s as a ratio to the bare Django one-query page served the same way.",
        "",
        "## Targets",
        "",
        "| target | scale | measured | met |",
        "| --- | --- | --- | --- |",
    ]
    for t in results["targets"]:
        met = {True: "yes", False: "**no**", None: "—"}[t["met"]]
        lines.append(f"| {t['target']} | {t['scale']} | {t['value']} | {met} |")
    lines += ["", "## Import", "",
              "| scale | database | documents | seconds | documents/s | peak memory, writer and parsers (MiB) | floor (s) | ÷ floor | re-import |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for scale, by_db in results["scales"].items():
        for db, r in by_db.items():
            i = r.get("import")
            if i:
                lines.append(
                    f"| {scale} | {db} | {i['documents']:,} | {i['seconds']:.1f} | {i['documents_per_second']:.0f} | "
                    f"{i.get('peak_tree_rss_mib', 0):.0f} | {i['floor']['seconds']:.2f} | {i['ratio_to_floor']:.1f}× | "
                    f"{i['reimport_summary'].split(': ', 1)[-1]} |"
                )
    for scale, by_db in results["scales"].items():
        for db, r in by_db.items():
            if "modes" not in r:
                continue
            d = r["data"]
            modes = r["modes"]
            names = list(modes.get("uncached", {}))
            lines += ["", f"## Pages at {scale} on {db}", "",
                      f"{d['evaluations']:,} evaluations, {d['recommendations']:,} recommendations, {d['key_actions']:,} key actions, "
                      f"{d['updates']:,} progress updates. First: the slowest first answer among the page's URLs.",
                      "", "| page | URLs | first ms (uncached) | uncached | cached | cached under writes |", "| --- | --- | --- | --- | --- | --- |"]
            ceilings = {mode: at8(rows.get(CEILING)) for mode, rows in modes.items()}
            for name in names:
                u = modes.get("uncached", {}).get(name, {})
                cells = [fmt(at8(modes.get(mode, {}).get(name)), ceilings.get(mode)) for mode in MODES]
                first = u.get("first_ms")
                lines.append(f"| {name} | {u.get('urls', '')} | {'' if first is None else f'{first:.0f}'} | " + " | ".join(cells) + " |")
            w = modes.get("cached, 2 writes/s", {}).get("writer")
            if w:
                lines += ["", f"Writer during the last column: {w.get('updates', 0)} progress updates in {w.get('seconds', 0):.0f} s "
                          f"({w.get('rate', 0):.2f}/s), slowest write {w.get('slowest_write_ms', 0):.0f} ms."]
            lines += ["", "URLs measured:", ""] + [f"- {name}: " + ", ".join(f"`{u}`" for u in urls) for name, urls in r.get("urls", {}).items()]
            ds = r.get("datasette")
            if ds:
                lines += ["", f"### Datasette on the same SQLite file ({scale}), each mode in its own server run", "",
                          "| case | concurrency | req/s | p50 ms | p95 ms | p99 ms | errors |", "| --- | --- | --- | --- | --- | --- | --- |"]
                for name, by_c in ds.items():
                    for c, x in by_c.items():
                        if answered(x):
                            lines.append(f"| {name} | {c} | {x['rps']:.0f} | {x['p50_ms']:.1f} | {x['p95_ms']:.1f} | {x['p99_ms']:.1f} | {x['errors']} |")
                        else:
                            lines.append(f"| {name} | {c} | failed: {x.get('error', '')[:80]} | | | | |")
            sim = r.get("similarities")
            if sim:
                lines += ["", f"### Similar recommendations and themes ({scale}, {db})", "",
                          "| method | recommendations | seconds | lists | themes | precision | recall | across languages |",
                          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
                for method, x in sim.items():
                    if "error" in x:
                        lines.append(f"| {method} | error: {x['error'][:80]} | | | | | | |")
                        continue
                    mm = x.get("measured", {})
                    f = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
                    lines.append(f"| {method} | {x['recommendations']:,} | {x['seconds']:.1f} | {x['lists_recomputed']:,} | {x['themes']:,} | "
                                 f"{f(mm.get('precision'))} | {f(mm.get('recall'))} | {f(mm.get('cross_language_recall'))} |")
            sql = r.get("dashboard_sql")
            if sql:
                lines += ["", f"### Dashboard figures: bare SQL against the page ({scale})", "",
                          f"Dashboard page, computed afresh in process (no cache): {sql['page_ms']:.0f} ms.", "",
                          "| figure | bare SQL ms |", "| --- | --- |"]
                for name, ms in sql["figures"].items():
                    lines.append(f"| {name} | {ms:.1f} |")
                lines.append(f"| all figures | {sql['total_ms']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=SCALES, default="S")
    p.add_argument("--only", action="store_true", help="measure the given scale alone (default: every scale up to it)")
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--duration", type=int, default=None)
    p.add_argument("--concurrency", default="8", help="levels, comma-separated (the targets are at c=8)")
    args = p.parse_args()
    scales = [args.scale] if args.only or args.scale == "S" else list(SCALES)[: list(SCALES).index(args.scale) + 1]
    duration = args.duration or (3 if args.scale == "S" else 8)
    levels = [int(c) for c in args.concurrency.split(",")]
    dbs = [d for d in args.db.split(",") if d]
    ensure_tools()
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    commit = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()
    if sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip():
        commit += " with uncommitted changes"
    results = {"started": dt.datetime.now().isoformat(timespec="seconds"), "commit": commit, "machine": machine(),
               "duration": duration, "concurrency": levels, "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
               "scales": {}}
    stamp = re.sub(r"[^0-9T]", "", results["started"])[:13]
    name = f"{stamp}-{args.scale}"
    for scale in scales:
        docs = corpus(scale)
        results["scales"][scale] = {}
        for db in dbs:
            r = {"import": measure_import(scale, db, docs)}
            results["scales"][scale][db] = r
            r.update(measure_pages(scale, db, levels, duration))
            # Written after each database: a long run stopped half-way keeps what it measured.
            md = report(results, name)
    print(md)
    log(f"results: bench/results/{name}.json and .md (bench/results/latest.md)")


def report(results: dict, name: str) -> str:
    results["targets"] = evaluate_targets(results)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1))
    md = markdown(results)
    (RESULTS / f"{name}.md").write_text(md)
    (RESULTS / "latest.md").write_text(md)
    return md


if __name__ == "__main__":
    main()
