"""followthrough export: evaluations as GATE text, JSON, or a CSV of key actions."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

import gateformat
from reports import exports, tables
from reports.documents import evaluations_for_export, to_document
from tracking.models import Evaluation, KeyAction


class Command(BaseCommand):
    help = "Export evaluations: GATE text (one document), JSON (a list of documents) or CSV (one row per key action)."

    def add_arguments(self, parser):
        parser.add_argument("--evaluation", type=int, action="append", help="evaluation id (repeatable); default: all")
        parser.add_argument("--format", choices=["gate", "json", "csv"], required=True)
        parser.add_argument(
            "-o", "--output", help="file to write (default: standard output); for GATE text of several evaluations, a folder"
        )

    def handle(self, *args, **options):
        evaluations = Evaluation.objects.order_by("pk")
        if options["evaluation"]:
            evaluations = evaluations.filter(pk__in=options["evaluation"])
            missing = set(options["evaluation"]) - set(evaluations.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no evaluation with id {', '.join(map(str, sorted(missing)))}")
        fmt, output = options["format"], options["output"]
        if fmt == "gate":
            return self._gate(evaluations, output)
        out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if fmt == "json":
                n = exports.write_json(evaluations, out)
                what = "evaluations"
            else:
                actions = KeyAction.objects.filter(evaluation__in=evaluations)
                n = tables.write_csv(tables.key_actions_table(actions), out)
                what = "key actions"
        finally:
            if output:
                out.close()
        if output:
            self.stderr.write(f"wrote {n} {what} to {output}")

    def _gate(self, evaluations, output):
        rows = list(evaluations_for_export(evaluations))
        if len(rows) == 1 and (not output or not Path(output).is_dir()):
            text = gateformat.render(to_document(rows[0]))
            if output:
                Path(output).write_text(text, encoding="utf-8")
            else:
                self.stdout.write(text, ending="")
            return
        if not output:
            raise CommandError("GATE text holds one evaluation: pass --evaluation ID, or -o FOLDER for one file each")
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        for ev in rows:
            (folder / f"evaluation-{ev.pk}.txt").write_text(gateformat.render(to_document(ev)), encoding="utf-8")
        self.stderr.write(f"wrote {len(rows)} documents to {folder}")
