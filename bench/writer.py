"""Progress updates at a steady rate through the services, while the pages are measured: a reporting week.

    python bench/writer.py --rate 2 --stop STOPFILE    (DATABASE_URL / FOLLOWTHROUGH_VAR_DIR select the installation)

Each update goes to a key action of an approved response, taken in turn from
every office (so each one invalidates its action, its evaluation, its office
and the figures), as a unit's focal point would record it: the services' own
path, version check and history record included. Stops when STOPFILE exists
and prints a JSON line: updates written, the rate achieved, the slowest write.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=2.0, help="updates a second")
    p.add_argument("--stop", required=True)
    args = p.parse_args()
    import django

    django.setup()
    from tracking.actor import Actor
    from tracking.models import KeyAction
    from tracking.models.responses import CLOSED_STATUSES, ActionStatus
    from tracking.services import progress

    stop = Path(args.stop)
    actor = Actor.system("command")
    # Open actions of approved responses, interleaved across offices.
    by_office: dict[int, list[int]] = {}
    rows = (
        KeyAction.objects.filter(evaluation__management_response__status="Approved")
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("pk").values_list("evaluation__office_id", "pk")
    )
    for office, pk in rows.iterator():
        by_office.setdefault(office, []).append(pk)
    actions = [pk for group in itertools.zip_longest(*by_office.values()) for pk in group if pk is not None]
    assert actions, "no open key action of an approved response to update"
    statuses = [ActionStatus.INITIATED, ActionStatus.NOT_INITIATED]
    interval = 1.0 / args.rate
    start = time.perf_counter()
    written, slowest = 0, 0.0
    for i in itertools.count():
        if stop.exists():
            break
        due = start + i * interval
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        t = time.perf_counter()
        action = KeyAction.objects.get(pk=actions[i % len(actions)])
        progress.record_progress(actor, action, version=action.version, status=statuses[i % 2], comment=f"benchmark writer {i}")
        slowest = max(slowest, time.perf_counter() - t)
        written += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"updates": written, "seconds": elapsed, "rate": written / elapsed if elapsed else 0.0,
                      "slowest_write_ms": slowest * 1000}))


if __name__ == "__main__":
    main()
