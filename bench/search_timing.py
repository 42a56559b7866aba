"""Search pages computed afresh, in process: median time and SQL time of a few common-word queries.

    FOLLOWTHROUGH_VAR_DIR=bench/work/var-M-sqlite-afresh [DATABASE_URL=...] python bench/search_timing.py [--repeat 5] [--profile]

Reads the database the environment names (build one with `bench/afresh.py --scale M --prepare`).
Each URL is requested once to warm up, then `--repeat` times, as the public and as a viewer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# The code measured is the working directory's (so an older checkout can be measured beside this one).
sys.path.insert(0, os.getcwd())

QUERIES = ["partners", "partners&kind=update", "partners&office={office}", "sustainab*", '"national partners"',
           "evaluation", "risk appetite"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--only", help="measure only the queries containing this text")
    args = p.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ["CACHE_BACKEND"] = "django.core.cache.backends.dummy.DummyCache"
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tracking.models import Office, Role, RoleAssignment

    viewer, _ = get_user_model().objects.get_or_create(username="search-bench-viewer")
    RoleAssignment.objects.get_or_create(user=viewer, role=Role.VIEWER)
    office = Office.objects.order_by("pk").values_list("pk", flat=True).first()
    public, signed = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    signed.force_login(viewer)
    print(f"{connection.vendor}", file=sys.stderr)
    for q in [q for q in QUERIES if not args.only or args.only in q]:
        path = "/search/?q=" + q.format(office=office).replace(" ", "+")
        for who, client in (("public", public), ("viewer", signed)):
            assert client.get(path).status_code == 200
            times, sql = [], []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as ctx:
                    t = time.perf_counter()
                    client.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                sql.append(sum(float(x["time"]) for x in ctx.captured_queries) * 1000)
            print(f"{path:<45} {who:<7} median {statistics.median(times):7.1f} ms  sql {statistics.median(sql):7.1f} ms  "
                  f"max {max(times):7.1f}  queries {len(ctx.captured_queries)}", flush=True)
    if args.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        public.get("/search/?q=partners")
        pr.disable()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
