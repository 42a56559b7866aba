"""followthrough remind: send today's reminders (digests, escalations, the quarterly call), each once."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from reminders.plan import reminder_today
from reminders.send import run, waiting


class Command(BaseCommand):
    help = (
        "Send the reminders of the day: one digest per person, escalations of long-overdue key actions, the quarterly "
        "call for progress. Safe to run again, or on two servers at once: each reminder goes once. Failed sends are "
        "tried again. The job worker runs it every day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be sent, to whom and why; send nothing")
        parser.add_argument("--today", help="compute the reminders of this day (YYYY-MM-DD) instead of today")

    def handle(self, *args, dry_run=False, today=None, **options):
        try:
            on = dt.date.fromisoformat(today) if today else reminder_today()
        except ValueError:
            raise CommandError(f"--today must be a date like 2026-12-02, not {today!r}") from None
        result = run(on, dry_run=dry_run)
        done = {}
        if result.planned:
            from reminders.plan import claimed_keys

            done = claimed_keys(result.planned) if dry_run else {}
        for p in result.planned:
            mark = " [already sent or claimed]" if p.key in done else ""
            self.stdout.write(f"{p.summary()}{mark}")
        if dry_run:
            for m in waiting():
                self.stdout.write(f"Tried again: {m.subject} to {m.address} ({m.day}; {m.attempts} tries; {m.error or m.status})")
            self.stdout.write(
                f"Dry run for {on}: {len(result.planned)} reminders planned, {result.already} of them already claimed; nothing sent."
            )
            return
        for pk, error in result.failed:
            self.stderr.write(f"reminder {pk} not sent (tried again on the next run): {error}")
        self.stdout.write(
            f"Reminders for {on}: {result.claimed} new, {result.already} already claimed, "
            f"{len(result.sent)} sent, {len(result.failed)} failed."
        )
