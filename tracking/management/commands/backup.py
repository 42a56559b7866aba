"""followthrough backup FILE: the database and the evidence files, in one archive, while the application runs."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from followthrough import backup


def size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite's online backup, or pg_dump) and the uploaded evidence files into one "
        "tar archive, consistently while the application keeps running. FILE ending in .gz or .tgz is compressed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive to write (replaced if it exists, only once complete)")

    def handle(self, *args, **options):
        try:
            result = backup.backup(options["file"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Backed up the {result.engine} database ({result.tables} tables, {result.rows:,} rows) and "
            f"{result.media_files:,} evidence files ({size(result.media_bytes)}) to {result.path}: "
            f"{size(result.bytes)} in {result.seconds:.1f} s."
        )
        if result.missing_media:
            self.stderr.write(
                f"warning: {len(result.missing_media)} files the database names were not in the evidence folder "
                f"(so not in the backup either), e.g. {result.missing_media[0]}"
            )
