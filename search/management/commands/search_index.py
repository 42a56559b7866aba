"""`followthrough search_index`: how the full-text index stands, or rebuild it from the tables."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from search import engine, schema


class Command(BaseCommand):
    help = (
        "Show the search index's size, or rebuild it (--rebuild) from the tracking tables. The index is kept in "
        "step by database triggers; a rebuild is needed only after it was changed by hand, or to fold accents "
        "once PostgreSQL's unaccent extension has been installed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="drop the index and its triggers and make them again")

    def handle(self, *args, rebuild=False, **options):
        if rebuild:
            with transaction.atomic():
                schema.uninstall(connection)
                schema.install(connection)
        status = engine.index_status()
        if not status["installed"]:
            self.stderr.write("The search index is missing: run `followthrough migrate`.")
            return
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {schema.TABLE}")
            n = cursor.fetchone()[0]
        accents = "folded" if status["unaccent"] else "NOT folded (see `followthrough check`)"
        self.stdout.write(f"{'Rebuilt: ' if rebuild else ''}{n:,} records in the search index on {connection.vendor}; accents {accents}.")
