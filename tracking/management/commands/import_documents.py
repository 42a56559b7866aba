"""followthrough import PATH...: import GATE documents (files, folders, globs), or spreadsheets (.xlsx, .csv)."""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from followthrough.cli import read_document
from search.engine import count_common_words
from tracking.actor import Actor
from tracking.services import sheets
from tracking.services.importer import (
    CREATED,
    FAILED,
    UNCHANGED,
    UPDATED,
    Importer,
    ImportResult,
)
from tracking.services.statistics import refresh_statistics, set_aside_while_importing


class DryRun(Exception):
    """Raised to roll back everything a dry run wrote."""


def expand(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files to import, and the arguments that named nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.txt") if f.is_file())
        elif p.is_file():
            files.append(p)
        else:
            matches = sorted(Path(m) for m in glob.glob(arg, recursive=True))
            found = [m for m in matches if m.is_file()]
            for m in matches:
                if m.is_dir():
                    found += sorted(f for f in m.rglob("*.txt") if f.is_file())
            if found:
                files += found
            else:
                missing.append(arg)
    unique = list(dict.fromkeys(files))
    return unique, missing


EXIT_OK, EXIT_FAILED, EXIT_CONFLICTS = 0, 1, 3
SHEET_SUFFIXES = (".xlsx", ".csv")

EPILOG = """\
Spreadsheets (.xlsx, .csv: the columns of the recommendations and key actions
exports, or of the template on the import page) are read whole first: a bad
cell is reported by sheet, row and column and nothing of the file is written;
then each file is imported in one transaction, with the same rules.

A re-import never undoes what was done here: a value changed here since the
page was last imported is kept, and the page's other value is reported as a
conflict (document, line, record, field, ours, page) and recorded on the
record's history. A value only the page changed is taken. A document that no
longer has some stored recommendations or key actions is refused (nothing of
it is written) unless --allow-removals, which archives them with their progress.

Documents are committed in batches (--batch-size): a run stopped half way keeps
whole documents, and running it again completes it.

exit status:
  0  every document imported, no conflict
  1  some documents failed or were refused (the others were imported)
  2  the command line is wrong
  3  every document imported, with conflicts (the values here were kept)
"""


class Command(BaseCommand):
    help = (
        "Import GATE management-response documents. Each document is all or nothing: a bad one is "
        "reported (file and line) and the others are imported."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EPILOG
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files, folders (their *.txt files) or glob patterns")
        parser.add_argument(
            "--dry-run", action="store_true", help="read and check everything, list every change and removal, write nothing"
        )
        parser.add_argument(
            "--prefer",
            choices=["ours", "page"],
            default="ours",
            help="on a conflict, keep the value changed here (ours, the default) or take the page's "
            "(page: administrators only; each taken value is recorded in the history)",
        )
        parser.add_argument(
            "--allow-removals",
            action="store_true",
            help="let a document that no longer has some stored records archive them (kept, with their progress)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            # Half a second bounds each batch; the count only caps it. At 50, SQLite's pause between
            # batches (0.11 s each) was a quarter of a 10,000-document import (96 s; 70 s at 100).
            default=100,
            help="documents per transaction at most (default 100; each batch is committed, and holds the database "
            "about half a second at most: fewer documents when they take longer)",
        )
        parser.add_argument("--changes", action="store_true", help="list every change made (a dry run always does)")
        parser.add_argument("--user", help="record the changes as made by this user (default: the system)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--warnings", action="store_true", help="list every warning, not only their number")
        parser.add_argument(
            "--workers", type=int, default=None, help="processes reading documents while this one writes (default: the CPU count less one, at most 4; 0: none)"
        )

    def handle(self, *args, **options):
        spreadsheets = [p for p in options["paths"] if p.lower().endswith(SHEET_SUFFIXES)]
        if spreadsheets:
            if len(spreadsheets) != len(options["paths"]):
                raise CommandError("spreadsheets and GATE documents are imported in separate runs", returncode=2)
            return self._sheets(spreadsheets, options)
        files, missing = expand(options["paths"])
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user named {options['user']!r}") from None
        actor = Actor(user=user, source="import") if user else Actor.system("import")
        results: list[ImportResult] = []
        started = time.monotonic()
        dry_run = options["dry_run"]
        try:
            # A dry run is one transaction, rolled back; a real run commits batch by batch (a large one with an index
            # of the kept counts set aside: tracking/services/statistics.py).
            with transaction.atomic() if dry_run else set_aside_while_importing(len(files)):
                try:
                    importer = Importer(
                        actor, prefer_page=options["prefer"] == "page", allow_removals=options["allow_removals"]
                    )
                except PermissionDenied as exc:
                    raise CommandError(str(exc)) from None
                bar = tqdm(
                    total=len(files),
                    unit="doc",
                    file=sys.stderr,
                    disable=options["no_progress"] or options["verbosity"] == 0,
                    dynamic_ncols=True,
                )
                unreadable: list[ImportResult] = []
                workers = options["workers"] if options["workers"] is not None else (0 if len(files) < 20 else None)
                texts = self._texts(files, unreadable)
                for result in importer.run(texts, workers=workers, batch_size=max(1, options["batch_size"]), batch_seconds=0.5):
                    results.append(result)
                    bar.update(1)
                for result in unreadable:
                    results.append(result)
                    bar.update(1)
                bar.close()
                if dry_run:
                    raise DryRun
        except DryRun:
            pass
        elapsed = time.monotonic() - started
        if not options["dry_run"] and any(r.outcome != FAILED for r in results):
            refresh_statistics()
            count_common_words()  # as the planner's statistics: searches judge a word's weight by them
        for arg in missing:
            results.append(ImportResult(source=arg, outcome=FAILED, error="no such file, folder or match"))
        self._report(results, elapsed, options)
        failed = sum(r.outcome == FAILED for r in results)
        conflicts = sum(len(r.conflicts) for r in results)
        if failed:
            raise CommandError(f"{failed} of {len(results)} documents failed (see above)", returncode=EXIT_FAILED)
        if conflicts and options["prefer"] != "page":
            in_docs = sum(bool(r.conflicts) for r in results)
            raise CommandError(
                f"{conflicts} conflicts in {in_docs} documents: the values changed here were kept (see above)",
                returncode=EXIT_CONFLICTS,
            )

    def _sheets(self, paths: list[str], options) -> None:
        """Each spreadsheet all or nothing (tracking/services/sheets.py), with the exit status of documents."""
        actor = self._actor(options)
        failed = conflicts = 0
        for name in paths:
            try:
                data = Path(name).read_bytes()
            except OSError as exc:
                self.stderr.write(f"{name}: cannot read: {exc.strerror}")
                failed += 1
                continue
            try:
                result = sheets.import_sheet(
                    actor, data, Path(name).name, prefer_page=options["prefer"] == "page", dry_run=options["dry_run"]
                )
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from None
            lines = result.summary()
            if options["dry_run"] and result.ok:
                lines[0] = "Dry run: " + lines[0][0].lower() + lines[0][1:]
            out = self.stdout if result.ok else self.stderr
            for line in lines:
                out.write(line)
            failed += not result.ok
            conflicts += len(result.conflicts)
        if failed:
            raise CommandError(f"{failed} of {len(paths)} spreadsheets were not imported (see above)", returncode=EXIT_FAILED)
        if conflicts and options["prefer"] != "page":
            raise CommandError(f"{conflicts} conflicts: the values changed here were kept (see above)", returncode=EXIT_CONFLICTS)

    def _actor(self, options) -> Actor:
        if not options["user"]:
            return Actor.system("import")
        try:
            return Actor(user=get_user_model().objects.get(username=options["user"]), source="import")
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {options['user']!r}") from None

    def _texts(self, files: list[Path], unreadable: list[ImportResult]):
        """(source, text) of each file; the unreadable ones are set aside as failed."""
        for path in files:
            name = str(path)
            try:
                text, note = read_document(name)
            except OSError as exc:
                unreadable.append(ImportResult(source=name, outcome=FAILED, error=f"cannot read: {exc.strerror}"))
                continue
            if note:
                # Not UTF-8: said once on standard error, and read as Windows-1252.
                self.stderr.write(f"{name}: warning: {note}")
            yield name, text

    def _report(self, results: list[ImportResult], elapsed: float, options) -> None:
        counts = {k: sum(r.outcome == k for r in results) for k in (CREATED, UPDATED, UNCHANGED, FAILED)}
        rate = len(results) / elapsed if elapsed > 0 else 0.0
        prefix = "Dry run: would have imported" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{prefix} {len(results)} documents in {elapsed:.1f} s ({rate:.0f} documents/s): "
            f"{counts[CREATED]} created, {counts[UPDATED]} updated, {counts[UNCHANGED]} unchanged, "
            f"{counts[FAILED]} failed."
        )
        changes = sum(r.status_changes for r in results)
        units = sum(r.units_created for r in results)
        if changes or units:
            self.stdout.write(f"{changes} key action status changes recorded; {units} new units.")
        with_warnings = [r for r in results if r.warnings and r.outcome != FAILED]
        total = sum(len(r.warnings) for r in with_warnings)
        if total:
            self.stdout.write(f"{total} warnings in {len(with_warnings)} documents.")
            if options["warnings"]:
                for r in with_warnings:
                    for w in r.warnings:
                        self.stdout.write(f"  {r.source}: {w}")
            else:
                self.stdout.write("  (list them with --warnings)")
        conflicts = [c for r in results for c in r.conflicts]
        if conflicts:
            taken = sum(c.taken for c in conflicts)
            self.stdout.write(
                f"{len(conflicts)} conflicts (a value changed here since the page was last imported"
                + (f"; the page's value taken for {taken}" if taken else "; ours kept")
                + "):"
            )
            for c in conflicts:
                self.stdout.write(f"  {c}")
        for r in results:
            listed = r.changes if (options["dry_run"] or options["changes"]) else (r.changes if r.approved else [])
            if r.removals and r.outcome != FAILED:
                self.stdout.write(f"{r.source}: archived, no longer on the page: " + "; ".join(r.removals))
            if listed:
                head = "changes on an approved response" if r.approved else "changes"
                self.stdout.write(f"{r.source}: {len(listed)} {head}:")
                for change in listed:
                    self.stdout.write(f"  {change}")
        for r in results:
            if r.outcome == FAILED:
                location = r.error if r.error[:1].isdigit() else f"{r.error}"
                sep = ":" if r.error[:1].isdigit() else ": "
                self.stderr.write(f"{r.source}{sep}{location}")
