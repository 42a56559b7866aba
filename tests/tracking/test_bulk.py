"""Many rows in one INSERT (tracking.services.bulk): every value arrives as it was, on either database.

On PostgreSQL the rows go as one array per column (UNNEST), in binary where
values are sent apart from the statement: nothing of a string is quoted or
escaped then, and nothing may be lost either.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tracking.models import Term
from tracking.services import bulk

pytestmark = pytest.mark.django_db

# What an array literal or a statement would have to quote or escape.
AWKWARD = ['plain', 'a "quoted" word', "back\\slash", "{braces}", "a, comma", "NULL", "", "  spaces  ", "new\nline",
           "tab\there", "it's", "ümlaut — ñ 中文", "%s and %%", "?", "(1, 2)"]


def test_every_value_arrives_as_it_was():
    rows = [("thematic_area", name, i, i % 2 == 0, False) for i, name in enumerate(AWKWARD)]
    columns = ("kind", "name", "position", "active", "auto_created")
    statements = list(bulk.sources(Term, columns, rows))
    assert len(statements) == 1  # one statement for the rows
    with connection.cursor() as cursor:
        for source, params in statements:
            cursor.execute(f"INSERT INTO tracking_term (kind, name, position, active, auto_created) {source}", params)
    got = list(Term.objects.filter(kind="thematic_area", name__in=AWKWARD).order_by("position").values_list("name", "position", "active"))
    assert got == [(name, i, i % 2 == 0) for i, name in enumerate(AWKWARD)]


def test_sqlite_statements_keep_under_its_bound_values():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statements of many rows")
    rows = [("thematic_area", f"term {i}", i, True, False) for i in range(2 * bulk.SQLITE_ROWS + 3)]
    statements = list(bulk.sources(Term, ("kind", "name", "position", "active", "auto_created"), rows))
    assert [len(params) // 5 for _, params in statements] == [bulk.SQLITE_ROWS, bulk.SQLITE_ROWS, 3]
    with connection.cursor() as cursor:
        for source, params in statements:
            cursor.execute(f"INSERT INTO tracking_term (kind, name, position, active, auto_created) {source}", params)
    assert list(Term.objects.filter(name__startswith="term ").order_by("position").values_list("position", flat=True)) == list(range(len(rows)))
