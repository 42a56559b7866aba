"""Every page computed afresh (no cache at all), one request at a time, in process: where the time goes.

    python bench/afresh.py --scale M [--db sqlite|postgres] [--prepare] [--repeat 5] [--profile NAME] [--pages A,B] [--out FILE]

`--prepare` builds the benchmark's database for the scale as `bench/run.py`
does (the generated corpus imported with `followthrough import`, then
bench/seed.py), in bench/work/var-<scale>-<db>-afresh. Then each page is
requested for several URLs (different evaluations, offices, filters and
readers) with Django's dummy cache: nothing is kept between requests. For
each URL: the median and slowest of `--repeat` requests, the number of
queries, and the time spent in SQL (the rest is Python: views, templates).
`--profile NAME` prints the cProfile of one page's first URL. Prints a
JSON line (and writes it to --out).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare(scale: str, db: str) -> dict:
    from bench import run

    env = run.env_for(scale, db, tag="afresh")
    docs = run.corpus(scale)
    run.fresh_database(env, db)
    run.log(f"{scale}/{db}: importing {run.SCALES[scale]} documents")
    t = time.perf_counter()
    run.sh([run.APP, "import", docs, "--no-progress"], env=env)
    run.log(f"{scale}/{db}: imported in {time.perf_counter() - t:.0f} s; seeding")
    info = json.loads(run.sh([run.PY, run.BENCH / "seed.py"], env={**env, "PYTHONPATH": str(ROOT)}).stdout.strip().splitlines()[-1])
    (Path(env["FOLLOWTHROUGH_VAR_DIR"]) / "info.json").write_text(json.dumps(info))
    return env


def urls(info: dict) -> dict[str, list[tuple[str, str]]]:
    """(path, who) of several URLs of each page (bench/pages.py, the same as the load test's); the API is
    measured by bench/run.py only, as the ceiling (which this in-process run does not serve)."""
    from bench.pages import API_PAGES, CEILING, page_sets

    return {k: [(p, w) for p, w in v if w != "token"] for k, v in page_sets(info).items() if k not in API_PAGES and k != CEILING}


def measure(repeat: int, profile: str | None, only: list[str] | None = None) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    info = json.loads((Path(settings.FOLLOWTHROUGH_VAR_DIR) / "info.json").read_text()) if hasattr(settings, "FOLLOWTHROUGH_VAR_DIR") \
        else json.loads((Path(os.environ["FOLLOWTHROUGH_VAR_DIR"]) / "info.json").read_text())
    clients = {"": Client(HTTP_HOST="127.0.0.1")}
    for name, cookie in info["cookies"].items():
        c = Client(HTTP_HOST="127.0.0.1")
        key, value = cookie.split("=", 1)
        c.cookies[key] = value
        clients[name] = c
    out: dict = {"vendor": connection.vendor, "counts": info["counts"], "pages": {}}
    for page, cases in urls(info).items():
        if only and page not in only:
            continue
        rows = []
        for path, who in cases:
            client = clients[who]
            r = client.get(path)
            assert r.status_code == 200, (path, who, r.status_code)
            times, sql, queries = [], [], 0
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as ctx:
                    t = time.perf_counter()
                    client.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
                queries = len(ctx.captured_queries)
            rows.append({"path": path, "who": who or "public", "median_ms": statistics.median(times), "max_ms": max(times),
                         "sql_ms": statistics.median(sql), "queries": queries})
        out["pages"][page] = rows
        worst = max(r["median_ms"] for r in rows)
        print(f"{page:<16} worst median {worst:8.1f} ms  " + "  ".join(f"{r['median_ms']:.0f}({r['sql_ms']:.0f} sql,{r['queries']}q)" for r in rows),
              file=sys.stderr, flush=True)
        if profile == page:
            import cProfile
            import pstats

            path, who = cases[0]
            pr = cProfile.Profile()
            pr.enable()
            clients[who].get(path)
            pr.disable()
            pstats.Stats(pr, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    return out


def markdown(result: dict, baseline: dict | None = None) -> str:
    """Each URL's median and its SQL time (beside a baseline run's, where given); then the slowest URL of each page."""
    c = result["counts"]
    title = f"{result['scale']} on {result['db']}, at commit {result['commit']}"
    if baseline:
        title += f" (before: {baseline['commit']})"
    lines = [
        f"# Pages computed afresh, {title}",
        "",
        f"{c['evaluations']:,} evaluations, {c['key_actions']:,} key actions, {c['updates']:,} progress updates. "
        "No cache at all (Django's dummy cache), one request at a time, in process (Django's test client, no HTTP); "
        f"each URL requested {result.get('repeat', '?')} times after one warm-up: the median, and the SQL time within it.",
        "",
    ]
    head, rule = "| page | URL | reader |", "| --- | --- | --- |"
    if baseline:
        head, rule = head + " before ms | (SQL) |", rule + " --- | --- |"
    lines += [head + " ms | (SQL) | slowest ms | queries |", rule + " --- | --- | --- | --- |"]
    for page, rows in result["pages"].items():
        before = {(r["path"], r["who"]): r for r in (baseline or {}).get("pages", {}).get(page, [])}
        for r in rows:
            line = f"| {page} | `{r['path']}` | {r['who']} |"
            if baseline:
                b = before.get((r["path"], r["who"]))
                line += f" {b['median_ms']:.0f} | {b['sql_ms']:.0f} |" if b else " — | — |"
            lines.append(line + f" {r['median_ms']:.0f} | {r['sql_ms']:.0f} | {r['max_ms']:.0f} | {r['queries']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="M")
    p.add_argument("--db", default="sqlite")
    p.add_argument("--prepare", action="store_true")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--profile")
    p.add_argument("--out")
    p.add_argument("--pages", help="measure only these pages (names as bench/pages.py gives them, comma-separated)")
    p.add_argument("--baseline", help="an earlier run's JSON (--out) to set beside this one in the Markdown")
    p.add_argument("--measure-here", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure_here:
        result = measure(args.repeat, args.profile, args.pages.split(",") if args.pages else None)
        print(json.dumps(result))
        return
    from bench import run

    env = prepare(args.scale, args.db) if args.prepare else run.env_for(args.scale, args.db, tag="afresh")
    env = {**env, "PYTHONPATH": str(ROOT), "CACHE_BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    run.sh([run.APP, "collectstatic", "--noinput", "-v0"], env=env)
    cmd = [str(run.PY), __file__, "--measure-here", "--repeat", str(args.repeat)] + (["--profile", args.profile] if args.profile else []) + \
        (["--pages", args.pages] if args.pages else [])
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(p.returncode)
    line = p.stdout.strip().splitlines()[-1]
    result = {"scale": args.scale, "db": args.db, "commit": run.sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip(),
              **json.loads(line)}
    result["repeat"] = args.repeat
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
        baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
        Path(args.out).with_suffix(".md").write_text(markdown(result, baseline))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
