"""The query planner's statistics, made again after imports and every night.

Without them SQLite guesses that a response status picks out a few rows and orders its joins from
there: the home page's newest updates took 2.8 s at 1,000 evaluations, a tag breakdown 1.1 s (0.1 s
each with them). Every row read, not a sample (analysis_limit): a sample of 1,000 rows told the
planner a key-action status picks out 1,000 of 195,000 rows, not 49,000, and the key-action list
filtered by year and status took 215 ms instead of 50. Half a second at L.

PostgreSQL: the tracking tables changed by a tenth of their rows since their last statistics, analyzed
and vacuumed (as its autovacuum would, sooner or later; where it is off, only this does).

PostgreSQL, the kept counts' indexes rebuilt where their updates have swollen them (`_rebuilt_if_swollen`).
A large import writes with their covering index set aside (`set_aside_while_importing`), built again at its end.

Tables grow through the web and the API too, not only through imports: hence the nightly job
(`jobs.tasks.refresh_statistics`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection
from django.db.models import Index

from tracking.models import ActionTally

from .importer import analyze_changed_tables

# The kept counts are updated in place by every change of a key action (tracking/services/tallies.py), and their
# covering index holds the count, so no update is HOT: each leaves a new entry in every index of the table. VACUUM
# frees the old entries but keeps their pages: after the L import the covering index took 184 MB (11 MB rebuilt),
# 1,200 bytes of index a row in all, and PostgreSQL read the whole table for each breakdown rather than that index
# (the dashboard's counts at L: 211 ms, 114 once rebuilt). Rebuilt past this many bytes of index a row (about 150
# freshly built); never below a megabyte.
SWOLLEN = {ActionTally._meta.db_table: 400}


def refresh_statistics() -> list[str]:
    """The statistics made again; the tables analyzed (on SQLite: every table, "*").

    PostgreSQL, outside a transaction: vacuumed too. The pages read most are read from covering indexes
    (the key-action list's order, the figures' columns, the counted recommendations), which PostgreSQL reads
    alone only where VACUUM has marked the table's pages all visible; where autovacuum is off, or has not come
    by since an import, it went to the table for each row (the office reader's count of recommendations at L:
    a scan of the table, 93 ms; from the index, 53).
    """
    restore_set_aside()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=0")
            cursor.execute("ANALYZE")
            _empty_tables_counted(cursor)
        return ["*"]
    if connection.in_atomic_block:
        return analyze_changed_tables(share=0.1)
    tables = analyze_changed_tables(share=0.1, vacuum=True)  # VACUUM: outside a transaction
    _rebuilt_if_swollen(tables)
    return tables


def _rebuilt_if_swollen(tables: list[str]) -> list[str]:
    """PostgreSQL, outside a transaction: the indexes of those of `tables` kept in SWOLLEN rebuilt where they take more
    than its bytes a row (just vacuumed and analyzed: their row counts are fresh). Rebuilt CONCURRENTLY: the pages
    reading and the changes writing them wait for nothing. The tables rebuilt."""
    rebuilt = []
    with connection.cursor() as cursor:
        for table in tables:
            if table not in SWOLLEN:
                continue
            cursor.execute("SELECT pg_indexes_size(oid), GREATEST(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table])
            size, rows = cursor.fetchone()
            if size > max(SWOLLEN[table] * rows, 1 << 20):
                cursor.execute(f"REINDEX TABLE CONCURRENTLY {connection.ops.quote_name(table)}")
                rebuilt.append(table)
    return rebuilt


# The kept counts' covering index, set aside while a large import writes: each of its batches updates thousands of
# counts, and each update rewrites the count's entry there (on PostgreSQL an entry in every index of the table: no
# update is HOT while an index holds the count). PostgreSQL: 3,000 documents 55-62 -> 43 s, the L import 198-203 ->
# 150 s; SQLite, which rewrites a row's entries in place, within the noise (L: 88 and 92 s), and done alike.
# Meanwhile the figures are the same, read without it (more slowly); built again at the end of the import, or, if it
# died, by the next refresh of the statistics (after every import, and every night).
SET_ASIDE = "action_tally_covering"
LARGE_IMPORT = 500  # documents: below, the index is kept (building it again takes a second at L)


@contextlib.contextmanager
def set_aside_while_importing(documents: int) -> Iterator[bool]:
    """Around an import of `documents` documents committed batch by batch: the kept counts' covering index dropped
    for a large one, and built again at the end, whatever happens. Yields whether it was set aside. Not inside a
    transaction (a dry run): its writes are rolled back, and nothing is gained."""
    aside = documents >= LARGE_IMPORT and not connection.in_atomic_block and _exists(SET_ASIDE)
    if aside:
        _execute(f"DROP INDEX {connection.ops.quote_name(SET_ASIDE)}")
    try:
        yield aside
    finally:
        if aside:
            restore_set_aside()


def restore_set_aside() -> bool:
    """The index set aside built again if it is missing (an import that died); True if it was. On PostgreSQL outside
    a transaction, CONCURRENTLY: the pages reading the counts and the changes writing them wait for nothing."""
    if _exists(SET_ASIDE):
        return False
    # A build CONCURRENTLY that failed leaves the index marked invalid, which no query reads: built again.
    _execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(SET_ASIDE)}")
    concurrently = connection.vendor == "postgresql" and not connection.in_atomic_block
    editor = connection.schema_editor()
    _execute(_covering().create_sql(ActionTally, editor, **({"concurrently": True} if concurrently else {})))
    return True


def _covering() -> Index:
    return next(index for index in ActionTally._meta.indexes if index.name == SET_ASIDE)


def _exists(index: str) -> bool:
    """Is the index there (on PostgreSQL: and valid)?"""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [connection.ops.quote_name(index)])
            row = cursor.fetchone()
            return bool(row and row[0])
        return index in connection.introspection.get_constraints(cursor, ActionTally._meta.db_table)


def _execute(statement) -> None:
    with connection.cursor() as cursor:
        cursor.execute(str(statement))


def _empty_tables_counted(cursor) -> list[str]:
    """SQLite: the tables ANALYZE found empty recorded as such (the tables it left out).

    ANALYZE keeps no statistics of an empty table, and the planner then takes it for a large one (a million
    rows): the dashboard's count of outcome questions, none yet, read every key action of every approved
    response and looked each up among the questions (15 ms at L), rather than the questions first. A row of
    `sqlite_stat1` with no index gives a table's number of rows; the nightly ANALYZE counts again those that
    have grown since.
    """
    # The tracking tables only, which the pages join: a queue's table (jobs), empty at one moment and holding
    # thousands of rows the next, is better left to the planner's default of a large table.
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE %s ESCAPE '\\' "
        "AND name NOT IN (SELECT tbl FROM sqlite_stat1) ORDER BY name",
        ["tracking\\_%"],
    )
    tables = [row[0] for row in cursor.fetchall()]
    empty = []
    for table in tables:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
        if cursor.fetchone()[0]:
            empty.append(table)
    if empty:
        cursor.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, NULL, '0')", [(t,) for t in empty])
        cursor.execute("ANALYZE sqlite_master")  # the statistics read again here; other connections read them when they next connect
    return empty

