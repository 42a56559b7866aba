"""The reminders measured: planning a day's reminders and sending them, at a given size.

    python bench/reminders.py [--db sqlite|postgres] [--offices 40] [--actions 50]

On a fresh database (a SQLite file in a temporary folder, or the PostgreSQL
database `ft_remind_bench` on 127.0.0.1): OFFICES offices, each with an office
focal point, 4 units each with a unit focal point, an evaluation office of 5
people, and ACTIONS key actions per office on approved responses, their
deadlines spread from 3 years ago to 2 years ahead. A real SMTP server on
loopback (aiosmtpd) takes the mail. Measured: planning (`--dry-run`), a full
run (claim and send), a second run the same day (nothing new), and the
database queries of each. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXE = Path(sys.executable).with_name("followthrough")
PG = "postgres://postgres@127.0.0.1:5432/ft_remind_bench"
DAY = dt.date(2026, 12, 2)


def setup(db: str, folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE" and not k.startswith("CACHE_")}
    env.update(FOLLOWTHROUGH_VAR_DIR=str(folder), CACHE_URL="locmem")
    if db == "postgres":
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", "DROP DATABASE IF EXISTS ft_remind_bench",
                        "-c", "CREATE DATABASE ft_remind_bench"], check=True, capture_output=True)
        env["DATABASE_URL"] = PG
    else:
        env["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    subprocess.run([str(EXE), "migrate", "-v0"], env=env, check=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "followthrough.settings"
    import django

    django.setup()


def seed(offices: int, actions: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from tests.tracking.factories import make_evaluation, make_office
    from tracking.models import KeyAction, Recommendation, Role, RoleAssignment, Unit

    User = get_user_model()
    with transaction.atomic():
        for n in range(5):
            user = User.objects.create(username=f"eo{n}", email=f"eo{n}@example.org")
            RoleAssignment.objects.create(user=user, role=Role.EVALUATION_OFFICE)
        for o in range(offices):
            office = make_office(f"Office {o}", region=f"Region {o % 6}")
            fp = User.objects.create(username=f"fp{o}", email=f"fp{o}@example.org")
            RoleAssignment.objects.create(user=fp, role=Role.OFFICE_FOCAL_POINT, office=office)
            units = []
            for u in range(4):
                unit = Unit.objects.create(office=office, name=f"Unit {o}-{u}")
                ufp = User.objects.create(username=f"ufp{o}-{u}", email=f"ufp{o}-{u}@example.org")
                RoleAssignment.objects.create(user=ufp, role=Role.UNIT_FOCAL_POINT, unit=unit)
                units.append(unit)
            ev = make_evaluation(office, title=f"Evaluation of office {o}", status="Approved")
            make_evaluation(office, title=f"Draft of office {o}", status="Draft")
            rec = Recommendation.objects.create(
                management_response=ev.management_response, evaluation=ev, position=1, number="1", text="Do better."
            )
            rows = []
            for a in range(actions):
                months = -36 + (a * 60) // max(1, actions)  # 3 years ago to 2 years ahead
                index = DAY.year * 12 + DAY.month - 1 + months
                deadline = dt.date(index // 12, index % 12 + 1, 1)
                rows.append(KeyAction(recommendation=rec, evaluation=ev, position=a + 1, number=f"1.{a + 1}",
                                      text=f"Key action {a + 1} of office {o}.", deadline=deadline,
                                      status="Completed" if a % 5 == 0 else "Initiated"))
            made = KeyAction.objects.bulk_create(rows)
            links = KeyAction.units.through
            links.objects.bulk_create(links(keyaction_id=k.pk, unit_id=units[i % 4].pk) for i, k in enumerate(made))


def measure(label: str, func) -> tuple[str, float, int, object]:
    from django.db import connection, reset_queries

    connection.force_debug_cursor = True
    reset_queries()
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    count = len(connection.queries)
    connection.force_debug_cursor = False
    return label, seconds, count, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--offices", type=int, default=40)
    parser.add_argument("--actions", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup(args.db, Path(folder))
        from aiosmtpd.controller import Controller
        from django.conf import settings

        from reminders.send import run
        from tests.processes import free_port

        class Sink:
            count = 0

            async def handle_DATA(self, server, session, envelope):
                Sink.count += 1
                return "250 OK"

        port = free_port()
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
        controller.start()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        try:
            seed(args.offices, args.actions)
            rows = [
                measure("plan (--dry-run)", lambda: run(DAY, dry_run=True)),
                measure("run: claim and send", lambda: run(DAY)),
                measure("run again the same day", lambda: run(DAY)),
            ]
        finally:
            controller.stop()
        people = 5 + args.offices * 5
        print(f"{args.db}, {args.offices} offices, {args.offices * args.actions} key actions, {people} people; "
              f"{Sink.count} mails received\n")
        print("| step | seconds | queries | reminders planned | claimed | sent |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, seconds, queries, result in rows:
            print(f"| {label} | {seconds:.2f} | {queries} | {len(result.planned)} | {result.claimed} | {len(result.sent)} |")


if __name__ == "__main__":
    main()
