"""followthrough tallies: check the counts kept beside the key actions, or make them again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracking.models import KeyAction
from tracking.services import tallies


class Command(BaseCommand):
    help = (
        "Compare the counts behind the figures with the key actions (exit status 1 when they differ); "
        "--rebuild makes them again (after changes made to the database by hand)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="count every key action again")

    def handle(self, *args, rebuild=False, **options):
        if rebuild:
            n = tallies.rebuild()
            self.stdout.write(f"Counts made again: {n} rows for {KeyAction.objects.count()} key actions.")
            return
        kept = tallies.kept_counts()
        truth = tallies.everything()
        wrong = {k for k in kept.keys() | truth.keys() if kept.get(k) != truth.get(k)}
        if wrong:
            raise CommandError(
                f"{len(wrong)} of {len(truth)} counts differ from the key actions (first: {sorted(wrong)[0]}); "
                "run `followthrough tallies --rebuild`."
            )
        month = tallies.sums_month()
        if month is not None:
            summed, again = tallies.kept_sums(), tallies.sums_made_again(month)
            wrong = {k for k in summed.keys() | again.keys() if summed.get(k) != again.get(k)}
            if wrong:
                raise CommandError(
                    f"{len(wrong)} of {len(again)} sums of the counts differ from the counts (first: {sorted(wrong)[0]}); "
                    "run `followthrough tallies --rebuild`."
                )
        self.stdout.write(f"The {len(kept)} counts behind the figures agree with the {KeyAction.objects.count()} key actions.")
