"""Reading recurring recommendations: a recommendation's similar ones, and the portfolio of themes.

Reads only what `recurring.refresh_similarities` stored, through the reading
rules: a similar recommendation or a theme member its reader may not see is
left out, and counts, offices, years and rates are of what remains (computed
by the database, one GROUP BY each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast

from tracking import params as qp
from tracking import queries
from tracking.models import ActionTally, ActionUpdate, Office, Recommendation, TallySum
from tracking.models.responses import CLOSED_STATUSES, ActionStatus, month_start, today
from tracking.models.tallies import NO_DEADLINE, THEME, THEME_RECORDS, THEME_SPREAD, month_index, sums_current
from tracking.permissions import reader_scope, restrict

from .models import SimilarRecommendation, Theme, ThemeMember

COMPLETED = ActionStatus.COMPLETED.value
NLA = ActionStatus.NO_LONGER_APPLICABLE.value


def _next_month(day: dt.date) -> dt.date:
    return (month_start(day) + dt.timedelta(days=32)).replace(day=1)


@dataclass
class Fared:
    """How a recommendation's key actions fared."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    completed: int = 0
    completed_late: int = 0  # its first Completed update came after the deadline month


@dataclass
class Similar:
    recommendation: Recommendation
    score: float
    fared: Fared

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def fared(user, recommendation_ids: list[int], on: dt.date | None = None) -> dict[int, Fared]:
    """Key actions of these recommendations (a handful), with when each was first reported Completed."""
    on = on or today()
    out = {pk: Fared() for pk in recommendation_ids}
    # Reading rules: queries.visible_* wrap permissions.restrict.
    actions = queries.visible_actions(user).filter(recommendation_id__in=recommendation_ids).values_list(
        "pk", "recommendation_id", "status", "deadline"
    )
    rows = list(actions)
    done_at = dict(
        restrict(user, ActionUpdate).filter(key_action_id__in=[r[0] for r in rows], status_after=COMPLETED)
        .values("key_action_id")
        .annotate(first=Min("created_at"))
        .values_list("key_action_id", "first")
    )
    for pk, rec, status, deadline in rows:
        f = out[rec]
        f.total += 1
        f.by_status[status] = f.by_status.get(status, 0) + 1
        if deadline and status not in CLOSED_STATUSES and deadline < month_start(on):
            f.overdue += 1
        if status == COMPLETED:
            f.completed += 1
            first = done_at.get(pk)
            if deadline and first and first.date() >= _next_month(deadline):
                f.completed_late += 1
    return out


def similar_to(user, recommendation: Recommendation) -> list[Similar]:
    # Reading rules (queries.visible_* wrap permissions.restrict): recommendations are read through their evaluation.
    rows = list(
        SimilarRecommendation.objects.filter(recommendation_id=recommendation.pk).order_by("rank").values_list("similar_id", "score")
    )
    recs = restrict(user, Recommendation).filter(pk__in=[r[0] for r in rows]).select_related(
        "evaluation__office", "evaluation__plan"
    )
    by_pk = {r.pk: r for r in recs}
    how = fared(user, list(by_pk))
    return [Similar(by_pk[pk], score, how[pk]) for pk, score in rows if pk in by_pk]


def similar_version(recommendation_id: int) -> tuple:
    """Moves when its similar page may change (`similar_to`, `fared`): a change to the records of its evaluation or of
    the evaluations of the recommendations listed as similar to it (how their key actions fared, a response approved
    or returned), to reference data, or to the list: rewritten by the similarity job (new rows, new ids), or a listed
    recommendation gone (which of them are still there is part of the version, as in `queries.actions_version`).
    A progress update anywhere else keeps the page."""
    from django.db import connection

    q = connection.ops.quote_name
    recs, lists = q(Recommendation._meta.db_table), q(SimilarRecommendation._meta.db_table)
    # Two lookups by key, not one OR-ed: PostgreSQL read every recommendation for that (42 ms at L, not 1). `id + 0`: the
    # list's newest id among its rows, not the table's newest ids read down until one is the list's.
    held = (
        f"WITH listed (id, evaluation_id) AS MATERIALIZED (SELECT r.id, r.evaluation_id FROM {recs} r WHERE r.id = %s "
        f"UNION SELECT r.id, r.evaluation_id FROM {lists} s JOIN {recs} r ON r.id = s.similar_id WHERE s.recommendation_id = %s) "
    )
    also = ("(SELECT COUNT(*) FROM listed)", "(SELECT SUM(id) FROM listed)", f"(SELECT MAX(id + 0) FROM {lists} WHERE recommendation_id = %s)")
    return queries.newest_records(
        "SELECT DISTINCT evaluation_id FROM listed", [recommendation_id] * 3, "evaluation_id", held=held, also=also
    )


# --- the portfolio of themes -------------------------------------------------------------------------


@dataclass
class ThemeRow:
    theme: Theme
    label: str
    size: int
    evaluations: int
    offices: list[str]
    n_offices: int
    first_year: int
    last_year: int
    due: int = 0
    done: int = 0

    @property
    def implementation_rate(self) -> float | None:
        return self.done / self.due if self.due else None


@dataclass
class PortfolioFilters:
    office: int | None = None
    year_from: int | None = None
    year_to: int | None = None

    @classmethod
    def from_query(cls, params) -> PortfolioFilters:
        """Read with `tracking.params`: a value a filter cannot have is answered with 400."""
        return cls(office=qp.identifier(params, "office"), year_from=qp.year(params, "year_from"), year_to=qp.year(params, "year_to"))


def members(user, filters: PortfolioFilters):
    # Reading rules (queries.visible_* wrap permissions.restrict): theme members are read through their evaluation.
    # The filters narrow the evaluations read, in the one list of them the members are looked up from: beside it,
    # SQLite walked every visible evaluation's members to keep an office's (48 ms at L, not 8).
    evaluations = queries.visible_evaluations(user)
    if filters.office:
        evaluations = evaluations.filter(office_id=filters.office)
    if filters.year_from:
        evaluations = evaluations.filter(year__gte=filters.year_from)
    if filters.year_to:
        evaluations = evaluations.filter(year__lte=filters.year_to)
    return ThemeMember.objects.filter(recommendation__evaluation__in=evaluations)


def _kept(user, filters: PortfolioFilters) -> QuerySet[ActionTally] | None:
    """The kept counts of themes that answer for this reader and these filters (tracking.models.tallies.THEMES, kept
    in step with every change and with the similarity job's), or None: counted from the members (narrowed to an
    office or years, which the counts do not keep apart; a reader of some offices' drafts, whose distinct
    evaluations, offices and years do not add up from the approved ones')."""
    if filters.office or filters.year_from or filters.year_to:
        return None
    reader = reader_scope(user)
    if reader.internal and not reader.everything:
        return None
    return restrict(user, ActionTally)  # approved responses' counts, or (readers of every draft) all


def themes(user, filters: PortfolioFilters, *, internal: bool, theme_ids: list[int] | None = None, limit: int = 200,
           figures: bool = True) -> list[ThemeRow]:
    """Recurring themes (in two evaluations or more), most evaluations first, with their figures.

    `figures=False`: without their offices and implementation rates (zero, none), for a page to add to
    the rows it shows (`with_figures`): they read every key action of the themes' recommendations.
    """
    kept = _kept(user, filters)
    if kept is not None:
        rows = _kept_themes(kept, internal=internal, theme_ids=theme_ids, limit=limit)
        return with_figures(user, filters, rows) if figures else rows
    qs = members(user, filters)
    if theme_ids is not None:
        qs = qs.filter(theme_id__in=theme_ids)
    stats = list(
        qs.values("theme_id")
        .annotate(
            size=Count("recommendation_id"),
            evaluations=Count("recommendation__evaluation_id", distinct=True),
            n_offices=Count("recommendation__evaluation__office_id", distinct=True),
            first=Min("recommendation__evaluation__year"),
            last=Max("recommendation__evaluation__year"),
        )
        .filter(evaluations__gte=2)
        .order_by("-evaluations", "-size", "theme_id")[:limit]
    )
    if not stats:
        return []
    # Their labels only (their terms, JSON, were decoded for 200 themes a page).
    by_pk = Theme.objects.only("label", "public_label").in_bulk([s["theme_id"] for s in stats])
    rows = []
    for s in stats:
        theme = by_pk[s["theme_id"]]
        rows.append(
            ThemeRow(
                theme=theme,
                label=_label(theme, internal),
                size=s["size"],
                evaluations=s["evaluations"],
                offices=[],
                n_offices=s["n_offices"],
                first_year=s["first"],
                last_year=s["last"],
            )
        )
    return with_figures(user, filters, rows) if figures else rows


def _kept_themes(kept: QuerySet[ActionTally], *, internal: bool, theme_ids: list[int] | None, limit: int) -> list[ThemeRow]:
    """`themes` added up from the kept counts: each theme's recommendations and evaluations (two rows per theme: at
    L, 20,000 for 4,900 themes, not their 75,000 members' evaluations and offices). Their offices and years:
    `with_figures`, for the themes shown."""
    records = kept.filter(dimension=THEME_RECORDS)
    if theme_ids is not None:
        records = records.filter(group_key__in=[str(pk) for pk in theme_ids])
    ranked = list(
        records.order_by().values("group_key")
        # The theme as a number (ties in its order, as counted from the members) by an aggregate: grouped by it too,
        # SQLite grouped through a temporary index (at L, 20 ms for 4,900 themes, not 13).
        .annotate(size=Sum("n", filter=Q(status="r")), evaluations=Sum("n", filter=Q(status="e")), theme=Min(Cast("group_key", IntegerField())))
        .filter(evaluations__gte=2)
        .order_by("-evaluations", "-size", "theme")
        .values_list("theme", "size", "evaluations")[:limit]
    )
    by_pk = Theme.objects.only("label", "public_label").in_bulk([r[0] for r in ranked])
    return [
        ThemeRow(theme=by_pk[pk], label=_label(by_pk[pk], internal), size=size, evaluations=n, offices=[], n_offices=0,
                 first_year=0, last_year=0)
        for pk, size, n in ranked if pk in by_pk
    ]


def _label(theme: Theme, internal: bool) -> str:
    """Its label for people with a role, else the one of its approved members (drafts never show through)."""
    return (theme.label if internal else theme.public_label) or theme.label


FIRST_LOOK = 8  # offices looked up first for the themes' first three (`_kept_spread`)


def _kept_spread(kept: QuerySet[ActionTally], rows: list[ThemeRow]) -> tuple[dict[int, set[int]], list[tuple[int, str]]]:
    """The themes' numbers of offices and their years set on `rows`; their first three offices by name (ids) by theme,
    and the offices by name (id, name). From their kept counts of evaluations by office ("o<id>") and by year
    ("y<year>": tracking.models.tallies.theme_record).

    Added up by the database, not read row by row: the largest themes are in 120 offices and more, and reading
    their rows took 18 ms at L on SQLite (6,000 rows for a page of 50), adding them up 4 ms. Their first offices:
    looked up among the first few offices by name, then among the others for the themes still short of three (at L,
    one look-up of 400 index entries: nearly every large theme is in the first offices by name)."""
    groups = [str(r.theme.pk) for r in rows]
    spread = kept.filter(dimension=THEME_SPREAD, group_key__in=groups).order_by()
    office, year = Q(status__lt="p"), Q(status__gt="p")  # "o<id>" sorts before "p", "y<year>" after
    # Distinct: a reader of every draft reads some twice (approved and not).
    sums = spread.values("group_key").annotate(
        n_offices=Count("status", distinct=True, filter=office), first=Min("status", filter=year), last=Max("status", filter=year)
    )
    by_theme = {int(s.group_key): s for s in sums.values_list("group_key", "n_offices", "first", "last", named=True)}
    for row in rows:
        s = by_theme.get(row.theme.pk)
        row.n_offices = s.n_offices if s else 0
        row.first_year, row.last_year = (int(s.first[1:]), int(s.last[1:])) if s and s.first else (0, 0)
    wanted = {r.theme.pk: min(3, r.n_offices) for r in rows if r.n_offices}
    offices: dict[int, set[int]] = {}
    named = list(Office.objects.order_by("name").values_list("pk", "name"))
    by_name = [pk for pk, _ in named]
    # The first offices by name, then (for the themes short of three: small ones, of few rows) all the others. Both
    # asked whatever the data ("0", no theme's key, for none): the page's queries are as many at any scale
    # (tests/web/query_counts.json).
    # Not from `spread`: two lists of themes, PostgreSQL looked up neither and read the whole dimension (58,000 rows of
    # the covering index at L, 10 ms; 1 ms with one).
    themes = kept.filter(dimension=THEME_SPREAD).order_by()
    for look in (by_name[:FIRST_LOOK], by_name[FIRST_LOOK:]):
        found = themes.filter(group_key__in=[str(pk) for pk in wanted] or ["0"], status__in=[f"o{pk}" for pk in look] or ["o0"])
        for group, what in found.values_list("group_key", "status"):
            offices.setdefault(int(group), set()).add(int(what[1:]))
        wanted = {pk: n for pk, n in wanted.items() if len(offices.get(pk, ())) < n}
    return offices, named


def _kept_rates(user, kept: QuerySet[ActionTally], ids: list[int], on: dt.date) -> dict[int, dict]:
    """Each theme's key actions due by the end of `on`'s month (No Longer Applicable left out) and Completed among
    them, from the kept sums when they are as of that month, else added up from the counts by deadline month."""
    groups = [str(pk) for pk in ids]
    month = month_index(on)
    due, done = ~Q(status=NLA), Q(status=COMPLETED)
    if sums_current(month).exists():
        rows = restrict(user, TallySum).filter(dimension=THEME, group_key__in=groups).order_by().values("group_key").annotate(
            t_due=Sum("due", filter=due), t_done=Sum("due", filter=done)
        )
    else:
        dated = Q(deadline_month__gt=NO_DEADLINE, deadline_month__lte=month)
        rows = kept.filter(dimension=THEME, group_key__in=groups).order_by().values("group_key").annotate(
            t_due=Sum("n", filter=dated & due), t_done=Sum("n", filter=dated & done)
        )
    return {int(r["group_key"]): {"due": r["t_due"] or 0, "done": r["t_done"] or 0} for r in rows}


def with_figures(user, filters: PortfolioFilters, rows: list[ThemeRow]) -> list[ThemeRow]:
    """`rows` with their first offices (three, by name) and implementation rates (two queries for them all)."""
    if not rows:
        return rows
    ids = [r.theme.pk for r in rows]
    kept = _kept(user, filters)
    if kept is not None:
        offices, named = _kept_spread(kept, rows)
        rates = _kept_rates(user, kept, ids, today())
    else:
        rates, offices = _counted_figures(user, filters, ids)
        # In the database's order of names (its collation, as the list was sorted before).
        named = list(Office.objects.filter(pk__in=set().union(*offices.values())).order_by("name").values_list("pk", "name"))
    for row in rows:
        rate = rates.get(row.theme.pk, {})
        row.due, row.done = rate.get("due", 0), rate.get("done", 0)
        theirs = offices.get(row.theme.pk, set())
        row.offices = [name for pk, name in named if pk in theirs][:3]
    return rows


def _counted_figures(user, filters: PortfolioFilters, ids: list[int]) -> tuple[dict[int, dict], dict[int, set[int]]]:
    """The themes' rates ("due", "done") and offices (ids), counted from their members' key actions and evaluations."""
    qs = members(user, filters)
    if filters.office:
        # An office's members found from its evaluations, the themes checked on each (`+ 0`: not looked up by
        # theme): the page's themes are the largest, whose members, read whole, were mostly other offices'
        # (at L, 40 ms for the rates of an office's page).
        qs = qs.alias(theme_key=F("theme_id") + 0).filter(theme_key__in=ids)
    else:
        qs = qs.filter(theme_id__in=ids)
    on = today()
    due = Q(recommendation__key_actions__deadline__lt=_next_month(on)) & ~Q(recommendation__key_actions__status=NLA)
    rates = {
        r["theme_id"]: r
        for r in qs.values("theme_id").annotate(
            due=Count("recommendation__key_actions", filter=due),
            done=Count("recommendation__key_actions", filter=due & Q(recommendation__key_actions__status=COMPLETED)),
        )
    }
    # Each theme's offices by id, named by the caller: joining every member's office for its name cost 40% more.
    offices: dict[int, set[int]] = {}
    for theme_id, office_id in qs.values_list("theme_id", "recommendation__evaluation__office_id").distinct().order_by():
        offices.setdefault(theme_id, set()).add(office_id)
    return rates, offices


def theme_members(user, theme: Theme, filters: PortfolioFilters):
    """The theme's recommendations the reader may see, most typical first."""
    ids = members(user, filters).filter(theme=theme).order_by("-closeness", "recommendation_id").values_list(
        "recommendation_id", flat=True
    )
    order = {pk: i for i, pk in enumerate(ids)}
    recs = sorted(
        restrict(user, Recommendation).filter(pk__in=list(order)).select_related("evaluation__office", "evaluation__plan"),
        key=lambda r: order[r.pk],
    )
    return recs


def offices_in_themes(user) -> list[Office]:
    """The offices whose visible recommendations are in a theme (for the filter).

    Asked of each office (has it a visible evaluation with a recommendation in a theme? looks that stop at the
    first), not of each visible evaluation, nor gathered from every member of every theme: at L, ~100 offices'
    first evaluations looked at, not 8,500 evaluations (12 ms), nor 75,000 members (48 ms)."""
    themed = ThemeMember.objects.filter(recommendation__evaluation_id=OuterRef("pk"))
    evaluations = queries.visible_evaluations(user).filter(office_id=OuterRef("pk")).filter(Exists(themed))
    return list(Office.objects.filter(Exists(evaluations)).only("name").order_by("name"))
