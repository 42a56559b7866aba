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
- A management response is *timely* when it was approved within N weeks
  (default 6) of its evaluation's completion date.

Every figure is one GROUP BY with conditional counts; no rows are loaded
into Python, whatever the number of key actions. Where the filters allow
(none narrows them), the counts are added up from `ActionTally`, the counts
the services keep beside the key actions (a few thousand rows per figure at
200,000 actions); with a filter they are counted from the key actions.
`Source` chooses; both give the same figures (tests/reports/test_tallies.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from django.db.models import Avg, Count, ExpressionWrapper, F, IntegerField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate

from tracking.models import ActionTally, KeyAction, ManagementResponse, Office, OfficeType, Region, Term
from tracking.models.responses import (
    CLOSED_STATUSES,
    ActionStatus,
    ResponseStatus,
    due_q,
    month_start,
    overdue_q,
)
from tracking.models.tallies import NO_DEADLINE, MonthIndex, month_index
from tracking.permissions import reader_scope, restrict

COMPLETED = ActionStatus.COMPLETED.value
NLA = ActionStatus.NO_LONGER_APPLICABLE.value
STATUS_ORDER = [s.value for s in ActionStatus]
LONG_OVERDUE_MONTHS = 12


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

    @property
    def completed(self) -> int:
        return self.by_status.get(COMPLETED, 0)

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


def _aggregates(on: dt.date) -> dict[str, Any]:
    # The rules of overdue and due have one home (tracking.models.responses).
    overdue = overdue_q(on)
    due = due_q(on)
    months_now = on.year * 12 + on.month
    age = ExpressionWrapper(Value(months_now) - MonthIndex("deadline"), output_field=IntegerField())
    long_cutoff = month_start(on)
    for _ in range(LONG_OVERDUE_MONTHS):
        long_cutoff = (long_cutoff - dt.timedelta(days=1)).replace(day=1)
    aggs: dict[str, Any] = {
        "total": Count("pk"),
        "due": Count("pk", filter=due),
        "completed_due": Count("pk", filter=due & Q(status=COMPLETED)),
        "overdue": Count("pk", filter=overdue),
        "overdue_long": Count("pk", filter=overdue & Q(deadline__lt=long_cutoff)),
        "overdue_age_avg": Avg(age, filter=overdue),
        "overdue_age_max": Max(age, filter=overdue),
    }
    for i, status in enumerate(STATUS_ORDER):
        aggs[f"s{i}"] = Count("pk", filter=Q(status=status))
    return aggs


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
    )


def totals(actions: QuerySet[KeyAction], on: dt.date) -> Figures:
    """The figures of a whole set of key actions (one query)."""
    return _figures(actions.order_by().aggregate(**_aggregates(on)))


def breakdown(actions: QuerySet[KeyAction], by: str, on: dt.date, *, label: bool = True) -> list[Figures]:
    """The figures of each group (one GROUP BY), largest first; years in order."""
    b = BREAKDOWNS[by]
    qs = actions.order_by()
    if b.term_kind:
        qs = qs.filter(recommendation__tags__term__kind=b.term_kind)
    out = [_figures(r, key=r[b.field]) for r in qs.values(b.field).annotate(**_aggregates(on))]
    return _labelled(by, out) if label else out


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

def _tally_aggregates(on: dt.date) -> dict[str, Any]:
    m = month_index(on)
    dated = Q(deadline_month__gt=NO_DEADLINE)
    overdue = dated & Q(deadline_month__lt=m) & ~Q(status__in=CLOSED_STATUSES)
    due = dated & Q(deadline_month__lte=m) & ~Q(status=NLA)
    age = ExpressionWrapper(Value(m) - F("deadline_month"), output_field=IntegerField())
    aggs: dict[str, Any] = {
        "total": Sum("n"),
        "due": Sum("n", filter=due),
        "completed_due": Sum("n", filter=due & Q(status=COMPLETED)),
        "overdue": Sum("n", filter=overdue),
        "overdue_long": Sum("n", filter=overdue & Q(deadline_month__lt=m - LONG_OVERDUE_MONTHS)),
        "age_sum": Sum(ExpressionWrapper(age * F("n"), output_field=IntegerField()), filter=overdue),
        "overdue_age_max": Max(age, filter=overdue),
    }
    for i, status in enumerate(STATUS_ORDER):
        aggs[f"s{i}"] = Sum("n", filter=Q(status=status))
    return aggs


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


def tallied_totals(tallies: QuerySet[ActionTally], on: dt.date) -> Figures:
    return _figures(_tally_row(tallies.filter(dimension="all").order_by().aggregate(**_tally_aggregates(on))))


def tallied_breakdown(tallies: QuerySet[ActionTally], by: str, on: dt.date, *, label: bool = True) -> list[Figures]:
    """`breakdown` from the kept counts (tags: one dimension per vocabulary)."""
    rows = tallies.filter(dimension=by).order_by().values("group_key").annotate(**_tally_aggregates(on))
    out = [_figures(_tally_row(r), key=_group(by, r["group_key"])) for r in rows]
    return _labelled(by, out) if label else out


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
    )


class Source:
    """Where a page's figures are counted: the kept counts when nothing narrows them, else the key actions.

    `tallies`: the kept counts the reader reads (approved responses; everything for readers of every
    draft); `drafts`: the key actions of the drafts a reader of some offices reads, counted from the rows
    and added.
    """

    def __init__(self, actions: QuerySet[KeyAction], tallies: QuerySet[ActionTally] | None = None,
                 drafts: QuerySet[KeyAction] | None = None):
        self.actions = actions
        self.tallies = tallies
        self.drafts = drafts

    @classmethod
    def of(cls, who, filters, actions: QuerySet[KeyAction]) -> Source:
        """`actions`: `filters.actions(restrict(who, KeyAction))`, counted when a filter narrows the figures."""
        if any(getattr(filters, f.name) for f in fields(filters)):
            return cls(actions)
        reader = reader_scope(who)
        drafts = None
        if reader.internal and not reader.everything:
            drafts = actions.exclude(evaluation__management_response__status=ResponseStatus.APPROVED)
        return cls(actions, restrict(who, ActionTally), drafts)

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
        )

    def totals(self, on: dt.date) -> Figures:
        if self.tallies is None:
            return totals(self.actions, on)
        out = tallied_totals(self.tallies, on)
        return out if self.drafts is None else merged(out, totals(self.drafts, on))

    def breakdown(self, by: str, on: dt.date) -> list[Figures]:
        if self.tallies is None:
            return breakdown(self.actions, by, on)
        out = tallied_breakdown(self.tallies, by, on, label=False)
        if self.drafts is not None:
            groups = {f.key: f for f in out}
            for f in breakdown(self.drafts, by, on, label=False):
                groups[f.key] = merged(groups[f.key], f) if f.key in groups else f
            out = list(groups.values())
        return _labelled(by, out)


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


def timeliness(responses: QuerySet[ManagementResponse], weeks: int = 6) -> Timeliness:
    """Responses approved within `weeks` of their evaluation's completion (one query)."""
    approved = Q(status=ResponseStatus.APPROVED, approved_at__isnull=False)
    completion = F("evaluation__completion_date")
    row = (
        responses.order_by()
        .annotate(approved_on=TruncDate("approved_at"))
        .aggregate(
            unknown=Count("pk", filter=Q(evaluation__completion_date__isnull=True)),
            pending=Count("pk", filter=Q(evaluation__completion_date__isnull=False) & ~approved),
            within=Count(
                "pk",
                filter=approved
                & Q(evaluation__completion_date__isnull=False)
                & Q(approved_on__lte=completion + dt.timedelta(weeks=weeks)),
            ),
            late=Count(
                "pk",
                filter=approved
                & Q(evaluation__completion_date__isnull=False)
                & Q(approved_on__gt=completion + dt.timedelta(weeks=weeks)),
            ),
        )
    )
    return Timeliness(weeks=weeks, **row)


def overdue_actions(actions: QuerySet[KeyAction], on: dt.date) -> QuerySet[KeyAction]:
    """The overdue key actions, oldest deadline first (for lists and the annual report)."""
    return (
        actions.overdue(on)
        .select_related("evaluation__office", "recommendation")
        .order_by("deadline", "evaluation__office__name", "pk")
    )


__all__ = [
    "BREAKDOWNS",
    "MonthIndex",
    "Source",
    "Breakdown",
    "Figures",
    "Timeliness",
    "breakdown",
    "overdue_actions",
    "timeliness",
    "totals",
]
