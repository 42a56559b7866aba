"""Counts of key actions kept beside them, so figures add up a few thousand rows, not 200,000.

One row per (office, evaluation year, response status, recommendation
category, tag, status, deadline month) with the number of key actions in it.
Rows with no tag (`term` null) count every key action once; rows with a
tag count the actions of recommendations carrying that tag (one row per
tag). The deadline is kept as its month (year × 12 + month), which is all
the rules of due, overdue and age look at.

The services keep the rows in step, in the same transaction as the change
(`tracking.services.tallies`); tests compare them with the key actions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Func, IntegerField

from .reference import Office, Term


class ActionTally(models.Model):
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+", db_index=False)
    year = models.PositiveSmallIntegerField()
    response_status = models.CharField(max_length=30, blank=True)
    category = models.CharField(max_length=40, blank=True)
    term = models.ForeignKey(Term, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=40)
    deadline_month = models.IntegerField(null=True, blank=True)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["office", "year"], name="tally_office_year")]

    def __str__(self) -> str:
        return f"{self.n} key actions ({self.office_id}, {self.year}, {self.status})"


def month_index(day) -> int | None:
    """year × 12 + month of a date (as MonthIndex computes it in the database)."""
    return None if day is None else day.year * 12 + day.month


class MonthIndex(Func):
    """year * 12 + month of a date, natively in each database.

    On SQLite, Django's ExtractYear/ExtractMonth call back into Python for every
    row; over 200,000 key actions that alone cost most of a figure's time.
    """

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL and others
        return self.as_sql_template(compiler, connection, "(CAST(EXTRACT(YEAR FROM %(expressions)s) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM %(expressions)s) AS INTEGER))")

    def as_sqlite(self, compiler, connection, **extra):
        # Dates are stored as 'YYYY-MM-DD' text.
        return self.as_sql_template(
            compiler, connection, "(CAST(SUBSTR(%(expressions)s, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR(%(expressions)s, 6, 2) AS INTEGER))"
        )

    def as_sql_template(self, compiler, connection, template):
        sql, params = compiler.compile(self.source_expressions[0])
        return template % {"expressions": sql}, params * template.count("%(expressions)s")
