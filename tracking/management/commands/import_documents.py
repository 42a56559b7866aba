"""followthrough import PATH...: import GATE documents (files, folders, globs)."""

from __future__ import annotations

import glob
import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from followthrough.cli import read_document
from tracking.actor import Actor
from tracking.services.importer import CREATED, FAILED, UNCHANGED, UPDATED, Importer, ImportResult


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


class Command(BaseCommand):
    help = "Import GATE management-response documents. Each document is one transaction: a bad one changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files, folders (their *.txt files) or glob patterns")
        parser.add_argument("--dry-run", action="store_true", help="read and check everything, then write nothing")
        parser.add_argument("--user", help="record the changes as made by this user (default: the system)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--warnings", action="store_true", help="list every warning, not only their number")
        parser.add_argument(
            "--workers", type=int, default=None, help="processes reading documents while this one writes (default: the CPU count less one, at most 4; 0: none)"
        )

    def handle(self, *args, **options):
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
        try:
            with transaction.atomic():
                importer = Importer(actor)
                bar = tqdm(
                    total=len(files),
                    unit="doc",
                    file=sys.stderr,
                    disable=options["no_progress"] or options["verbosity"] == 0,
                    dynamic_ncols=True,
                )
                unreadable: list[ImportResult] = []
                workers = options["workers"] if options["workers"] is not None else (0 if len(files) < 20 else None)
                for result in importer.run(self._texts(files, unreadable), workers=workers):
                    results.append(result)
                    bar.update(1)
                for result in unreadable:
                    results.append(result)
                    bar.update(1)
                bar.close()
                if options["dry_run"]:
                    raise DryRun
        except DryRun:
            pass
        elapsed = time.monotonic() - started
        if not options["dry_run"] and any(r.outcome != FAILED for r in results):
            _refresh_statistics()
        for arg in missing:
            results.append(ImportResult(source=arg, outcome=FAILED, error="no such file, folder or match"))
        self._report(results, elapsed, options)
        failed = sum(r.outcome == FAILED for r in results)
        if failed:
            raise CommandError(f"{failed} of {len(results)} documents failed (see above)", returncode=1)

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
        for r in results:
            if r.outcome == FAILED:
                location = r.error if r.error[:1].isdigit() else f"{r.error}"
                sep = ":" if r.error[:1].isdigit() else ": "
                self.stderr.write(f"{r.source}{sep}{location}")


def _refresh_statistics() -> None:
    """After an import, the query planner's statistics of SQLite made again (PostgreSQL keeps its own).

    Without them, SQLite guesses that a response status picks out a few rows and orders its joins
    from there: the home page's newest updates took 2.8 s at 1,000 evaluations, a tag breakdown 1.1 s
    (0.1 s each with them). A bounded sample (analysis_limit): milliseconds, whatever the size.
    """
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")

