"""followthrough restore FILE: put a backup back, all or nothing, checked, and say what was done."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from followthrough import backup

from .backup import size


class Command(BaseCommand):
    help = (
        "Restore a backup made by `followthrough backup`: the database (all or nothing, then checked: row counts, "
        "foreign keys, and SQLite's integrity check) and the evidence files. Refuses to replace a database that "
        "holds data, or an evidence folder that holds files, unless --force. Stop the application first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive written by `followthrough backup`")
        parser.add_argument("--force", action="store_true", help="replace the data and files there now")

    def handle(self, *args, **options):
        try:
            result = backup.restore(options["file"], force=options["force"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        out = self.stdout.write
        out(f"Restored the backup of {result.made_at} ({result.engine}) in {result.seconds:.1f} s:")
        out(f"  database: {result.tables} tables, {result.rows:,} rows")
        out("  replaced: " + (f"what the database held ({result.replaced})" if result.replaced else "nothing (the database was empty)"))
        out(f"  evidence files: {result.media_files:,} ({size(result.media_bytes)}) into {settings.MEDIA_ROOT}")
        if result.media_kept_aside:
            out(f"  the files that were there are kept in {result.media_kept_aside}")
        for check in result.checks:
            out(f"  checked: {check}")
        if result.pending_migrations:
            out(
                f"The backup predates {len(result.pending_migrations)} migrations of this version: "
                "run `followthrough migrate` before starting the application."
            )
