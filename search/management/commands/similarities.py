"""`followthrough similarities [--all] [--measure planted.json]`: recompute similar recommendations and themes."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from search import recurring


class Command(BaseCommand):
    help = (
        "Recompute the similar lists of recommendations whose text changed (or of those named with --ids), and of "
        "those whose lists they enter or leave; --all recomputes every list and the recurring themes. "
        "Uses sentence embeddings where the optional extra is installed (pip install -e .[embeddings]), TF-IDF otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every list and the themes, from scratch")
        parser.add_argument("--ids", default="", help="comma-separated recommendation ids to recompute")
        parser.add_argument(
            "--measure", metavar="PLANTED_JSON",
            help="then print precision and recall against a generated corpus's planted.json (followthrough generate)",
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, **options):
        try:
            ids = [int(x) for x in options["ids"].split(",") if x.strip()]
        except ValueError:
            raise CommandError("--ids takes recommendation ids separated by commas, e.g. --ids 12,40") from None
        try:
            stats = recurring.refresh_similarities(ids, everything=options["all"])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        out = {
            "method": stats.method, "recommendations": stats.recommendations, "embedded": stats.embedded,
            "lists_recomputed": stats.lists_recomputed, "themes": stats.themes, "seconds": round(stats.seconds, 2),
            "timings": {k: round(v, 2) for k, v in stats.timings.items()},
        }
        if options["measure"]:
            try:
                with open(options["measure"], encoding="utf-8") as f:
                    groups = json.load(f)["groups"]
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"{options['measure']}: not a planted.json from `followthrough generate` ({exc})") from exc
            out["measured"] = recurring.measure({g: [(m["source"], m["number"]) for m in ms] for g, ms in groups.items()})
        if options["json"]:
            self.stdout.write(json.dumps(out))
            return
        self.stdout.write(
            f"{stats.method}: {stats.lists_recomputed:,} of {stats.recommendations:,} similar lists recomputed"
            f"{f', {stats.embedded:,} texts embedded' if stats.embedded else ''}, {stats.themes:,} recurring themes, "
            f"in {stats.seconds:.1f} s."
        )
        if "measured" in out:
            m = out["measured"]
            fmt = lambda x: "—" if x is None else f"{x:.2f}"  # noqa: E731
            self.stdout.write(
                f"Planted near-duplicates: {m['planted']} in {m['groups']} groups; precision {fmt(m['precision'])}, "
                f"recall {fmt(m['recall'])}, across languages {fmt(m['cross_language_recall'])}."
            )
