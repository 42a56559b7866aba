"""The figures evaluation offices report, computed by the database.

Definitions (shown on the dashboard page too):

- A key action is *due* once its deadline month has come (deadline on or
  before the current month, or before the end of the reporting year in the
  annual report).
- *Overdue*: the deadline month has passed and the action is neither
  Completed nor No Longer Applicable. An action due this month is due, not
  overdue. Its *age* is the number of months since its deadline month.
- *Implementation rate (due)* = Completed among due actions ÷ due actions;
  *implementation rate (all)* = Completed ÷ all actions. No Longer
  Applicable actions are left out of both, numerator and denominator.
- *Verified* completion: Completed, and the evaluation office accepted the
  evidence (tracking/services/verification.py); every other Completed action
  is *self-reported* (awaiting verification, or never verified: imported).
  *Verified implementation rate (due)* = verified Completed among due ÷ due.
- Timeliness is measured against the *first deadline* (the deadline before
  any revision; tracking/services/deadlines.py). *Days late* of a completed
  action: from the end of its first deadline's month to the day it was marked
  Completed (0: on time; unknown when an import did not date it). *Late
  against the first deadline*: open, and the first deadline's month has
  passed; aged in days since the end of that month (up to 30, 31-90, 91-180,
  over 180). *Hidden by a revision*: late against the first deadline, not
  overdue against the revised one.
- *Closure rate* of year Y = key actions marked Completed in Y ÷ key
  actions due in Y (first deadline in Y, No Longer Applicable left out).
  The two sets differ (an action closed in Y may have been due earlier), so
  it can pass 100% when a backlog is cleared; completions an import did not
  date are not counted.
- *Outcome confirmed*: a Completed action whose later outcome question
  (scheduled by the evaluation office) the unit answered "yes, it changed
  what the evaluation found".
- A management response is *timely* when it was approved within N weeks
  (default 6) of its evaluation's completion date.

Every figure is one GROUP BY with conditional counts; no rows are loaded
into Python, whatever the number of key actions. Where the filters allow
(none narrows them), the counts are added up from `ActionTally`, the counts
the services keep beside the key actions (a few thousand rows per figure at
200,000 actions), or rather their sums over the deadline months as of this
month (`TallySum`: a row per group and status); with a filter they are counted from the key actions. So are the figures of
first deadlines and completion dates (`KeptAccountability`, from the counts'
accountability dimension). `Source` chooses; both give the same figures
(tests/reports/test_tallies.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import Col
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, Lookup
from django.db.models.sql.where import AND

from tracking import queries
from tracking.models import (
    ActionTally,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Office,
    OfficeType,
    OutcomeQuestion,
    RecommendationTerm,
    Region,
    Term,
)
from tracking.models.accountability import VerificationState
from tracking.models.evaluations import evaluation_label, plan_period
from tracking.models.responses import (
    CLOSED_STATUSES,
    ActionStatus,
    ResponseStatus,
    due_q,
    first_deadline_q,
    month_label,
    month_start,
    overdue_q,
    today,
)
from tracking.models.tallies import (
    ACCOUNTABILITY as ACCOUNTABILITY_DIMENSION,
)
from tracking.models.tallies import (
    AS_OF,
    LONG_OVERDUE_MONTHS,
    NO_DEADLINE,
    MonthIndex,
    TallySum,
    accountability_group,
    crossed,
    is_verified,
    month_index,
    read_accountability_group,
    sums_current,
)
from tracking.models.tallies import sums_month as kept_sums_month  # beside the parameter of that name
from tracking.permissions import reader_scope, restrict

COMPLETED = ActionStatus.COMPLETED.value
NLA = ActionStatus.NO_LONGER_APPLICABLE.value
VERIFIED = Q(status=COMPLETED, verification=VerificationState.VERIFIED.value)
STATUS_ORDER = [s.value for s in ActionStatus]


@dataclass(frozen=True)
class Breakdown:
    """A dimension figures are broken down by: what to group on, and how to name a group."""

    key: str
    label: str
    field: str  # the KeyAction path grouped on
    filter_param: str  # the key action list's query parameter for drill-down
    term_kind: str | None = None


BREAKDOWNS = {
    b.key: b
    for b in [
        Breakdown("region", "Region", "evaluation__office__region_id", "region"),
        Breakdown("office", "Office", "evaluation__office_id", "office"),
        Breakdown("office_type", "Office type", "evaluation__office__type__code", "office_type"),
        Breakdown("year", "Evaluation year", "evaluation__year", "year"),
        Breakdown("category", "Category", "recommendation__category", "category"),
        Breakdown("thematic_area", "Thematic area", "recommendation__tags__term_id", "term", Term.Kind.THEMATIC_AREA),
        Breakdown(
            "operating_principle", "Operating principle", "recommendation__tags__term_id", "term", Term.Kind.OPERATING_PRINCIPLE
        ),
        Breakdown(
            "organizational_priority",
            "Organizational priority",
            "recommendation__tags__term_id",
            "term",
            Term.Kind.ORGANIZATIONAL_PRIORITY,
        ),
        Breakdown("uneg_criterion", "UNEG criterion", "recommendation__tags__term_id", "term", Term.Kind.UNEG_CRITERION),
    ]
}


@dataclass
class Figures:
    """Counts for one group of key actions, and the rates derived from them."""

    label: str = ""
    key: Any = None
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    other: int = 0  # statuses of older pages (Ongoing, ...): open
    due: int = 0
    completed_due: int = 0
    overdue: int = 0
    overdue_long: int = 0
    overdue_age_avg: float | None = None
    overdue_age_max: int | None = None
    completed_verified: int = 0
    completed_due_verified: int = 0
    completed_dated: int = 0  # Completed, with the day it was and a first deadline
    completed_late: int = 0  # of those, completed after the first deadline's month
    days_late_avg: float | None = None  # among the late ones
    days_late_max: int | None = None
    ageing: dict[str, int] = field(default_factory=dict)  # late against the first deadline, by age bucket
    overdue_hidden: int = 0  # late against the first deadline, not overdue against the revised one

    @property
    def late_against_first(self) -> int:
        return sum(self.ageing.values())

    @property
    def completed_late_share(self) -> float | None:
        return self.completed_late / self.completed_dated if self.completed_dated else None

    @property
    def completed(self) -> int:
        return self.by_status.get(COMPLETED, 0)

    @property
    def completed_self_reported(self) -> int:
        """Completed, not (yet) verified by the evaluation office."""
        return self.completed - self.completed_verified

    @property
    def rate_due_verified(self) -> float | None:
        return self.completed_due_verified / self.due if self.due else None

    @property
    def nla(self) -> int:
        return self.by_status.get(NLA, 0)

    @property
    def counted(self) -> int:
        """Actions that count for the rates: all but No Longer Applicable."""
        return self.total - self.nla

    @property
    def open(self) -> int:
        return self.total - self.completed - self.nla

    @property
    def rate_due(self) -> float | None:
        return self.completed_due / self.due if self.due else None

    @property
    def rate_all(self) -> float | None:
        return self.completed / self.counted if self.counted else None

    @property
    def overdue_share(self) -> float | None:
        """Overdue among open actions."""
        return self.overdue / self.open if self.open else None

    def status_segments(self) -> list[tuple[str, int]]:
        segments = [(s, self.by_status.get(s, 0)) for s in STATUS_ORDER]
        if self.other:
            segments.append(("Other (older statuses)", self.other))
        return segments


# (label, fewest days, most days) since the end of the first deadline's month.
AGEING = [("up to 30 days", 1, 30), ("31-90 days", 31, 90), ("91-180 days", 91, 180), ("over 180 days", 181, None)]


def _ageing(on: dt.date) -> dict[str, Q]:
    """Open actions late against their first deadline, by days since the end of its month.

    With month precision, "at most N days since the end of the first deadline's
    month" is "the first deadline is in the month of (on - N) or later", and "at
    least N days" is "before the month of (on - N + 1)": every bucket is a plain
    comparison of dates, no date arithmetic in the database.
    """
    open_ = ~Q(status__in=[COMPLETED, NLA])
    buckets = {}
    for i, (_label, low, high) in enumerate(AGEING):
        q = open_ & first_deadline_q("lt", month_start(on - dt.timedelta(days=low - 1)))
        if high is not None:
            q &= first_deadline_q("gte", month_start(on - dt.timedelta(days=high)))
        buckets[f"age{i}"] = q
    return buckets


def _rows(filter: Q | None = None) -> Count:
    """COUNT(1) of the rows (that pass `filter`), not COUNT(id): id is not in the covering index (key_action_figures),
    so PostgreSQL read the key actions' table for a pass over them (151 MB at L), not the index alone (13 MB). As fast
    while the table is in memory; far less to read when it is not. (Django refuses COUNT(*) with a filter.)"""
    return Count(Value(1), filter=filter)


class DaysLate(Func):
    """Days from the end of the first deadline's month to the completion date (negative: early)."""

    output_field = IntegerField()

    def __init__(self):
        super().__init__(F("completed_on"), Coalesce(F("first_deadline"), F("deadline")))

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL
        done, done_params = compiler.compile(self.source_expressions[0])
        first, first_params = compiler.compile(self.source_expressions[1])
        # From the first of the month: a deadline is stored as its month's first day, but a date on another day of
        # the month still ends with the month (as KeyAction.days_late and the kept counts count it).
        return (
            f"({done} - CAST(DATE_TRUNC('month', CAST({first} AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE))",
            [*done_params, *first_params],
        )

    def as_sqlite(self, compiler, connection, **extra):
        done, done_params = compiler.compile(self.source_expressions[0])
        first, first_params = compiler.compile(self.source_expressions[1])
        sql = f"CAST(julianday({done}) - julianday(date({first}, 'start of month', '+1 month', '-1 day')) AS INTEGER)"
        return sql, [*done_params, *first_params]


def _aggregates(on: dt.date, *, accountability: bool = True) -> dict[str, Any]:
    """Every figure's aggregate; `accountability=False`: without those of `ACCOUNTABILITY` (left `_BLANK`)."""
    # The rules of overdue and due have one home (tracking.models.responses).
    overdue = overdue_q(on)
    due = due_q(on)
    months_now = on.year * 12 + on.month
    age = ExpressionWrapper(Value(months_now) - MonthIndex("deadline"), output_field=IntegerField())
    long_cutoff = month_start(on)
    for _ in range(LONG_OVERDUE_MONTHS):
        long_cutoff = (long_cutoff - dt.timedelta(days=1)).replace(day=1)
    dated = Q(status=COMPLETED, completed_on__isnull=False) & (Q(first_deadline__isnull=False) | Q(deadline__isnull=False))
    late = dated & GreaterThan(DaysLate(), 0)
    aggs: dict[str, Any] = {
        "total": _rows(),
        "due": _rows(filter=due),
        "completed_due": _rows(filter=due & Q(status=COMPLETED)),
        "completed_verified": _rows(filter=VERIFIED),
        "completed_due_verified": _rows(filter=due & VERIFIED),
        "completed_dated": _rows(filter=dated),
        "completed_late": _rows(filter=late),
        "days_late_avg": Avg(DaysLate(), filter=late),
        "days_late_max": Max(DaysLate(), filter=late),
        "overdue_hidden": _rows(filter=~Q(status__in=[COMPLETED, NLA]) & first_deadline_q("lt", month_start(on)) & ~overdue),
        "overdue": _rows(filter=overdue),
        "overdue_long": _rows(filter=overdue & Q(deadline__lt=long_cutoff)),
        "overdue_age_avg": Avg(age, filter=overdue),
        "overdue_age_max": Max(age, filter=overdue),
    }
    for i, status in enumerate(STATUS_ORDER):
        aggs[f"s{i}"] = _rows(filter=Q(status=status))
    for key, q in _ageing(on).items():
        aggs[key] = _rows(filter=q)
    return aggs if accountability else {k: v for k, v in aggs.items() if k not in ACCOUNTABILITY}


# The figures of the first deadline and completion dates: counted from the key actions, or added up from the
# kept counts' own dimension for them (`KeptAccountability`), not from the status and deadline counts.
ACCOUNTABILITY = (
    "completed_dated", "completed_late", "days_late_avg", "days_late_max",
    "overdue_hidden", *(f"age{i}" for i in range(len(AGEING))),
)


# Those figures when not counted: zero, and no average or most days late.
_BLANK = {k: None if k.startswith("days_late") else 0 for k in ACCOUNTABILITY}


def accountability_aggregates(on: dt.date, *, ageing_only: bool = False) -> dict[str, Any]:
    """The figures of the first deadline and completion dates (see `accountability_only`). `ageing_only`: the
    open actions late against their first deadline only (no days late of completions)."""
    keys = ("overdue_hidden", *_ageing(on)) if ageing_only else ACCOUNTABILITY
    return {k: v for k, v in _aggregates(on).items() if k in keys}


def accountability_only(row: dict[str, Any]) -> Figures:
    """Figures holding only what `accountability_aggregates` read (the others zero)."""
    return _with_accountability(Figures(), row)


def _with_accountability(f: Figures, row: dict[str, Any] | None) -> Figures:
    """`f` (from the kept counts) with the figures only the key actions give, from `row` (none: zero)."""
    row = row or {}
    f.completed_dated = row.get("completed_dated") or 0
    f.completed_late = row.get("completed_late") or 0
    f.days_late_avg = float(row["days_late_avg"]) if row.get("days_late_avg") is not None else None
    f.days_late_max = row.get("days_late_max")
    f.ageing = {label: row.get(f"age{i}") or 0 for i, (label, _low, _high) in enumerate(AGEING)}
    f.overdue_hidden = row.get("overdue_hidden") or 0
    return f


def _figures(row: dict[str, Any], label: str = "", key: Any = None) -> Figures:
    by_status = {s: row[f"s{i}"] for i, s in enumerate(STATUS_ORDER)}
    known = sum(by_status.values())
    avg = row["overdue_age_avg"]
    return Figures(
        label=label,
        key=key,
        total=row["total"],
        by_status=by_status,
        other=row["total"] - known,
        due=row["due"],
        completed_due=row["completed_due"],
        overdue=row["overdue"],
        overdue_long=row["overdue_long"],
        overdue_age_avg=float(avg) if avg is not None else None,
        overdue_age_max=row["overdue_age_max"],
        completed_verified=row["completed_verified"],
        completed_due_verified=row["completed_due_verified"],
        completed_dated=row["completed_dated"],
        completed_late=row["completed_late"],
        days_late_avg=float(row["days_late_avg"]) if row["days_late_avg"] is not None else None,
        days_late_max=row["days_late_max"],
        ageing={label: row[f"age{i}"] for i, (label, _low, _high) in enumerate(AGEING)},
        overdue_hidden=row["overdue_hidden"],
    )


def totals(actions: QuerySet[KeyAction], on: dt.date) -> Figures:
    """The figures of a whole set of key actions (one query)."""
    return _figures(actions.order_by().aggregate(**_aggregates(on)))


def breakdown(actions: QuerySet[KeyAction], by: str, on: dt.date, *, label: bool = True, accountability: bool = True) -> list[Figures]:
    """The figures of each group (one GROUP BY), largest first; years in order. `accountability=False`: without
    the first-deadline and days-late figures (zero; the breakdown tables show none, and they are most of the
    cost per row)."""
    b = BREAKDOWNS[by]
    qs = actions.order_by()
    if b.term_kind:
        qs = qs.filter(recommendation__tags__term__kind=b.term_kind)
    aggs = _aggregates(on, accountability=accountability)
    out = [_figures({**_BLANK, **r}, key=r[b.field]) for r in qs.values(b.field).annotate(**aggs)]
    return _labelled(by, out) if label else out


def breakdowns(actions: QuerySet[KeyAction], keys: list[str], on: dt.date, *, label: bool = True,
               accountability: bool = True) -> dict[str, list[Figures]]:
    """`breakdown` by each of `keys`, the same tables, in one pass over the key actions whatever their number
    (`_per_group`); each group's names in one query per kind of name. Counted from the rows, a filtered
    dashboard's nine tables read the key actions once instead of nine times."""
    aggs = _aggregates(on, accountability=accountability)
    kinds = {BREAKDOWNS[k].term_kind: k for k in keys if BREAKDOWNS[k].term_kind}
    others = [k for k in keys if not BREAKDOWNS[k].term_kind]
    terms = {pk: (kind, name) for pk, kind, name in Term.objects.filter(kind__in=list(kinds)).values_list("pk", "kind", "name")} \
        if kinds else {}
    per_dimension, per_term = _per_group(actions, others, list(terms), aggs)
    out: dict[str, list[Figures]] = {}
    for by, rows in per_dimension.items():
        found = [_figures({**_BLANK, **row}, key=key) for key, row in rows]
        out[by] = _labelled(by, found) if label else found
    if kinds:
        by_kind: dict[str, list[Figures]] = {k: [] for k in kinds.values()}
        for term, row in per_term:
            kind, name = terms[term]
            by_kind[kinds[kind]].append(_figures({**_BLANK, **row}, label=name if label else "", key=term))
        out.update({k: _ordered(k, v) if label else v for k, v in by_kind.items()})
    return {k: out[k] for k in keys}


class _RolledUp:
    """Figures counted per small group first, then added up per larger group, in the database: counts are
    summed, the greatest of the greatest kept, averages carried as sum and count to the end."""

    def __init__(self, aggs: dict[str, Any]):
        self.aggs = aggs
        self.inner: dict[str, Any] = {}
        self.columns: list[tuple[str, str]] = []  # (inner column, how two groups' values combine)
        for name, a in aggs.items():
            if isinstance(a, Avg):
                self.inner[f"{name}__sum"] = Sum(a.get_source_expressions()[0], filter=a.filter)
                self.inner[f"{name}__n"] = _rows(filter=a.filter)
                self.columns += [(f"{name}__sum", "SUM"), (f"{name}__n", "SUM")]
            elif isinstance(a, Max):
                self.inner[name] = a
                self.columns.append((name, "MAX"))
            elif isinstance(a, Count):
                self.inner[name] = a
                self.columns.append((name, "SUM"))
            else:
                raise TypeError(f"{name}: {type(a).__name__} is not added up")

    def select(self, source: str, *, named: bool = False) -> str:
        """The columns of `source` added up (`named`: under their inner names, to be added up again)."""
        q = connection.ops.quote_name
        return ", ".join(f"{how}({source}.{q(col)})" + (f" AS {q(col)}" if named else "") for col, how in self.columns)

    def row(self, values: list[Any]) -> dict[str, Any]:
        row, it = {}, iter(values)
        for name, a in self.aggs.items():
            if isinstance(a, Avg):
                total, n = next(it), next(it)
                row[name] = total / n if n else None
            elif isinstance(a, Max):
                row[name] = next(it)
            else:
                row[name] = int(next(it) or 0)  # PostgreSQL's SUM of counts is a numeric
        return row


def _per_group(actions: QuerySet[KeyAction], keys: list[str], terms: list[int], aggs: dict[str, Any]
               ) -> tuple[dict[str, list[tuple[Any, dict[str, Any]]]], list[tuple[int, dict[str, Any]]]]:
    """({breakdown: [(group, its figures)]}, [(term, its figures)]): the breakdowns by the key actions' own
    columns (region, office, ...) and by the recommendations' tags with each of `terms`, in one statement.

    The key actions are read once: counted per recommendation with all the groups' columns (`i`, kept:
    MATERIALIZED), then added up per combination of the groups (`c`: a few thousand rows at most, offices x
    years x categories) and from there per breakdown, each a GROUP BY of that small table; and per tag, the
    tags joined to a row per recommendation, each key action's conditions read once, not once per tag of its
    recommendation (with four vocabularies, about six times). Two passes before (per combination, per
    recommendation): a year's dashboard at L spent 27 and 34 ms in them on PostgreSQL.
    """
    per_dimension: dict[str, list[tuple[Any, dict[str, Any]]]] = {k: [] for k in keys}
    if not keys and not terms:
        return per_dimension, []
    rolled = _RolledUp(aggs)
    groups = {f"g{i}": F(BREAKDOWNS[k].field) for i, k in enumerate(keys)}
    by = (["recommendation_id"] if terms else []) + list(groups)
    sql, params = actions.order_by().annotate(**groups).values(*by).annotate(**rolled.inner).query.sql_with_params()
    ctes = [f"i AS MATERIALIZED ({sql})"]
    source = "i"
    if terms and len(keys) > 1:
        names = ", ".join(f"i.{g}" for g in groups)
        ctes.append(f"c AS MATERIALIZED (SELECT {names}, {rolled.select('i', named=True)} FROM i GROUP BY {names})")
        source = "c"
    # The groups' values as text, one column for all (a UNION's columns have one type); read back by `_group`.
    parts = [f"SELECT {i}, CAST({source}.g{i} AS TEXT), {rolled.select(source)} FROM {source} GROUP BY {source}.g{i}"
             for i in range(len(keys))]
    if terms:
        tags = connection.ops.quote_name(RecommendationTerm._meta.db_table)
        if connection.vendor == "postgresql":
            # Each recommendation's tags read from the tags' index (OFFSET 0 keeps the subquery from being joined
            # back into a hash join): PostgreSQL hashed the counts and read all 500,000 tags, in each of three
            # parallel workers the counts again (a year's dashboard at L: 57 ms, this way 20).
            tagged = (f"CROSS JOIN LATERAL (SELECT tt.term_id FROM {tags} tt WHERE tt.recommendation_id = i.recommendation_id "
                      "OFFSET 0) t")
        else:
            # CROSS JOIN: SQLite's word for "in this order" (it read all 500,000 tags, looking each one's
            # recommendation up in `i`).
            tagged = f"CROSS JOIN {tags} t ON t.recommendation_id = i.recommendation_id"
        # Every tag, the other vocabularies' left out below: `term_id IN (...)` made SQLite probe the
        # tags' index once per recommendation and term (40 times more reads at L).
        parts.append(f"SELECT -1, CAST(t.term_id AS TEXT), {rolled.select('i')} FROM i {tagged} GROUP BY t.term_id")
    per_term: list[tuple[int, dict[str, Any]]] = []
    wanted = set(terms)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} " + " UNION ALL ".join(parts), params)
        for i, group, *values in cursor.fetchall():
            if i < 0:
                if int(group) in wanted:
                    per_term.append((int(group), rolled.row(values)))
            else:
                per_dimension[keys[i]].append((_group(keys[i], group), rolled.row(values)))
    return per_dimension, per_term


def _labelled(by: str, out: list[Figures]) -> list[Figures]:
    """Each group named (one query), in the order of the breakdown."""
    names = _labels(BREAKDOWNS[by], [f.key for f in out])
    for f in out:
        f.label = names.get(f.key, str(f.key or "—"))
    return _ordered(by, out)


def _labels(b: Breakdown, keys: list[Any]) -> dict[Any, str]:
    keys = [k for k in keys if k is not None]
    if b.key == "region":
        return dict(Region.objects.filter(pk__in=keys).values_list("pk", "name"))
    if b.key == "office":
        return dict(Office.objects.filter(pk__in=keys).values_list("pk", "name"))
    if b.key == "office_type":
        return {code: f"{name} ({code})" for code, name in OfficeType.objects.filter(code__in=keys).values_list("code", "name")}
    if b.term_kind:
        return dict(Term.objects.filter(pk__in=keys).values_list("pk", "name"))
    if b.key == "category":
        return {k: (k or "Not given") for k in keys} | {"": "Not given"}
    return {k: str(k) for k in keys}


# --- the same figures, added up from the counts kept beside the key actions ----------------------

def _narrowing(tallies: QuerySet[ActionTally]) -> tuple[list[tuple[str, str, Any]], int | None] | None:
    """What narrows the counts `tallies`, when it is only what the sums keep (dimension, group, approved or not),
    with at most `Source.due_by_end_of`'s bound on the deadline month: ([(field, lookup, value)], the last deadline
    month or None); else None."""
    query, where = tallies.query, tallies.query.where
    if query.model is not ActionTally or query.is_sliced or query.combinator or where.negated or where.connector != AND:
        return None
    narrowed, last, dated = [], None, False
    for child in where.children:
        if not (isinstance(child, Lookup) and isinstance(child.lhs, Col)):
            return None
        if hasattr(child.rhs, "resolve_expression"):  # a column or an expression: of the counts' table
            return None
        name, lookup = child.lhs.target.name, child.lookup_name
        if name in ("dimension", "group_key", "approved"):
            narrowed.append((name, lookup, child.rhs))
        elif name == "deadline_month" and lookup == "gt" and child.rhs == NO_DEADLINE and not dated:
            dated = True
        elif name == "deadline_month" and lookup == "lte" and last is None and isinstance(child.rhs, int):
            last = child.rhs
        else:
            return None
    if dated != (last is not None):
        return None  # the dated counts of every month, or the undated ones with a bound: not what the sums add up
    return narrowed, last


def _as_sums(tallies: QuerySet[ActionTally]) -> QuerySet[TallySum] | None:
    """The kept sums (`TallySum`) of the counts `tallies`, when these are narrowed by nothing the sums do not keep
    (dimension, group, approved or not); else None (by deadline month: `Source.due_by_end_of`, see `_sums_moved`)."""
    found = _narrowing(tallies)
    return None if found is None or found[1] is not None else _sums_of(found[0])


def _sums_of(narrowed: list[tuple[str, str, Any]]) -> QuerySet[TallySum]:
    return TallySum.objects.filter(*(Q(**{f"{name}__{lookup}": value}) for name, lookup, value in narrowed)).exclude(dimension=AS_OF)


def _narrowed_sql(narrowed: list[tuple[str, str, Any]]) -> tuple[str, list] | None:
    """`_narrowing`'s filters as SQL of either table's columns (equal to a value, or in a list); None: another lookup."""
    parts, params = [], []
    for name, lookup, value in narrowed:
        if name == "approved" and connection.vendor == "sqlite":
            # Not a column of the counts' index to search by (SQLite then sorted the rows for the GROUP BY again: at L,
            # 13 -> 18 ms for the annual report's four tables); unary plus is SQLite's way to say so.
            name = "+approved"
        if lookup == "exact":
            parts.append(f"{name} = %s")
            params.append(value)
        elif lookup == "in":
            values = [v for v in value if v is not None]
            if not values:
                raise EmptyResultSet
            parts.append(f"{name} IN ({', '.join(['%s'] * len(values))})")
            params += values
        else:
            return None
    return " AND ".join(parts) or "1 = 1", params


def _sums_moved(narrowed: tuple[str, list], fields: tuple[str, ...], last: int, m: int, month: int) -> tuple[str, list]:
    """`_tally_sums`' inner rows (its `fields` and t_ columns) for the counts dated up to the month `last`
    (`due_by_end_of`) as of the month `m`, from the sums as of `month` (m <= month), if in step with the counts.

    Each sum is of the counts dated up to a month (all: `month`; past: `month` - 1 ...), each figure of others
    (`last`, `m`, `m` - 1 ...): the counts of the months between are added or taken away. An annual report for a past
    year adds up the counts of the months between its end and this month (at L, 20,000 of the offices' 84,000), not of
    every month up to its end: its four tables 25 -> 15 ms on SQLite. Written as SQL: built with the ORM's
    expressions, its eight conditional sums took longer to make than to run (5 ms a query).
    """
    sums_table, counts_table = (connection.ops.quote_name(model._meta.db_table) for model in (TallySum, ActionTally))
    where, where_params = narrowed
    current_sql, current_params = sums_current(month).values("pk").query.sql_with_params()
    current = f"EXISTS ({current_sql})"

    def upto(x: int) -> int:
        return min(x, last)

    long_ago = LONG_OVERDUE_MONTHS + 1
    pairs = [  # (the figures' last month, the sums' last month, what is added up: n or n x month, verified only)
        (last, month, "n", False),  # t_n
        (upto(m), month, "n", False),  # t_due
        (upto(m - 1), month - 1, "n", False),  # t_past
        (upto(m - long_ago), month - long_ago, "n", False),  # t_long
        (upto(m - 1), month - 1, "CAST(n AS BIGINT) * deadline_month", False),  # t_months
        None,  # t_first: the sums' alone
        (last, month, "n", True),  # t_verified
        (upto(m), month, "n", True),  # t_due_verified
    ]
    moved, moved_params = [], []
    for pair in pairs:
        if pair is None:
            moved.append("NULL")
            continue
        to, sums_to, value, verified = pair
        # Of the counts dated up to `to`, less those up to `sums_to`.
        low, high, sign = (sums_to, to, "") if to >= sums_to else (to, sums_to, "-")
        moved.append(f"SUM(CASE WHEN deadline_month > %s AND deadline_month <= %s{' AND verified' if verified else ''} "
                     f"THEN {sign}{value} ELSE 0 END)")
        moved_params += [low, high]
    bounds = [b for pair in pairs if pair is not None for b in pair[:2]]
    keys = ", ".join(fields)
    sql = (
        # The first past month of the sums is the figures' if it is before theirs (m <= month: it is the first of all).
        f"SELECT {keys}, SUM(due) AS t_n, SUM(due) AS t_due, SUM(past) AS t_past, SUM(long_past) AS t_long, "
        f"SUM(month_sum) AS t_months, MIN(CASE WHEN first_past <= %s THEN first_past END) AS t_first, "
        f"SUM(due_verified) AS t_verified, SUM(due_verified) AS t_due_verified "
        f"FROM {sums_table} WHERE {current} AND {where} AND dimension <> %s GROUP BY {keys} "
        f"UNION ALL SELECT {keys}, {', '.join(moved)} "
        f"FROM {counts_table} WHERE {current} AND {where} AND deadline_month > %s AND deadline_month <= %s GROUP BY {keys}"
    )
    return sql, [upto(m - 1), *current_params, *where_params, AS_OF, *moved_params, *current_params, *where_params,
                 min(bounds), max(bounds)]


def _tally_sums(tallies: QuerySet[ActionTally], on: dt.date, group: bool, *, kept_sums: bool = True,
                by_dimension: bool = False, sums_month: int | None = None) -> list[tuple[Any, dict[str, Any]]]:
    """(group_key, the figures' sums) of the kept counts (per group_key if `group`, else one row keyed None), added up in two steps in the database.
    `by_dimension` (with `group`): per dimension and group, keyed (dimension, group_key): several breakdowns at once.

    First per group, approved or not and status: what the deadline months say (due, past, long past, the
    months' sum and the first of them for the ages), read from the kept sums when they are as of `on`'s
    month (a row per group and status: 960 for the offices at L, 1 ms on SQLite), or, for the counts up to a
    deadline month (`Source.due_by_end_of`), from the sums of a later month moved by the counts between
    (`_sums_moved`: this month's, or `sums_month`'s); else added up from the counts in the order of their index
    (84,000 rows, 28 ms); then per group, over those few rows, what the status says.
    """
    assert group or not by_dimension, "per dimension is per group too"
    m = month_index(on)
    found = _narrowing(tallies) if kept_sums else None
    keys = (["dimension"] if by_dimension else []) + (["group_key"] if group else [])
    fields = (*keys, "approved", "status")
    month = m  # the month of the sums read
    bounded = found is not None and found[1] is not None
    if bounded:
        # Those the hourly job keeps, as of this month (else read what month they are as of, below).
        month = sums_month or month_index(today())
        try:
            narrowed_sql = _narrowed_sql(found[0])
        except EmptyResultSet:
            narrowed_sql = None  # as the counts say: no row (`kept` of a region without offices)
        if month < m or narrowed_sql is None:
            found, bounded = None, False  # figures as of a month after the sums', or a filter not written here
    try:
        if bounded:
            sql, params = _sums_moved(narrowed_sql, fields, found[1], m, month)
        elif found is not None:
            # Only sums as of this month and in step with the counts (else: a new month, or counts moved without them,
            # before the hourly job has made them again).
            sql, params = _sums_of(found[0]).filter(Exists(sums_current(m))).order_by().values(*fields).annotate(
                t_n=Sum("n"),
                t_due=Sum("due"),
                t_past=Sum("past"),
                t_long=Sum("long_past"),
                t_months=Sum("month_sum"),
                t_first=Min("first_past"),
                t_verified=Sum("verified"),
                t_due_verified=Sum("due_verified"),
            ).query.sql_with_params()
        else:
            dated = Q(deadline_month__gt=NO_DEADLINE)
            due, past = dated & Q(deadline_month__lte=m), dated & Q(deadline_month__lt=m)
            sql, params = tallies.order_by().values(*fields).annotate(
                t_n=Sum("n"),
                t_due=Sum("n", filter=due),
                t_past=Sum("n", filter=past),
                t_long=Sum("n", filter=dated & Q(deadline_month__lt=m - LONG_OVERDUE_MONTHS)),
                t_months=Sum(ExpressionWrapper(F("n") * F("deadline_month"), output_field=IntegerField()), filter=past),
                t_first=Min("deadline_month", filter=past),
                t_verified=Sum("n", filter=Q(verified=True)),
                t_due_verified=Sum("n", filter=due & Q(verified=True)),
            ).query.sql_with_params()
    except EmptyResultSet:  # no count can be read (the offices of a region that has none)
        sql, params = None, []
    is_open = f"status NOT IN ({', '.join(['%s'] * len(CLOSED_STATUSES))})"
    open_params = [str(x) for x in CLOSED_STATUSES]
    sums: list[tuple[str, str, list]] = [  # (name, expression, its parameters)
        ("total", "t_n", []),
        ("due", "CASE WHEN status <> %s THEN t_due END", [NLA]),
        ("completed_due", "CASE WHEN status = %s THEN t_due END", [COMPLETED]),
        ("overdue", f"CASE WHEN {is_open} THEN t_past END", open_params),
        ("overdue_long", f"CASE WHEN {is_open} THEN t_long END", open_params),
        ("age_sum", f"CASE WHEN {is_open} THEN %s * t_past - t_months END", [*open_params, m]),
        ("completed_verified", "CASE WHEN status = %s THEN t_verified END", [COMPLETED]),
        ("completed_due_verified", "CASE WHEN status = %s THEN t_due_verified END", [COMPLETED]),
        *((f"s{i}", "CASE WHEN status = %s THEN t_n END", [status]) for i, status in enumerate(STATUS_ORDER)),
    ]
    columns = [f"CAST(SUM({expr}) AS BIGINT)" for _, expr, _ in sums]
    columns.append(f"MAX(CASE WHEN {is_open} THEN %s - t_first END)")
    outer_params = [p for _, _, ps in sums for p in ps] + [*open_params, m]
    names = [name for name, _, _ in sums] + ["overdue_age_max"]
    if sql is None:  # as the sums of no row come: no group, or one row of nothing
        return [] if group else [(None, dict.fromkeys(names))]
    key = ", ".join(keys)
    group_by = f" GROUP BY {key}" if keys else ""
    if keys and bounded:
        # A group whose counts are all dated after the bound has sums, not figures (the counts up to it read no row).
        group_by += " HAVING SUM(t_n) <> 0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key + ', ' if keys else ''}{', '.join(columns)} FROM ({sql}) t{group_by}",
            [*outer_params, *params],
        )
        rows = cursor.fetchall()
    if found is not None and (not rows if group else rows[0][0] is None) and not sums_current(month).exists():
        # Nothing read: no sums as of this month. Those of a later month than the figures' (the hourly job has not made
        # them again yet, or the figures are of another day than today) are moved as well.
        kept_month = kept_sums_month() if bounded and not sums_month else None
        if kept_month is not None and kept_month != month and kept_month >= m:
            return _tally_sums(tallies, on, group, by_dimension=by_dimension, sums_month=kept_month)
        return _tally_sums(tallies, on, group, kept_sums=False, by_dimension=by_dimension)
    if by_dimension:
        return [((r[0], r[1]), dict(zip(names, r[2:]))) for r in rows]
    return [(r[0], dict(zip(names, r[1:]))) if group else (None, dict(zip(names, r))) for r in rows]


def _tally_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v or 0) for k, v in row.items() if k not in ("age_sum", "overdue_age_max")}
    out["overdue_age_max"] = row["overdue_age_max"]
    out["overdue_age_avg"] = row["age_sum"] / out["overdue"] if out["overdue"] else None
    return out


def _group(by: str, text: str) -> Any:
    """A kept count's group (text) as the key action's field gives it."""
    if by in ("office_type", "category"):
        return text if text or by == "category" else None
    return int(text) if text else None


def _tallied(row: dict[str, Any], key: Any = None) -> Figures:
    return _with_accountability(_figures({**dict.fromkeys(ACCOUNTABILITY), **_tally_row(row)}, key=key), None)


def _own_dimension(dimension: str, region: int | None) -> str | None:
    """The dimension whose every row is one of `dimension`'s (within `region`: `crossed`); None where the region's
    figures are groups of the region and office dimensions (`kept` reads those)."""
    if region is None:
        return dimension
    return None if dimension in ("all", "region", "office") else crossed(dimension, region)


def kept(tallies: QuerySet[ActionTally], dimension: str, region: int | None = None) -> QuerySet[ActionTally]:
    """The kept counts of a dimension ("all": of every key action), or of its groups within one region: the
    region's own group, its offices' groups, else the dimension's counts within the region (`crossed`)."""
    own = _own_dimension(dimension, region)
    if own is not None:
        return tallies.filter(dimension=own)
    if dimension in ("all", "region"):
        return tallies.filter(dimension="region", group_key=str(region))
    offices = [str(pk) for pk in Office.objects.filter(region_id=region).order_by("pk").values_list("pk", flat=True)]
    return tallies.filter(dimension="office", group_key__in=offices)


def tallied_totals(tallies: QuerySet[ActionTally], on: dt.date, region: int | None = None) -> Figures:
    """The status and deadline figures from the kept counts (the accountability ones are zero: see `Source`)."""
    return _tallied(_tally_sums(kept(tallies, "all", region), on, group=False)[0][1])


def tallied_breakdown(tallies: QuerySet[ActionTally], by: str, on: dt.date, *, label: bool = True,
                      region: int | None = None) -> list[Figures]:
    """`breakdown` from the kept counts (tags: one dimension per vocabulary), within one region if given."""
    rows = _tally_sums(kept(tallies, by, region), on, group=True)
    out = [_tallied(sums, key=_group(by, group_key)) for group_key, sums in rows]
    return _labelled(by, out) if label else out


def tallied_breakdowns(tallies: QuerySet[ActionTally], keys: list[str], on: dt.date, *,
                       region: int | None = None) -> dict[str, list[Figures]]:
    """`tallied_breakdown` by each of `keys` (unlabelled), those kept as dimensions of their own (within a region: the
    crossed ones) added up in one query: a dashboard's nine tables were nine queries, each built and read apart."""
    own = {k: d for k in keys if (d := _own_dimension(k, region)) is not None}
    together = tallies.filter(dimension__in=list(own.values()))
    out: dict[str, list[Figures]] = {k: [] for k in keys}
    # Only where the sums may answer (a few rows per group, or for the annual report the sums and the counts of a few
    # years): the counts of several dimensions by deadline month were sorted together on PostgreSQL, on disk (64 ms at
    # L), each dimension's read in the order of its index (18 ms for four). The annual report's are, when no sums in
    # step with the counts are kept (moved without them, until the hourly job makes them again).
    if len(own) > 1 and _narrowing(together) is not None:
        by_dimension = {d: k for k, d in own.items()}
        for (dimension, group_key), sums in _tally_sums(together, on, group=True, by_dimension=True):
            k = by_dimension[dimension]
            out[k].append(_tallied(sums, key=_group(k, group_key)))
    else:
        own = {}
    for k in keys:
        if k not in own:
            out[k] = tallied_breakdown(tallies, k, on, label=False, region=region)
    return out


def _ordered(by: str, out: list[Figures]) -> list[Figures]:
    if by == "year":
        return sorted(out, key=lambda f: f.key or 0)
    return sorted(out, key=lambda f: (-f.total, f.label))


def merged(a: Figures, b: Figures) -> Figures:
    """The figures of two disjoint sets of key actions together."""
    overdue = a.overdue + b.overdue
    ages = [x for x in (a.overdue_age_max, b.overdue_age_max) if x is not None]
    return Figures(
        label=a.label or b.label,
        key=a.key if a.key is not None else b.key,
        total=a.total + b.total,
        by_status={s: a.by_status.get(s, 0) + b.by_status.get(s, 0) for s in dict.fromkeys([*a.by_status, *b.by_status])},
        other=a.other + b.other,
        due=a.due + b.due,
        completed_due=a.completed_due + b.completed_due,
        overdue=overdue,
        overdue_long=a.overdue_long + b.overdue_long,
        overdue_age_avg=((a.overdue_age_avg or 0) * a.overdue + (b.overdue_age_avg or 0) * b.overdue) / overdue if overdue else None,
        overdue_age_max=max(ages) if ages else None,
        completed_verified=a.completed_verified + b.completed_verified,
        completed_due_verified=a.completed_due_verified + b.completed_due_verified,
    )


class KeptAccountability:
    """The figures of first deadlines and completion dates, added up from the kept counts' accountability
    dimension (`tracking.models.tallies.accountability_group`: a few thousand groups, not a pass over every key
    action), and from the reader's drafts, grouped alike. The same figures as `_aggregates`, `closure_aggregates`
    and `lateness_aggregates` count from the rows (tests/reports/test_tallies.py)."""

    def __init__(self) -> None:
        # (first month, first year, year completed, days late), status, deadline month, verified -> key actions
        self.rows: dict[tuple, int] = {}

    @classmethod
    def of(cls, tallies: QuerySet[ActionTally] | None, actions: QuerySet[KeyAction] | None = None,
           region: int | None = None) -> KeptAccountability:
        """From the kept counts `tallies` (within one region if given), and the key actions `actions` (a reader's
        drafts: few), grouped alike."""
        out = cls()
        groups = () if tallies is None else (
            kept(tallies, ACCOUNTABILITY_DIMENSION, region).order_by()
            .values_list("group_key", "status", "deadline_month", "verified").annotate(n=Sum("n"))
        )
        for group, status, month, verified, n in groups:
            out._add(read_accountability_group(group), status, month, verified, n)
        if actions is not None:
            rows = actions.order_by().values_list("status", "verification", "deadline", "first_deadline", "completed_on")
            for status, verification, deadline, first, done, n in rows.annotate(n=Count("pk")):
                found = accountability_group(status, deadline, first, done)
                if found is not None:
                    out._add(read_accountability_group(found[0]), status, found[1], is_verified(status, verification), n)
        return out

    def _add(self, group: tuple, status: str, month: int, verified: bool, n: int) -> None:
        key = (group, status, month, bool(verified))
        self.rows[key] = self.rows.get(key, 0) + int(n)

    def totals(self, on: dt.date, *, ageing_only: bool = False) -> dict[str, Any]:
        """`accountability_aggregates(on)`'s row."""
        m = month_index(on)
        # The first deadline before the month of (on - low + 1), and in the month of (on - high) or later (`_ageing`).
        bounds = [(month_index(on - dt.timedelta(days=low - 1)), month_index(on - dt.timedelta(days=high)) if high else None)
                  for _label, low, high in AGEING]
        row: dict[str, Any] = {"completed_dated": 0, "completed_late": 0, "overdue_hidden": 0, **{f"age{i}": 0 for i in range(len(AGEING))}}
        late_days, late_max = 0, None
        for ((first, _first_year, _done, late), status, month, _verified), n in self.rows.items():
            if status == COMPLETED:
                if late is not None:
                    row["completed_dated"] += n
                    if late > 0:
                        row["completed_late"] += n
                        late_days += late * n
                        late_max = late if late_max is None else max(late_max, late)
            elif first:
                # Open and late against the first deadline: hidden when not overdue against the revised one.
                if first < m and not NO_DEADLINE < month < m:
                    row["overdue_hidden"] += n
                for i, (before, since) in enumerate(bounds):
                    if first < before and (since is None or first >= since):
                        row[f"age{i}"] += n
        row["days_late_avg"] = late_days / row["completed_late"] if row["completed_late"] else None
        row["days_late_max"] = late_max
        if ageing_only:
            return {k: v for k, v in row.items() if k == "overdue_hidden" or k.startswith("age")}
        return row

    def closure(self, year: int) -> dict[str, int]:
        """`closure_aggregates(year)`'s row."""
        out = {"closed": 0, "closed_verified": 0, "due": 0}
        for ((_first, first_year, done, _late), status, _month, verified), n in self.rows.items():
            if status == COMPLETED and done == year:
                out["closed"] += n
                out["closed_verified"] += n if verified else 0
            if first_year == year:
                out["due"] += n  # No Longer Applicable is in no group
        return out

    def completed_in(self, year: int) -> int:
        """The key actions marked Completed in `year`."""
        return sum(n for ((_f, _fy, done, _l), status, _m, _v), n in self.rows.items() if status == COMPLETED and done == year)

    def lateness(self, year: int) -> Lateness:
        """`days_late` of the actions Completed in `year`: average and median days late (on time: 0)."""
        days: dict[int, int] = {}
        for ((_first, _first_year, done, late), status, _month, _verified), n in self.rows.items():
            if status == COMPLETED and done == year and late is not None:
                days[max(late, 0)] = days.get(max(late, 0), 0) + n
        return _lateness(days)


class Scan:
    """Several figures of one set of key actions read in one pass over them.

    Each part is a dict of aggregates, narrowed by the part's own condition (`where`) and prefixed, all in
    one aggregate query: at 200,000 actions a pass over them (and the joins that decide who reads them) is
    most of a report's time, whatever it counts.
    """

    def __init__(self, actions: QuerySet[KeyAction]):
        self.actions = actions
        self.parts: dict[str, dict[str, Any]] = {}
        self.rows: dict[str, dict[str, Any]] | None = None

    def add(self, name: str, aggregates: dict[str, Any], where: Q | None = None) -> Scan:
        if where is not None:
            narrowed = {}
            for key, agg in aggregates.items():
                agg = agg.copy()
                agg.filter = where if agg.filter is None else (where & agg.filter)
                narrowed[key] = agg
            aggregates = narrowed
        self.parts[name] = aggregates
        self.rows = None
        return self

    def __getitem__(self, name: str) -> dict[str, Any]:
        if self.rows is None:
            row = self.actions.order_by().aggregate(
                **{f"{part}__{key}": agg for part, aggs in self.parts.items() for key, agg in aggs.items()}
            )
            self.rows = {part: {key: row[f"{part}__{key}"] for key in aggs} for part, aggs in self.parts.items()}
        return self.rows[name]


class Source:
    """Where a page's figures are counted: the kept counts when nothing narrows them, else the key actions.

    `tallies`: the kept counts the reader reads (approved responses; everything for readers of every
    draft); `drafts`: the key actions of the drafts a reader of some offices reads, counted from the rows
    and added; `region`: the one region the figures are narrowed to (`kept`), if any.
    """

    def __init__(self, actions: QuerySet[KeyAction], tallies: QuerySet[ActionTally] | None = None,
                 drafts: QuerySet[KeyAction] | None = None, *, accountability_kept: bool = True, region: int | None = None):
        self.actions = actions
        self.tallies = tallies
        self.drafts = drafts
        self.region = region
        # Are the kept counts' figures of first deadlines and completion dates those of `actions`? Not once narrowed
        # by deadline (`due_by_end_of`): that dimension keeps no deadline month of a completion.
        self.accountability_kept = accountability_kept
        self._kept: KeptAccountability | None = None

    @classmethod
    def of(cls, who, filters, actions: QuerySet[KeyAction]) -> Source:
        """`actions`: `filters.actions(restrict(who, KeyAction))`, counted when a filter other than one region
        narrows the figures (the kept counts hold each region's too)."""
        region = filters.region_only
        if filters.narrows and region is None:
            return cls(actions)
        reader = reader_scope(who)
        drafts = None
        if reader.internal and not reader.everything:
            # `actions` are the region's already.
            drafts = actions.filter(reader.drafts_q("evaluation__")).exclude(evaluation__management_response__status=ResponseStatus.APPROVED)
        return cls(actions, restrict(who, ActionTally), drafts, region=region)

    @property
    def tallied(self) -> bool:
        return self.tallies is not None

    def due_by_end_of(self, year: int) -> Source:
        """The key actions whose deadline is on or before December of `year`."""
        before = dt.date(year + 1, 1, 1)
        return Source(
            self.actions.filter(deadline__lt=before),
            None if self.tallies is None else self.tallies.filter(deadline_month__gt=NO_DEADLINE, deadline_month__lte=year * 12 + 12),
            None if self.drafts is None else self.drafts.filter(deadline__lt=before),
            accountability_kept=False,
            region=self.region,
        )

    def row_aggregates(self, on: dt.date, *, accountability: bool = True) -> dict[str, Any]:
        """What `totals` reads from the key actions themselves (for a `Scan` of `actions`): everything without
        the kept counts, nothing with them. `accountability=False`: without the figures of first deadlines and
        completion dates (they stay zero)."""
        if self.tallies is None:
            return _aggregates(on, accountability=accountability)
        return {}

    def totals(self, on: dt.date, *, row: dict[str, Any] | None = None, accountability: bool = True) -> Figures:
        """`row`: the `row_aggregates` already read (a part of a `Scan` of the same key actions)."""
        if self.tallies is None:
            if row is None:
                row = self.actions.order_by().aggregate(**self.row_aggregates(on, accountability=accountability))
            return _figures({**_BLANK, **row})
        out = tallied_totals(self.tallies, on, self.region)
        out = out if self.drafts is None else merged(out, totals(self.drafts, on))
        return _with_accountability(out, self.accountability().totals(on) if accountability else None)

    def accountability(self) -> KeptAccountability:
        """The figures of first deadlines and completion dates: from the kept counts (and the reader's drafts), or
        grouped from the key actions where those do not hold them."""
        if self._kept is None:
            if self.tallies is not None and self.accountability_kept:
                self._kept = KeptAccountability.of(self.tallies, self.drafts, self.region)
            else:
                self._kept = KeptAccountability.of(None, self.actions)
        return self._kept

    def closure(self, year: int) -> Closure:
        if self.tallies is not None:
            return Closure(year=year, **self.accountability().closure(year))
        return closure(self.actions, year)

    def breakdowns(self, keys: list[str], on: dt.date) -> dict[str, list[Figures]]:
        """`breakdown` by each of `keys` (the breakdown tables' figures); counted from the rows, the
        vocabularies in one pass."""
        if self.tallies is None:
            return breakdowns(self.actions, keys, on, accountability=False)
        kept = tallied_breakdowns(self.tallies, keys, on, region=self.region)
        return {k: _labelled(k, self._with_drafts(k, kept[k], on)) for k in keys}

    def _with_drafts(self, by: str, out: list[Figures], on: dt.date) -> list[Figures]:
        """The kept counts' groups with the reader's drafts added (counted from their key actions)."""
        if self.drafts is None:
            return out
        groups = {f.key: f for f in out}
        for f in breakdown(self.drafts, by, on, label=False, accountability=False):
            groups[f.key] = merged(groups[f.key], f) if f.key in groups else f
        return list(groups.values())

    def breakdown(self, by: str, on: dt.date, *, accountability: bool = False) -> list[Figures]:
        """Each group's figures. `accountability`: with the figures of the first deadline and completion
        dates per group too (days late, ageing, hidden by a revision), counted from the key actions; the
        breakdown tables show none of them, so by default the kept counts alone answer."""
        if self.tallies is None:
            return breakdown(self.actions, by, on, accountability=accountability)
        out = self._with_drafts(by, tallied_breakdown(self.tallies, by, on, label=False, region=self.region), on)
        if not accountability:
            return _labelled(by, out)
        b = BREAKDOWNS[by]
        qs = self.actions.order_by()
        if b.term_kind:
            qs = qs.filter(recommendation__tags__term__kind=b.term_kind)
        extra = {r[b.field]: r for r in qs.values(b.field).annotate(**accountability_aggregates(on))}
        return _labelled(by, [_with_accountability(f, extra.get(f.key)) for f in out])


# --- management responses: approved on time? ---------------------------------------------------


@dataclass
class Timeliness:
    weeks: int
    within: int = 0
    late: int = 0
    pending: int = 0  # not approved yet
    unknown: int = 0  # evaluation completion date not recorded

    @property
    def known(self) -> int:
        return self.within + self.late + self.pending

    @property
    def share(self) -> float | None:
        return self.within / self.known if self.known else None


class DaysAfter(Func):
    """The date `days` after a date, natively (Django's date + timedelta calls back into Python for every
    row on SQLite: 34,000 calls for the plans of the dashboard at L)."""

    output_field = DateField()

    def __init__(self, expression, days: int):
        super().__init__(expression)
        self.days = int(days)

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL: date + integer is a date
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} + {self.days})", params

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, '+{self.days} days')", params


def approved_within(weeks: int, prefix: str = "") -> Q:
    """Approved within `weeks` of the evaluation's completion, for responses reached by `prefix` ("" from a response,
    "management_response__" from an evaluation; the completion date is the evaluation's). Among approved responses of
    dated evaluations the rest were approved later: counted as the difference, each row's limit computed once (on
    SQLite a date function per row: a quarter of the count's time).

    Approved on or before completion + weeks (the day of approval, UTC) is: approved before the start of the day
    after. Compared as stored, so the database needs no date function per row beyond one addition.
    """
    completion = "evaluation__completion_date" if prefix == "" else "completion_date"
    return Q(**{f"{prefix}approved_at__lt": DaysAfter(F(completion), weeks * 7 + 1)})


def timeliness(responses: QuerySet[ManagementResponse], weeks: int = 6) -> Timeliness:
    """Responses approved within `weeks` of their evaluation's completion (one query)."""
    approved = Q(status=ResponseStatus.APPROVED, approved_at__isnull=False)
    dated = Q(evaluation__completion_date__isnull=False)
    row = responses.order_by().aggregate(
        unknown=Count("pk", filter=~dated),
        pending=Count("pk", filter=dated & ~approved),
        answered=Count("pk", filter=approved & dated),
        within=Count("pk", filter=approved & dated & approved_within(weeks)),
    )
    return Timeliness(weeks=weeks, unknown=row["unknown"], pending=row["pending"], within=row["within"],
                      late=row["answered"] - row["within"])


# --- evaluation plans: planned, completed, cancelled; responses on time ------------------------------


@dataclass
class PlanCompliance:
    """One plan's evaluations as its reader reads them (see `plan_compliance`)."""

    plan_id: int
    office: str
    office_slug: str
    period: str
    closed: bool
    planned: int = 0  # every evaluation of the plan
    completed: int = 0
    cancelled: int = 0
    in_progress: int = 0  # planned or ongoing
    within: int = 0  # completed, response approved within the weeks
    late: int = 0  # completed, response approved later
    pending: int = 0  # completed, response not approved yet
    unknown: int = 0  # completed, completion date not recorded
    cancellations: list = field(default_factory=list)  # (title, reason)

    @property
    def completion_rate(self) -> float | None:
        """Completed ÷ planned evaluations not cancelled."""
        kept = self.planned - self.cancelled
        return self.completed / kept if kept else None

    @property
    def timely_share(self) -> float | None:
        known = self.within + self.late + self.pending
        return self.within / known if known else None


def plan_compliance(evaluations: QuerySet[Evaluation], weeks: int = 6, *, reasons: bool = True) -> list[PlanCompliance]:
    """Each plan of these evaluations: planned vs completed vs cancelled, and responses approved in time.

    Counted by the database (one grouped query; the cancellations with their reasons in a second).
    """
    status = Evaluation.Status
    completed = Q(status=status.COMPLETED)
    dated = completed & Q(completion_date__isnull=False)
    approved = Q(management_response__status=ResponseStatus.APPROVED, management_response__approved_at__isnull=False)
    rows = (
        evaluations.order_by()
        .values("plan_id", "plan__office__name", "plan__office__slug", "plan__start_year", "plan__end_year", "plan__closed")
        .annotate(
            planned=Count("pk"),
            n_completed=Count("pk", filter=completed),
            cancelled=Count("pk", filter=Q(status=status.CANCELLED)),
            in_progress=Count("pk", filter=Q(status__in=(status.PLANNED, status.ONGOING))),
            answered=Count("pk", filter=dated & approved),
            within=Count("pk", filter=dated & approved & approved_within(weeks, "management_response__")),
            pending=Count("pk", filter=dated & ~approved),
            unknown=Count("pk", filter=completed & Q(completion_date__isnull=True)),
        )
        .order_by("plan__office__name", "-plan__start_year", "-plan__end_year")
    )
    plans = {
        r["plan_id"]: PlanCompliance(
            plan_id=r["plan_id"],
            office=r["plan__office__name"],
            office_slug=r["plan__office__slug"],
            period=plan_period(r["plan__start_year"], r["plan__end_year"]),
            closed=r["plan__closed"],
            planned=r["planned"],
            completed=r["n_completed"],
            cancelled=r["cancelled"],
            in_progress=r["in_progress"],
            within=r["within"],
            late=r["answered"] - r["within"],
            pending=r["pending"],
            unknown=r["unknown"],
        )
        for r in rows
    }
    if reasons and any(p.cancelled for p in plans.values()):
        for plan_id, title, reason in (
            evaluations.filter(status=status.CANCELLED).order_by("plan_id", "title").values_list("plan_id", "title", "cancellation_reason")
        ):
            plans[plan_id].cancellations.append((title, reason))
    return list(plans.values())


@dataclass
class Closure:
    """Actions closed in a year ÷ actions due in it (see the definitions above)."""

    year: int
    closed: int = 0
    closed_verified: int = 0
    due: int = 0

    @property
    def rate(self) -> float | None:
        return self.closed / self.due if self.due else None

    @property
    def rate_verified(self) -> float | None:
        return self.closed_verified / self.due if self.due else None


def closure_aggregates(year: int) -> dict[str, Any]:
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    closed = Q(status=COMPLETED, completed_on__gte=start, completed_on__lt=end)
    return {
        "closed": _rows(filter=closed),
        "closed_verified": _rows(filter=closed & VERIFIED),
        "due": _rows(filter=~Q(status=NLA) & first_deadline_q("gte", start) & first_deadline_q("lt", end)),
    }


def closure(actions: QuerySet[KeyAction], year: int) -> Closure:
    """The closure rate of a year (one query)."""
    return Closure(year=year, **actions.order_by().aggregate(**closure_aggregates(year)))


@dataclass
class Outcomes:
    """Completed actions and the later question on their outcome."""

    completed: int = 0
    asked: int = 0  # a question scheduled
    answered: int = 0
    confirmed: int = 0  # the unit answered: yes, it changed what the evaluation found


def outcome_aggregates() -> dict[str, Any]:
    """What `outcomes` counts of the key actions themselves (for a `Scan`): the Completed ones. The questions
    are counted apart, from their own rows: joined to every key action of a pass, they cost it a lookup per
    action (a fifth of the dashboard's pass over 195,000 at L on SQLite), for a few thousand questions at most."""
    return {"completed": _rows(filter=Q(status=COMPLETED))}


def outcomes(actions: QuerySet[KeyAction], who, row: dict[str, Any] | None = None) -> Outcomes:
    """Outcome follow-up of the Completed actions among `actions` (two queries). `who`: the reader `actions` were
    restricted for (the questions are read for them too). `row`: the `outcome_aggregates` already read (a `Scan`)."""
    row = row if row is not None else actions.order_by().aggregate(**outcome_aggregates())
    # The reader's questions (few), each kept if its action is a Completed one among `actions`: one question per
    # action at most.
    questions = restrict(who, OutcomeQuestion).filter(
        Exists(actions.order_by().filter(pk=OuterRef("key_action_id"), status=COMPLETED))
    )
    asked = questions.aggregate(
        asked=Count("pk"), answered=Count("pk", filter=Q(confirmed__isnull=False)), confirmed=Count("pk", filter=Q(confirmed=True))
    )
    return Outcomes(completed=row["completed"], **asked)


def by_evaluation(actions: QuerySet[KeyAction], on: dt.date) -> dict[int, Figures]:
    """The figures of each evaluation's key actions (one GROUP BY): a joint evaluation's partners side by side."""
    rows = actions.order_by().values("evaluation_id").annotate(**_aggregates(on))
    return {r["evaluation_id"]: _figures(r, key=r["evaluation_id"]) for r in rows}


class NotNegative(Func):
    """The value, or 0 when it is below (GREATEST; SQLite's two-argument MAX)."""

    function = "GREATEST"
    output_field = IntegerField()

    def __init__(self, expression):
        super().__init__(expression, Value(0))

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="MAX", **extra)


@dataclass
class Lateness:
    """Days late of the Completed actions, against the first deadline (see the definitions above)."""

    dated: int = 0  # Completed, with the day it was and a first deadline
    on_time: int = 0  # of those, completed by the end of the first deadline's month
    average: float | None = None  # over all of them, on time counting 0
    median: float | None = None


DATED = Q(status=COMPLETED, completed_on__isnull=False) & (Q(first_deadline__isnull=False) | Q(deadline__isnull=False))


def lateness_aggregates() -> dict[str, Any]:
    """Of the dated Completed actions (`DATED`): how many, on time, the average days late (on time: 0)."""
    return {
        "n": _rows(filter=DATED),
        "on_time": _rows(filter=DATED & ~GreaterThan(DaysLate(), 0)),
        "avg": Avg(NotNegative(DaysLate()), filter=DATED),
    }


def days_late(actions: QuerySet[KeyAction], row: dict[str, Any] | None = None) -> Lateness:
    """Average and median days late of the dated Completed actions (on time: 0).

    `row`: the `lateness_aggregates` already read (a `Scan`). Counted in the database: the median from
    the number of actions at each day count (a few hundred rows, whatever the number of actions;
    SQLite has no median function).
    """
    row = row if row is not None else actions.order_by().aggregate(**lateness_aggregates())
    out = Lateness(dated=row["n"], on_time=row["on_time"], average=float(row["avg"]) if row["avg"] is not None else None)
    if out.dated:
        days = actions.order_by().filter(DATED).annotate(days=NotNegative(DaysLate())).values("days").annotate(n=Count("pk"))
        out.median = _median({r["days"]: r["n"] for r in days}, out.dated)
    return out


def _median(days: dict[int, int], dated: int) -> float:
    """The median of days late given as {days: number of actions}."""
    middle, seen, wanted = [], 0, {(dated - 1) // 2, dated // 2}
    for d in sorted(days):
        middle += [d] * len([i for i in wanted if seen <= i < seen + days[d]])
        seen += days[d]
    return sum(middle) / len(middle)


def _lateness(days: dict[int, int]) -> Lateness:
    """`Lateness` of {days late (on time: 0): number of actions}."""
    dated = sum(days.values())
    if not dated:
        return Lateness()
    return Lateness(dated=dated, on_time=days.get(0, 0), average=sum(d * n for d, n in days.items()) / dated, median=_median(days, dated))


@dataclass(frozen=True)
class OverdueRow:
    """A row of the annual report's overdue list: what it shows of a key action, read as plain values."""

    pk: int
    office: str
    evaluation: str  # its title, or its office and plan when it has none (as `Evaluation.__str__` names it)
    number: str
    text: str
    deadline: dt.date | None
    status: str

    @property
    def deadline_label(self) -> str:
        return month_label(self.deadline)


# What a row of the overdue list reads: an evaluation is named by its title, or by its office and plan when it has none.
OVERDUE_ROW_FIELDS = ("pk", "evaluation__office__name", "evaluation__title", "evaluation__plan__start_year",
                      "evaluation__plan__end_year", "number", "text", "deadline", "status")


def overdue_actions(actions: QuerySet[KeyAction], on: dt.date) -> QuerySet[KeyAction]:
    """The overdue key actions, oldest deadline first (`overdue_list` reads what the list shows of the first)."""
    return actions.overdue(on).order_by("deadline", "evaluation__office__name", "pk")


def overdue_list(actions: QuerySet[KeyAction], n: int) -> list[OverdueRow]:
    """The first `n` of `overdue_actions`, as the rows the list shows: their ids in order, then those columns only, as
    values. Read as records (a key action, its evaluation, office and plan for each of 500 rows), making them was a
    quarter of the annual report's time at L."""
    rows = queries.first_rows(actions, n, values=OVERDUE_ROW_FIELDS)
    return [
        OverdueRow(pk, office, evaluation_label(title, office, start, end), number, text, deadline, status)
        for pk, office, title, start, end, number, text, deadline, status in rows
    ]


__all__ = [
    "BREAKDOWNS",
    "MonthIndex",
    "Source",
    "Scan",
    "Breakdown",
    "Closure",
    "Lateness",
    "Outcomes",
    "Figures",
    "Timeliness",
    "breakdown",
    "by_evaluation",
    "closure",
    "days_late",
    "outcomes",
    "overdue_actions",
    "overdue_list",
    "OverdueRow",
    "timeliness",
    "totals",
]
