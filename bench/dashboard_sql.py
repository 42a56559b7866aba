"""Each dashboard figure's SQL, run with the bare driver, against the dashboard page computed afresh.

Run inside the app's environment (DATABASE_URL / FOLLOWTHROUGH_VAR_DIR). Prints
a JSON line: {"figures": {name: ms}, "total_ms": ..., "page_ms": ...}.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from reports import figures  # noqa: E402
from tracking.models import Evaluation, KeyAction, ManagementResponse  # noqa: E402
from tracking.models.responses import today  # noqa: E402
from tracking.permissions import restrict  # noqa: E402


def bare_ms(sql: str, params) -> float:
    """Median of three runs of the SQL through the driver's own connection (no ORM)."""
    raw = connection.connection
    times = []
    for _ in range(3):
        cur = raw.cursor()
        t = time.perf_counter()
        cur.execute(sql, params or ())
        cur.fetchall()
        times.append((time.perf_counter() - t) * 1000)
        cur.close()
    return statistics.median(times)


def captured_sql(fn) -> list[str]:
    """The SQL a figure runs (as executed, parameters in place), to run again bare."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def main() -> None:
    connection.ensure_connection()
    on = today()
    actions = restrict(None, KeyAction)  # what the public reads
    evaluations = restrict(None, Evaluation)
    figure_sql = {"totals (status, due, overdue, age)": captured_sql(lambda: figures.totals(actions, on))}
    for key, b in figures.BREAKDOWNS.items():
        figure_sql[f"by {b.label.lower()}"] = captured_sql(lambda key=key: figures.breakdown(actions, key, on))
    figure_sql["responses approved on time"] = captured_sql(
        lambda: figures.timeliness(restrict(None, ManagementResponse).filter(evaluation__in=evaluations))
    )
    results = {name: sum(bare_ms(sql, None) for sql in sqls) for name, sqls in figure_sql.items()}
    # The page itself, computed afresh: its own queries, templates and charts.
    client = Client()
    page = []
    for _ in range(3):
        t = time.perf_counter()
        r = client.get("/dashboard/", HTTP_HOST="127.0.0.1")
        page.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
    print(json.dumps({"figures": results, "total_ms": sum(results.values()), "page_ms": statistics.median(page)}))


if __name__ == "__main__":
    main()
