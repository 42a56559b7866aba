"""Counts of key actions kept beside them, so figures add up a few thousand rows, not 200,000.

For each way figures are broken down (`dimension`: all, region, office,
office type, evaluation year, category, each vocabulary of tags) and each group of it (`group_key`,
as text: a region's id, a category...), the number of key actions in each
status whose deadline falls in each month (year × 12 + month; 0 when there
is none), apart for approved responses and the rest (`approved`). The
deadline month is all the rules of due, overdue and age look at, so the
counts stay right as the months pass.

One dimension more, `ACCOUNTABILITY`, holds what the first deadline and the
completion date decide (late against the first deadline, hidden by a revision,
days late, closure in a year): its group says which of those a key action counts
in (`accountability_group`).

The office type, year, category, vocabulary and accountability dimensions are
kept again within each region ("year@3": `tracking.models.tallies.crossed`), so
that figures narrowed to a region are added up too.

Two dimensions more follow the recurring themes (the similarity job's `search.ThemeMember`: which
theme a recommendation is in): `THEME`, the key actions of each theme's recommendations (group: the
theme's id), `THEME_RECORDS`, each theme's recommendations and evaluations (what the themes' list is
ordered by), and `THEME_SPREAD`, its evaluations of each office and each year (`theme_record`). The
portfolio of themes adds these up, not every member's key actions.

The services keep the rows in step, in the same transaction as the change,
by adding the difference a change makes (`tracking.services.tallies`);
tests compare them with the counts made again from the key actions.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Func, IntegerField

from .accountability import VerificationState
from .responses import ActionStatus, month_end

NO_DEADLINE = 0  # deadline_month of actions without a deadline
# Two dimensions that count records, not key actions (in the group "", status "", NO_DEADLINE): the evaluations and
# the recommendations the home page counts, a joint evaluation once (tracking.services.tallies records).
EVALUATIONS, RECOMMENDATIONS = "evaluations", "recommendations"
# One row more, not a count: its `n` moves on every change of the counts (the figures' cache version).
VERSION = ("_version", "", True, "", NO_DEADLINE, False)
# A key action overdue for longer than this many months is "long overdue" (the figures' `overdue_long`).
LONG_OVERDUE_MONTHS = 12
# `TallySum`'s one row that is not a sum: the month its sums are as of, in `n`.
AS_OF = "_as_of"


# The recurring themes' dimensions (see above); their groups are a theme's id.
THEME, THEME_RECORDS, THEME_SPREAD = "theme", "theme_records", "theme_spread"
THEMES = (THEME, THEME_RECORDS, THEME_SPREAD)


def theme_record(what: str, value: int | None = None) -> str:
    """The status column of a count of a theme's records, saying what it counts: in `THEME_RECORDS`, "r" the
    theme's recommendations and "e" its evaluations (each once, whatever the number of its recommendations in
    the theme); in `THEME_SPREAD`, "o<office id>" and "y<year>" its evaluations of that office and of that year
    (the themes' offices and years: apart, so that ordering the themes reads two rows per theme)."""
    return what if value is None else f"{what}{value}"


# The dimension of the first deadline and the completion date: one group ("all") split by what those figures read.
ACCOUNTABILITY = "accountability"


# The plain dimensions kept again within each region (`crossed`), beside the vocabularies and `ACCOUNTABILITY`: figures
# narrowed to one region are added up from them too, not counted from the region's key actions. The region's own
# figures and its offices' are groups of the region and office dimensions already.
CROSSED = ("office_type", "year", "category")


def crossed(dimension: str, region: int) -> str:
    """A dimension's counts within one region: "year@3"."""
    return f"{dimension}@{region}"


def is_verified(status: str, verification: str) -> bool:
    """Counted as a verified completion (as `tracking.services.tallies.counts` counts it in the database)."""
    return status == ActionStatus.COMPLETED and verification == VerificationState.VERIFIED


def accountability_group(status: str, deadline: dt.date | None, first_deadline: dt.date | None,
                         completed_on: dt.date | None) -> tuple[str, int] | None:
    """A key action's group in the `ACCOUNTABILITY` dimension, and the deadline month counted with it; None: in none of
    its figures (No Longer Applicable).

    - open: "o<first month>", the month (year × 12 + month) of its first deadline (the deadline when never revised;
      0: none), counted with its deadline month (late against the first deadline and not the revised one);
    - Completed: "c<first year>:<year completed>:<days late>", the year of the first deadline and of the completion
      (0: not known) and the days from the end of the first deadline's month to the completion (empty: not known;
      negative: early), counted with no deadline month (no figure of a completion reads it).

    A few thousand groups at most: an open action's months, a completed one's years and days.
    """
    if status == ActionStatus.NO_LONGER_APPLICABLE:
        return None
    first = first_deadline or deadline
    if status != ActionStatus.COMPLETED:
        return f"o{month_index(first) or 0}", month_index(deadline) or NO_DEADLINE
    late = "" if completed_on is None or first is None else str((completed_on - month_end(first)).days)
    return f"c{first.year if first else 0}:{completed_on.year if completed_on else 0}:{late}", NO_DEADLINE


def read_accountability_group(group: str) -> tuple[int, int, int, int | None]:
    """(first month, first year, year completed, days late) of an `accountability_group` (0 / None: not known; an open
    action's: its first month and year, 0 and None)."""
    if group.startswith("o"):
        first = int(group[1:])
        return first, (first - 1) // 12 if first else 0, 0, None
    first_year, done, late = group[1:].split(":")
    return 0, int(first_year), int(done), int(late) if late else None


class ActionTally(models.Model):
    dimension = models.CharField(max_length=60)  # a vocabulary's name and a region's id: "organizational_priority@12"
    group_key = models.CharField(max_length=60, blank=True)
    approved = models.BooleanField()
    status = models.CharField(max_length=40)
    deadline_month = models.IntegerField()
    # Completed and accepted by the evaluation office (the verified figures need no scan of the key actions).
    verified = models.BooleanField(default=False)
    n = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dimension", "group_key", "approved", "status", "deadline_month", "verified"], name="action_tally_unique_verified")
        ]
        # The same columns and the count: a breakdown reads the index alone (at L the office dimension has
        # 84,000 rows; reading each row from the table too cost 40% more).
        indexes = [
            models.Index(fields=["dimension", "group_key", "approved", "status", "deadline_month", "verified", "n"], name="action_tally_covering"),
        ]

    def __str__(self) -> str:
        return f"{self.n} key actions ({self.dimension} {self.group_key}, {self.status}, {self.deadline_month})"


class TallySum(models.Model):
    """`ActionTally` added up over the deadline months, as of one month (`AS_OF`'s row holds it): one row per
    dimension, group, approved or not, and status.

    What the figures read of the kept counts, bar the ages of first deadlines: all of them, those due
    (deadline month this month or before), past (before this month), long past (more than
    LONG_OVERDUE_MONTHS before), the past months' sum and the first of them (for the overdue ages), the
    verified ones, verified and due. The offices' breakdown at L adds up 960 rows, not the 84,000 of
    their months. Figures of another month (the first hour of a month, before the hourly job makes
    the sums again) add up `ActionTally` as before.

    Kept in step by `tracking.services.tallies.add`, in the transaction that moves the counts; tests
    compare them with the sums made again from the counts.
    """

    dimension = models.CharField(max_length=60)
    group_key = models.CharField(max_length=60, blank=True)
    approved = models.BooleanField()
    status = models.CharField(max_length=40)
    n = models.BigIntegerField()
    due = models.BigIntegerField()
    past = models.BigIntegerField()
    long_past = models.BigIntegerField()
    month_sum = models.BigIntegerField()  # of the past ones: the sum of their deadline months
    first_past = models.IntegerField(null=True)  # of the past ones: the first deadline month
    verified = models.BigIntegerField()
    due_verified = models.BigIntegerField()
    # On the `AS_OF` row: the counts' version (`VERSION`'s n) the sums are in step with. Counts moved without their
    # sums (by a server still running the code of before them, during an upgrade) leave it behind: the sums are
    # then not read, until made again (the hourly job).
    version = models.BigIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dimension", "group_key", "approved", "status"], name="tally_sum_unique")]

    def __str__(self) -> str:
        return f"{self.n} key actions ({self.dimension} {self.group_key}, {self.status})"


def counts_version() -> int:
    """The kept counts' version (`VERSION`'s n): moves with every change of them, the similarity job's regrouping of
    the recurring themes included (which leaves no change record)."""
    return _version().first() or 0


def _version() -> models.QuerySet:
    return ActionTally.objects.filter(dimension=VERSION[0]).values_list("n", flat=True)


def sums_current(month: int) -> models.QuerySet:
    """`TallySum`'s own row if the sums are as of `month` and in step with the counts (for EXISTS, or `.exists()`)."""
    return TallySum.objects.filter(dimension=AS_OF, n=month, version=models.Subquery(_version()[:1]))


def sums_month() -> int | None:
    """The month (year × 12 + month) the kept sums are as of; None: none made."""
    return TallySum.objects.filter(dimension=AS_OF).values_list("n", flat=True).first()


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
