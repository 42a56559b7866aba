"""The annual report: an executive-board annex for a year and a scope.

What it reports, for year Y (stated in the report itself):
- the evaluations of year Y in the scope, their responses (approved or not,
  and approved within N weeks of completion) and their recommendations by
  category;
- every key action due by the end of Y (deadline on or before December Y,
  whatever the evaluation's year): the implementation rates, by region, office
  and office type, and the trend by evaluation year;
- the key actions still overdue, oldest first (as recorded on the day the
  report is produced: statuses have no past);
- accountability: the key actions completed in Y (closed in Y, as the closure
  rate counts them), verified or self-reported, their days late against the
  first deadline (average and median) and how many had their outcome
  confirmed; and every open key action late against its first deadline, by
  age on the day the report is produced. The same figure functions as the
  dashboard (reports/figures.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from tracking.models import Evaluation, KeyAction, ManagementResponse, Recommendation
from tracking.models.responses import overdue_q
from tracking.permissions import Reader, restrict

from . import charts, figures

OVERDUE_LIST_LIMIT = 500


@dataclass
class AnnualReport:
    year: int
    scope: str
    on: dt.date
    weeks: int
    evaluations: int = 0
    responses_by_status: dict[str, int] = field(default_factory=dict)
    timeliness: figures.Timeliness | None = None
    categories: dict[str, int] = field(default_factory=dict)
    due: figures.Figures | None = None
    by_region: list[figures.Figures] = field(default_factory=list)
    by_office_type: list[figures.Figures] = field(default_factory=list)
    by_office: list[figures.Figures] = field(default_factory=list)
    trend: list[figures.Figures] = field(default_factory=list)
    overdue: list[figures.OverdueRow] = field(default_factory=list)
    overdue_total: int = 0
    closure: figures.Closure | None = None
    late: figures.Figures | None = None  # every action in scope as of the report's day: ageing against the first deadline
    lateness: figures.Lateness | None = None  # of the actions completed in the year
    outcomes: figures.Outcomes | None = None  # of the actions completed in the year

    @property
    def completed_self_reported(self) -> int:
        """Completed in the year, not verified by the evaluation office."""
        return self.closure.closed - self.closure.closed_verified if self.closure else 0

    @property
    def overdue_truncated(self) -> bool:
        return self.overdue_total > len(self.overdue)

    def charts(self) -> dict:
        return {
            "status_by_region": charts.stacked_bars(
                [(f.label, f.status_segments()) for f in self.by_region], f"Key actions due by end of {self.year}, by status and region"
            ),
            "rate_by_office_type": charts.bar_chart(
                [(f.label, f.rate_due) for f in self.by_office_type],
                f"Implementation rate of actions due by end of {self.year}, by office type",
                percent=True,
            ),
            "trend": charts.line_chart(
                [
                    charts.Series("Implementation rate (due)", [(f.key, f.rate_due) for f in self.trend]),
                    charts.Series("Implementation rate (all)", [(f.key, f.rate_all) for f in self.trend]),
                ],
                f"Implementation rate by evaluation year, up to {self.year}",
            ),
        }


def build(
    year: int,
    evaluations: QuerySet[Evaluation],
    actions: QuerySet[KeyAction] | figures.Source,
    *,
    reader: Reader,
    scope: str = "All offices",
    on: dt.date,
    weeks: int = 6,
    listed: QuerySet[KeyAction] | None = None,
) -> AnnualReport:
    """The report from the evaluations and key actions in scope (already restricted to what `reader` reads).

    `actions`: the key actions, or a `figures.Source` (its figures from the kept counts where it can).
    `listed`: the same key actions (the same reader and filters) restricted row by row (`restrict(..., per_row=True)`),
    for the overdue list; without it, the list is read from `actions`.
    """
    source = actions if isinstance(actions, figures.Source) else figures.Source(actions, None)
    report = AnnualReport(year=year, scope=scope, on=on, weeks=weeks)
    of_year = evaluations.filter(year=year)
    report.evaluations = of_year.count()
    responses = restrict(reader, ManagementResponse).filter(evaluation__in=of_year)
    # COUNT(*), not of the ids: the responses' index of (status, evaluation) answers alone, not their wide rows (at L on
    # PostgreSQL, 8,500 of them read: 11 -> 4 ms).
    report.responses_by_status = dict(responses.order_by().values_list("status").annotate(n=Count("*")))
    report.timeliness = figures.timeliness(responses, weeks)
    report.categories = {
        (k or "Not given"): n
        for k, n in restrict(reader, Recommendation).filter(evaluation__in=of_year)
        .order_by()
        .values_list("category")
        .annotate(n=Count("*"))
    }
    due = source.due_by_end_of(year)
    # "Due" within the report means: due by the end of the year, whatever today is.
    as_at = min(on, dt.date(year, 12, 31))
    before = dt.date(year + 1, 1, 1)
    in_year = Q(completed_on__gte=dt.date(year, 1, 1), completed_on__lt=before)
    if source.tallied:
        # Every figure from the kept counts: no pass over the key actions.
        kept = source.accountability()
        report.due = due.totals(as_at, accountability=False)
        report.closure = source.closure(year)
        report.lateness = kept.lateness(year)
        report.outcomes = figures.outcomes(source.actions.filter(in_year), reader, row={"completed": kept.completed_in(year)})
        report.late = figures.accountability_only(kept.totals(on, ageing_only=True))
        # Overdue as of today among those due by the end of the year (the figures above are as of the year's end, or today).
        report.overdue_total = (report.due if as_at == on else due.totals(on, accountability=False)).overdue
    else:
        # Every figure the key actions themselves give, in one pass over them (each narrowed by its own condition).
        scan = (
            figures.Scan(source.actions)
            .add("due", due.row_aggregates(as_at, accountability=False), Q(deadline__lt=before))
            .add("late", figures.accountability_aggregates(on, ageing_only=True))
            .add("closure", figures.closure_aggregates(year))
            .add("lateness", figures.lateness_aggregates(), in_year)
            .add("outcomes", figures.outcome_aggregates(), in_year)
            .add("overdue", {"n": Count("pk", filter=overdue_q(on))}, Q(deadline__lt=before))
        )
        report.due = due.totals(as_at, row=scan["due"], accountability=False)
        report.closure = figures.Closure(year=year, **scan["closure"])
        report.lateness = figures.days_late(source.actions.filter(in_year), row=scan["lateness"])
        report.outcomes = figures.outcomes(source.actions.filter(in_year), reader, row=scan["outcomes"])
        report.late = figures.accountability_only(scan["late"])
        report.overdue_total = scan["overdue"]["n"]
    tables = due.breakdowns(["region", "office_type", "office", "year"], as_at)
    report.by_region, report.by_office_type, report.by_office = tables["region"], tables["office_type"], tables["office"]
    report.trend = [f for f in tables["year"] if f.key is not None and f.key <= year]
    # The list read down the deadline index, each row's response tested as it comes: joined, SQLite started from
    # the approved responses and sorted their 45,000 overdue actions to keep 500 (62 ms at L, 7 row by row).
    overdue = figures.overdue_actions(due.actions if listed is None else listed.filter(deadline__lt=before), on)
    report.overdue = figures.overdue_list(overdue, OVERDUE_LIST_LIMIT)
    return report
