"""Soak: the production server under a steady mix of reads and writes for a while; nothing fails, memory stays flat.

    python bench/soak.py [--duration 180] [--concurrency 8] [--db sqlite|postgres]     (or: make soak)

Sets up an installation of its own (a temporary folder; SQLite there, or a
PostgreSQL database `soak`), with the demo data and a generated corpus,
serves it with gunicorn as in production (DEBUG off, several workers,
threads), and drives it from `concurrency` virtual users on loopback until
the time is up:

- anonymous readers: the public pages across many URLs, and exports;
- signed-in viewers: internal pages (workspace, history, dashboards) and
  exports, signing out and in again through the real form now and then;
- signed-in focal points: progress updates through the real web form (GET
  the form, POST it with its CSRF token and the version it showed), between
  reads.

It samples the resident memory (RSS) of each gunicorn worker every second.
Passes when: no answer is 5xx, no request fails or gets an unexpected
status, no worker was restarted, and memory is flat: each worker's median
RSS over the last tenth of the run exceeds its median over the first tenth
by at most --rss-growth-mb (default 20 MB). The run starts after a warm-up
of the same mix that lasts until every worker is warm (warm_up says how). Prints requests,
errors, latency percentiles and memory; exits 1 when it does not pass.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APP = BIN / "followthrough"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PASSWORD = "soak-" + "p4ss-w0rd-" * 3

SETUP = r"""
import json
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from tracking.models import Evaluation, KeyAction, Office, Region, Role, RoleAssignment, Unit
User = get_user_model()
approved = Evaluation.objects.filter(management_response__status="Approved")
office = (Office.objects.annotate(n=Count("evaluations", filter=Q(evaluations__management_response__status="Approved")))
          .order_by("-n", "pk").first())
people = {}
for name, role, scope in [("soak-office", Role.OFFICE_FOCAL_POINT, {"office": office}), ("soak-viewer", Role.VIEWER, {})]:
    user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.org"})
    user.set_password(PASSWORD)
    user.save()
    RoleAssignment.objects.get_or_create(user=user, role=role, **scope)
writable = list(KeyAction.objects.filter(evaluation__office=office, evaluation__management_response__status="Approved")
                .order_by("pk").values_list("pk", flat=True))
evaluations = list(approved.order_by("pk").values_list("pk", flat=True))
result = {
    "regions": list(Region.objects.order_by("pk").values_list("slug", flat=True))[:20],
    "offices": list(Office.objects.filter(evaluations__isnull=False).distinct().order_by("pk").values_list("slug", flat=True))[:40],
    "office_ids": list(Office.objects.filter(evaluations__isnull=False).distinct().order_by("pk").values_list("pk", flat=True))[:40],
    "units": list(Unit.objects.order_by("pk").values_list("pk", flat=True))[:40],
    "evaluations": evaluations[:200],
    "actions": list(KeyAction.objects.filter(evaluation__in=evaluations[:200]).order_by("pk").values_list("pk", flat=True))[:400],
    "writable": writable,
    "years": sorted(set(approved.values_list("year", flat=True)))[-6:],
}
"""


# --- the installation and the server ----------------------------------------------------------------


def sh(cmd: list, env: dict, timeout: int = 1800) -> str:
    p = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise SystemExit(f"soak: {' '.join(map(str, cmd))} failed ({p.returncode})\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return p.stdout


def prepare(env: dict, documents: int) -> dict:
    """Migrate, load the demo and a generated corpus, make the soak's users; returns the URLs' ingredients."""
    var = Path(env["FOLLOWTHROUGH_VAR_DIR"])
    sh([APP, "migrate", "-v0"], env)
    sh([APP, "loaddemo"], env)
    if documents:
        corpus = var / "corpus"
        sh([APP, "generate", "--count", documents, "-o", corpus, "--seed", 2026], env)
        sh([APP, "import", corpus, "--no-progress"], env)
    sh([APP, "collectstatic", "--noinput", "-v0"], env)
    code = f"import django; django.setup()\nPASSWORD = {PASSWORD!r}\n{SETUP}\nprint(json.dumps(result))\n"
    out = sh([sys.executable, "-c", code], {**env, "DJANGO_SETTINGS_MODULE": "followthrough.settings"})
    return json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, env: dict, workers: int, threads: int):
        self.port = free_port()
        self.log = Path(env["FOLLOWTHROUGH_VAR_DIR"]) / "gunicorn.log"
        cmd = [
            BIN / "gunicorn", "followthrough.wsgi:application", "-b", f"127.0.0.1:{self.port}",
            "-w", str(workers), "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "10",
            "--log-level", "warning", "--error-logfile", str(self.log),
        ]
        self.proc = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                c.request("GET", "/")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
            if self.proc.poll() is not None:
                break
        self.stop()
        raise SystemExit(f"soak: gunicorn did not come up:\n{self.log.read_text()[-3000:] if self.log.exists() else ''}")

    def workers(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return sorted(pids)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- the virtual users ------------------------------------------------------------------------------------


@dataclass
class Record:
    t: float
    kind: str
    status: int  # 0: the request failed (connection error, time-out)
    ms: float
    path: str


@dataclass
class Shared:
    records: list[Record] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reconnects: int = 0


class User:
    """One virtual user: its own keep-alive connection and cookies."""

    def __init__(self, port: int, shared: Shared, rng: random.Random):
        self.port, self.shared, self.rng = port, shared, rng
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def _send(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes, dict]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, data, response
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # A kept-alive connection the server closed meanwhile: open a new one, once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise exc
                with self.shared.lock:
                    self.shared.reconnects += 1
        raise AssertionError("unreachable")

    def request(self, kind: str, method: str, path: str, form: dict | None = None, expect=(200,)) -> tuple[int, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        try:
            status, data, response = self._send(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            status, data, response = 0, str(exc).encode(), None
        ms = (time.perf_counter() - t0) * 1000
        if response is not None:
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        with self.shared.lock:
            self.shared.records.append(Record(time.monotonic(), kind, status, ms, path))
            if status not in expect:
                snippet = data[:300].decode(errors="replace").replace("\n", " ")
                self.shared.unexpected.append(f"{method} {path} ({kind}): {status} {snippet}")
        return status, data.decode(errors="replace")

    # --- what people do ---

    def sign_in(self, username: str) -> None:
        _, page = self.request("sign-in", "GET", "/accounts/login/")
        token = csrf(page)
        self.request("sign-in", "POST", "/accounts/login/",
                     {"username": username, "password": PASSWORD, "next": "", "csrfmiddlewaretoken": token}, expect=(302,))

    def sign_out(self) -> None:
        self.request("sign-in", "POST", "/accounts/logout/", {"csrfmiddlewaretoken": self.cookies.get("csrftoken", "")},
                     expect=(302, 200))

    def update(self, action: int, n: int) -> None:
        status, page = self.request("update", "GET", f"/actions/{action}/update/")
        if status != 200:
            return
        version = re.search(r'name="version" value="(\d+)"', page)
        form = {
            "csrfmiddlewaretoken": csrf(page),
            "version": version.group(1) if version else "",
            "status": self.rng.choice(["Initiated", "Not Initiated", "Initiated"]),
            "comment": f"Soak update {n}: progress reviewed with the partners; next steps agreed.",
            "evidence_url": f"https://example.org/evidence/{n}" if n % 3 == 0 else "",
            # Asked (and kept) only when the action was Completed: moving it back needs a reason.
            "reopen_reason": "Reopened in the soak: more to report.",
        }
        self.request("update", "POST", f"/actions/{action}/update/", form, expect=(302,))


def csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return match.group(1) if match else ""


def public_paths(data: dict, rng: random.Random) -> str:
    ev = rng.choice(data["evaluations"])
    choices = [
        "/",
        "/regions/",
        f"/regions/{rng.choice(data['regions'])}/" if data["regions"] else "/regions/",
        f"/offices/{rng.choice(data['offices'])}/",
        "/evaluations/",
        f"/evaluations/?year={rng.choice(data['years'])}",
        f"/evaluations/?office={rng.choice(data['office_ids'])}",
        f"/evaluations/{ev}/",
        "/actions/",
        "/actions/?status=Initiated",
        "/actions/?overdue=1",
        f"/actions/?unit={rng.choice(data['units'])}",
        f"/actions/{rng.choice(data['actions'])}/",
        "/dashboard/",
        f"/dashboard/?year={rng.choice(data['years'])}",
        f"/reports/annual/?year={rng.choice(data['years'])}",
    ]
    return rng.choice(choices)


def export_paths(data: dict, rng: random.Random) -> str:
    ev = rng.choice(data["evaluations"])
    office = rng.choice(data["office_ids"])
    return rng.choice([
        f"/export/key-actions.csv?office={office}",
        f"/export/key-actions.xlsx?office={office}",
        f"/export/evaluations.csv?year={rng.choice(data['years'])}",
        "/export/evaluations.xlsx",
        f"/export/updates.json?office={office}",
        f"/export/recommendations.csv?office={office}",
        f"/evaluations/{ev}/export.txt",
        f"/evaluations/{ev}/export.json",
    ])


def internal_paths(data: dict, rng: random.Random) -> str:
    ev = rng.choice(data["evaluations"])
    return rng.choice([
        "/workspace/",
        "/workspace/actions/",
        "/history/",
        f"/evaluations/{ev}/history/",
        f"/evaluations/{ev}/",
        f"/actions/{rng.choice(data['actions'])}/",
        "/dashboard/",
        "/actions/?overdue=1",
    ])


ROLES = ("anonymous", "viewer", "writer", "writer")


def virtual_user(i: int, concurrency: int, port: int, data: dict, deadline: float, shared: Shared) -> None:
    rng = random.Random(1000 + i)
    user = User(port, shared, rng)
    role = ROLES[i % len(ROLES)]
    account = {"viewer": "soak-viewer", "writer": "soak-office"}.get(role)
    # Each writer updates key actions of its own: a conflict (409) would be a bug here, not a race.
    writers = [j for j in range(concurrency) if ROLES[j % len(ROLES)] == "writer"]
    mine = data["writable"][writers.index(i)::len(writers)] if role == "writer" else []
    if account:
        user.sign_in(account)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        roll = rng.random()
        if role == "writer" and mine and roll < 0.35:
            user.update(rng.choice(mine), n)
        elif roll < 0.15:
            user.request("export", "GET", export_paths(data, rng))
        elif account and roll < 0.6:
            user.request("signed-in read", "GET", internal_paths(data, rng))
        else:
            user.request("public read", "GET", public_paths(data, rng))
        if account and n % 150 == 0:
            user.sign_out()
            user.sign_in(account)


# --- the run ----------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


def drive(port: int, data: dict, concurrency: int, deadline: float, shared: Shared, timeout: float) -> None:
    users = [threading.Thread(target=virtual_user, args=(i, concurrency, port, data, deadline, shared), daemon=True)
             for i in range(concurrency)]
    for u in users:
        u.start()
    for u in users:
        u.join(timeout=timeout)


def warm_up(server: Gunicorn, data: dict, concurrency: int, shared: Shared, *, round_s: float = 4.0,
            risen_mb: float = 15.0, still_mb: float = 2.0, longest: float = 120.0) -> float:
    """Drive the mix in rounds until every worker is warm, and return the seconds it took (at most `longest`).

    Warm: its memory has risen from its idle size (it has served pages) and rose less than `still_mb` in each
    of the last two rounds. A fixed warm-up is not enough on a loaded machine: in one CI run a worker was
    still at its idle 90 MB after 12 s while the other was at 124 MB, and its first pages read as a leak.
    """
    start = time.monotonic()
    idle = {p: r for p in server.workers() if (r := rss_mb(p)) is not None}
    history: dict[int, list[float]] = {}
    while time.monotonic() - start < longest:
        drive(server.port, data, concurrency, time.monotonic() + round_s, shared, timeout=round_s + 120)
        for p in server.workers():
            if (r := rss_mb(p)) is not None:
                history.setdefault(p, []).append(r)
        if history and all(p in idle and v[-1] - idle[p] >= risen_mb and len(v) >= 3
                           and v[-1] - v[-2] < still_mb and v[-2] - v[-3] < still_mb for p, v in history.items()):
            break
    return time.monotonic() - start


def run(env: dict, *, duration: float, concurrency: int = 8, workers: int = 2, threads: int = 4, documents: int = 60,
        rss_growth_mb: float = 20.0, log=print) -> dict:
    """Prepare the installation in env (FOLLOWTHROUGH_VAR_DIR, DATABASE_URL), soak it, return the figures."""
    env = {**env, "DEBUG": "0", "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT)}
    env.setdefault("SECRET_KEY", "soak-" + "s" * 60)
    log(f"soak: preparing the installation in {env['FOLLOWTHROUGH_VAR_DIR']}")
    data = prepare(env, documents)
    server = Gunicorn(env, workers, threads)
    shared = Shared()
    samples: list[tuple[float, dict[int, float]]] = []
    pids_seen: set[int] = set(server.workers())
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pids = server.workers()
            pids_seen.update(pids)
            samples.append((time.monotonic(), {p: r for p in pids if (r := rss_mb(p)) is not None}))
            stop.wait(1.0)

    log("soak: warming up: the same mix until every worker has loaded the app's pages")
    load_before = Path("/proc/loadavg").read_text().split()[0]
    warmup = warm_up(server, data, concurrency, shared)
    log(f"soak: {concurrency} virtual users for {duration:.0f} s on gunicorn ({workers} workers x {threads} threads), "
        f"{len(data['evaluations'])} evaluations, {len(data['writable'])} key actions to update")
    start = time.monotonic()
    deadline = start + duration
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        drive(server.port, data, concurrency, deadline, shared, timeout=duration + 120)
    finally:
        stop.set()
        sampler.join(timeout=5)
        final_workers = set(server.workers())
        server.stop()
    elapsed = time.monotonic() - start
    # Statuses count every request, the warm-up's too; latencies only the measured run's.
    records = [r for r in shared.records if r.t >= start]
    statuses: dict[str, int] = {}
    for r in shared.records:
        key = "failed" if r.status == 0 else f"{r.status // 100}xx"
        statuses[key] = statuses.get(key, 0) + 1
    kinds = {}
    for kind in sorted({r.kind for r in records}):
        ms = [r.ms for r in records if r.kind == kind]
        kinds[kind] = {"requests": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
                       "p99_ms": percentile(ms, 99), "max_ms": max(ms)}
    all_ms = [r.ms for r in records]
    # Memory: per worker, the median of the first tenth of the measured run against the median of the last tenth.
    after = [(t - start, rss) for t, rss in samples if t >= start]
    window = max(1, len(after) // 10)
    memory = {"warmup_s": warmup, "samples": len(samples), "workers": {}}
    for pid in sorted({p for _, rss in samples for p in rss}):
        series = [(t, rss[pid]) for t, rss in after if pid in rss]
        if len(series) < 2:
            continue
        first = statistics.median(v for _, v in series[:window])
        last = statistics.median(v for _, v in series[-window:])
        peak = max(v for _, v in series)
        slope = statistics.linear_regression([t for t, _ in series], [v for _, v in series]).slope * 60
        minutes: dict[int, list[float]] = {}
        for t, v in series:
            minutes.setdefault(int(t // 60), []).append(v)
        memory["workers"][pid] = {"start_mb": round(first, 1), "end_mb": round(last, 1), "growth_mb": round(last - first, 1),
                                  "peak_mb": round(peak, 1), "slope_mb_per_min": round(slope, 2),
                                  "per_minute_mb": [round(statistics.median(v), 1) for _, v in sorted(minutes.items())]}
    growth = max((w["growth_mb"] for w in memory["workers"].values()), default=float("nan"))
    restarted = sorted(pids_seen - final_workers)
    n_5xx = statuses.get("5xx", 0)
    updates = [r for r in shared.records if r.kind == "update" and r.status == 302]
    result = {
        "duration_s": round(elapsed, 1),
        "load_average": f"{load_before} at the start, {Path('/proc/loadavg').read_text().split()[0]} at the end",
        "concurrency": concurrency,
        "server": f"gunicorn, {workers} workers x {threads} threads",
        "database": "postgresql" if env.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
        "requests": len(records),
        "requests_per_s": round(len(records) / elapsed, 1) if elapsed else 0,
        "statuses": statuses,
        "errors_5xx": n_5xx,
        "failed": statuses.get("failed", 0),
        "unexpected": len(shared.unexpected),
        "unexpected_examples": shared.unexpected[:10],
        "reconnects": shared.reconnects,
        "updates_recorded": len(updates),
        "latency_ms": {"p50": percentile(all_ms, 50), "p95": percentile(all_ms, 95), "p99": percentile(all_ms, 99),
                       "max": max(all_ms) if all_ms else float("nan")},
        "kinds": kinds,
        "memory": memory,
        "rss_growth_mb": growth,
        "rss_growth_limit_mb": rss_growth_mb,
        "workers_restarted": restarted,
        "server_log_tail": server.log.read_text()[-3000:] if server.log.exists() else "",
    }
    result["memory_flat"] = bool(memory["workers"]) and growth <= rss_growth_mb
    result["passed"] = n_5xx == 0 and not shared.unexpected and not restarted and result["memory_flat"]
    return result


def report(r: dict) -> str:
    lines = [
        f"soak: {r['requests']:,} requests in {r['duration_s']} s ({r['requests_per_s']} req/s) at concurrency "
        f"{r['concurrency']} on {r['server']}, {r['database']}; machine load average {r['load_average']}",
        f"  statuses: {', '.join(f'{k} {v:,}' for k, v in sorted(r['statuses'].items()))}; 5xx: {r['errors_5xx']}; "
        f"failed: {r['failed']}; unexpected: {r['unexpected']}; reconnects: {r['reconnects']}",
        f"  latency ms: p50 {r['latency_ms']['p50']:.1f}, p95 {r['latency_ms']['p95']:.1f}, "
        f"p99 {r['latency_ms']['p99']:.1f}, max {r['latency_ms']['max']:.0f}",
    ]
    for kind, k in r["kinds"].items():
        lines.append(f"    {kind:<15} {k['requests']:>7,}  p50 {k['p50_ms']:7.1f}  p95 {k['p95_ms']:7.1f}  "
                     f"p99 {k['p99_ms']:7.1f}  max {k['max_ms']:7.0f}")
    lines.append(f"  memory (RSS per worker, after {r['memory']['warmup_s']:.0f} s of warm-up; {r['memory']['samples']} samples):")
    for pid, w in r["memory"]["workers"].items():
        lines.append(f"    worker {pid}: {w['start_mb']} MB -> {w['end_mb']} MB ({w['growth_mb']:+} MB), peak {w['peak_mb']} MB, "
                     f"trend {w['slope_mb_per_min']:+} MB/min; by minute: {', '.join(map(str, w['per_minute_mb']))}")
    lines.append(f"  memory flat (growth <= {r['rss_growth_limit_mb']} MB): {'yes' if r['memory_flat'] else 'NO'}; "
                 f"workers restarted: {len(r['workers_restarted'])}")
    for example in r["unexpected_examples"]:
        lines.append(f"  unexpected: {example}")
    lines.append("soak: " + ("PASSED" if r["passed"] else "FAILED"))
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=180, help="seconds of load (default 180)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    p.add_argument("--documents", type=int, default=60, help="generated documents imported besides the demo (default 60)")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--rss-growth-mb", type=float, default=20.0)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    var = Path(tempfile.mkdtemp(prefix="followthrough-soak-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env["FOLLOWTHROUGH_VAR_DIR"] = str(var)
    database = None
    if args.db == "postgres":
        database = "followthrough_soak"
        sh(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], env)
        sh(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {database}"], env)
        env["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + database
    try:
        result = run(env, duration=args.duration, concurrency=args.concurrency, workers=args.workers, threads=args.threads,
                     documents=args.documents, rss_growth_mb=args.rss_growth_mb)
    finally:
        if database:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], capture_output=True)
        shutil.rmtree(var, ignore_errors=True)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
