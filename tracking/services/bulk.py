"""Many rows in one INSERT, as plain values (no model object per row), each database its fastest way."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from django.db import connection

# SQLite: statements of a few hundred rows, under its bound-parameter limit (32,766) whatever the columns.
SQLITE_ROWS, SQLITE_PARAMETERS = 500, 30_000


def sources(model, columns: tuple[str, ...], rows: list) -> Iterator[tuple[str, list]]:
    """(source, parameters) for `INSERT INTO table (columns) <source>`, rows in order, in as few statements as may be.

    PostgreSQL: one array per column (`SELECT * FROM UNNEST(...)`, as Django's bulk_create
    does): a short statement whatever the rows. A multi-row VALUES is a new statement text
    for each number of rows, which psycopg splits again on the client each time (measured:
    5.6 s of the 15 s a 1,000-document import took went to it). Rows come out of UNNEST in
    the order given, so RETURNING gives ids in that order (Django relies on the same).
    SQLite: multi-row VALUES (binding row by row with executemany costs about three times as much).
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        # varchar, not varchar(40): a cast to the column's own type would truncate, not refuse.
        types = [model._meta.get_field(c).db_type(connection).split("(")[0] for c in columns]
        mark = "%b" if _binds_apart() else "%s"
        yield (
            "SELECT * FROM UNNEST(" + ", ".join(f"{mark}::{t}[]" for t in types) + ")",
            [list(column) for column in zip(*rows)],
        )
        return
    per_statement = max(1, min(SQLITE_ROWS, SQLITE_PARAMETERS // len(columns)))
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        yield "VALUES " + ", ".join([marks] * len(chunk)), list(chain.from_iterable(chunk))


def _binds_apart() -> bool:
    """Are values sent apart from the statement (followthrough.settings, POSTGRES_PREPARE)? Then the arrays go in
    binary (%b): written as text, each string of them was searched and escaped by a regular expression, a quarter
    of a PostgreSQL import's time."""
    import psycopg

    connection.ensure_connection()
    return not issubclass(connection.connection.cursor_factory, psycopg.ClientCursor)
