"""Shapes of what pages read: counts, filters, pages of rows, figures, data versions.

What a person may read is not decided here: every list, page, export and
figure starts from `tracking.permissions.restrict(who, Model)` (deny by
default) and these functions shape the querysets it gives.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, fields

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.sql.where import WhereNode

from . import params as qp
from .models import (
    ActionTally,
    ActionUpdate,
    Evaluation,
    KeyAction,
    Office,
    Recommendation,
    RecommendationTerm,
    Region,
)
from .models.responses import CLOSED_STATUSES, ActionStatus, ResponseStatus, overdue_q, today
from .models.tallies import EVALUATIONS, RECOMMENDATIONS, month_index
from .permissions import reader_scope, restrict


# Thin wrappers of `restrict`, kept for code written before it (new code reads through it directly).
def visible_evaluations(who) -> QuerySet[Evaluation]:
    return restrict(who, Evaluation)


def visible_actions(who) -> QuerySet[KeyAction]:
    return restrict(who, KeyAction)


def visible_updates(who) -> QuerySet[ActionUpdate]:
    return restrict(who, ActionUpdate)


def is_internal(who) -> bool:
    """Does this reader read internal records (drafts in scope, who reported, the history)?"""
    return reader_scope(who).internal


def _count(model, on: dt.date | None = None, overdue: bool = False, key: str = "evaluation"):
    rows = model.objects.filter(**{key: OuterRef("pk")})
    if overdue:
        rows = rows.filter(overdue_q(on))
    rows = rows.order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def with_counts(qs: QuerySet[Evaluation], on: dt.date | None = None) -> QuerySet[Evaluation]:
    """Recommendation, key action and overdue counts, one subquery each (no N+1)."""
    return qs.annotate(
        n_recommendations=_count(Recommendation),
        n_key_actions=_count(KeyAction),
        n_overdue=_count(KeyAction, on, overdue=True),
    )


def evaluation_page(qs: QuerySet[Evaluation], *, page: bool = False, units: bool = True) -> QuerySet[Evaluation]:
    """Everything the evaluation page shows, in a fixed number of queries.

    `page`: for the page's body only (web.views.portal.evaluation_body_html, which reads the updates itself, as
    rows), read as plain lists rather than managers (`page_recommendations`, each with `page_tags` and
    `page_actions`), without what the body never shows (the import baselines, each action's own copy of the
    evaluation) and, without `units`, the actions' units (only the progress links read them): every related
    manager's `.all()` made a queryset and every JSON baseline was decoded, ~100 times a page, for nothing.
    """
    if not page:
        return qs.select_related(
            "office__type", "office__region", "plan__office", "management_response"
        ).prefetch_related(
            "management_response__units",
            Prefetch(
                "recommendations",
                queryset=Recommendation.objects.order_by("position").prefetch_related(
                    Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
                    Prefetch(
                        "key_actions",
                        queryset=KeyAction.objects.select_related("evaluation__management_response", "outcome")
                        .order_by("position")
                        .prefetch_related("units", Prefetch("updates", queryset=ActionUpdate.objects.order_by("-created_at", "-id"))),
                    ),
                ),
            ),
        )
    actions = KeyAction.objects.select_related("outcome").defer("imported").order_by("position")
    if units:
        actions = actions.prefetch_related("units")
    return qs.select_related("management_response").prefetch_related(
        Prefetch(
            "recommendations",
            queryset=Recommendation.objects.defer("imported").order_by("position").prefetch_related(
                Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position"), to_attr="page_tags"),
                Prefetch("key_actions", queryset=actions, to_attr="page_actions"),
            ),
            to_attr="page_recommendations",
        ),
    )


def search_filter(text: str) -> Q:
    return Q(title__icontains=text) | Q(office__name__icontains=text)


# --- filters shared by evaluation and key action lists ------------------------------------


@dataclass
class Filters:
    """The filters a list page accepts, read from its query string (bad values are ignored)."""

    q: str = ""
    region: int | None = None
    office: int | None = None
    office_type: str = ""
    year: int | None = None
    category: str = ""
    thematic_area: int | None = None
    status: str = ""
    response_status: str = ""
    overdue: bool = False
    due: bool = False  # the deadline month has come (No Longer Applicable left out)
    term: int | None = None  # a tag of any vocabulary
    unit: int | None = None
    evaluation: int | None = None
    type: str = ""  # the evaluation's type (country portfolio, thematic, joint ...)
    quality: str = ""  # the report's quality rating

    @classmethod
    def from_query(cls, params) -> Filters:
        """Read with `tracking.params`: a value a filter cannot have is answered with 400 (BadParameter)."""
        return cls(
            q=qp.text(params, "q", 200),
            region=qp.identifier(params, "region"),
            office=qp.identifier(params, "office"),
            office_type=qp.text(params, "office_type", 10),
            year=qp.year(params),
            category=qp.text(params, "category", 40),
            thematic_area=qp.identifier(params, "thematic_area"),
            status=qp.text(params, "status", 40),
            response_status=qp.text(params, "response_status", 30),
            overdue=qp.flag(params, "overdue"),
            due=qp.flag(params, "due"),
            term=qp.identifier(params, "term"),
            unit=qp.identifier(params, "unit"),
            evaluation=qp.identifier(params, "evaluation"),
            type=qp.choice(params, "type", Evaluation.Type.values),
            quality=qp.choice(params, "quality", Evaluation.Quality.values),
        )

    @property
    def narrows(self) -> bool:
        """Does any filter narrow the list (else it holds everything its reader reads)?"""
        return any(getattr(self, f.name) for f in fields(self))

    @property
    def region_only(self) -> int | None:
        """The region, when it is the one filter given (its figures are kept: `tracking.models.tallies.crossed`)."""
        return None if any(getattr(self, f.name) for f in fields(self) if f.name != "region") else self.region

    def evaluations(self, qs: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
        if self.q:
            qs = qs.filter(search_filter(self.q))
        if self.region:
            qs = qs.filter(office__region_id=self.region)
        if self.office:
            qs = qs.filter(office_id=self.office)
        if self.office_type:
            qs = qs.filter(office__type__code=self.office_type)
        if self.year:
            qs = qs.filter(year=self.year)
        if self.type:
            qs = qs.filter(type=self.type)
        if self.quality:
            qs = qs.filter(quality=self.quality)
        if self.response_status:
            qs = qs.filter(management_response__status=self.response_status)
        if self.category:
            qs = qs.filter(pk__in=Recommendation.objects.filter(category=self.category).values("evaluation_id"))
        for term in (self.thematic_area, self.term):
            if term:
                qs = qs.filter(pk__in=Recommendation.objects.filter(tags__term_id=term).values("evaluation_id"))
        if self.status:
            qs = qs.filter(pk__in=KeyAction.objects.filter(status=self.status).values("evaluation_id"))
        return qs

    def actions(self, qs: QuerySet[KeyAction], on: dt.date | None = None) -> QuerySet[KeyAction]:
        if self.q:
            qs = qs.filter(Q(text__icontains=self.q) | Q(responsible__icontains=self.q))
        if self.region:
            qs = qs.filter(evaluation__office__region_id=self.region)
        if self.office:
            qs = qs.filter(evaluation__office_id=self.office)
        if self.office_type:
            qs = qs.filter(evaluation__office__type__code=self.office_type)
        if self.year:
            qs = qs.filter(evaluation__year=self.year)
        if self.type:
            qs = qs.filter(evaluation__type=self.type)
        if self.quality:
            qs = qs.filter(evaluation__quality=self.quality)
        if self.category:
            qs = qs.filter(recommendation__category=self.category)
        for term in (self.thematic_area, self.term):
            if term:
                qs = qs.filter(recommendation_id__in=RecommendationTerm.objects.filter(term_id=term).values("recommendation_id"))
        if self.status:
            qs = qs.filter(status=self.status)
        if self.response_status:
            qs = qs.filter(evaluation__management_response__status=self.response_status)
        if self.overdue:
            qs = qs.overdue(on)
        if self.due:
            qs = qs.due(on)
        if self.unit:
            qs = qs.filter(pk__in=KeyAction.units.through.objects.filter(unit_id=self.unit).values("keyaction_id"))
        if self.evaluation:
            qs = qs.filter(evaluation_id=self.evaluation)
        return qs


# What a row of an action list shows (web/action_rows.py, web/workspace.html), and no more: the whole rows of four
# tables (texts, import baselines decoded from JSON, dates converted one by one) were a quarter of my actions' time.
ACTION_LIST_COLUMNS = (
    "recommendation_id", "evaluation_id", "number", "text", "responsible", "deadline", "status", "verification",
    "recommendation__number",
    # An untitled evaluation is named by its office and plan.
    "evaluation__title", "evaluation__office_id", "evaluation__plan_id", "evaluation__office__name",
    "evaluation__plan__start_year", "evaluation__plan__end_year",
)


def action_list(qs: QuerySet[KeyAction]) -> QuerySet[KeyAction]:
    """What an action list row shows, in one query (no row shows the units: they are not read)."""
    return qs.select_related("evaluation__office", "evaluation__plan", "recommendation").only(*ACTION_LIST_COLUMNS)


# --- keyset ("seek") pagination: as fast on page 4,000 as on page 1 ---------------------------


def first_rows(qs: QuerySet, n: int, *, values: tuple[str, ...] = ()) -> list:
    """The first `n` rows of an ordered queryset: their ids sorted first, on narrow rows, then those rows read
    whole with what they show (its select_related and prefetches), or, given `values` (field names, "pk" first),
    as tuples of those. Sorting 50,000 whole rows (texts and joined records) to keep 51 took 80 ms at L, the ids
    alone a fraction."""
    return _whole(qs, list(qs.values_list("pk", flat=True)[:n]), values)


def _whole(qs: QuerySet, readable_ids: list, values: tuple[str, ...] = ()) -> list:
    """The rows of `readable_ids` read whole through `qs` (its annotations, select_related and prefetches), in that
    order. Only for ids chosen through `qs` itself a moment ago (`first_rows`, `page_of`, `recent_updates`): the
    reading rules are not applied again.

    By their ids alone: with `qs`'s filters again, SQLite read the rows through the widest of them (a unit's 1,700
    key actions, to keep 50: 6 ms at L), not through the ids. The filters stay where leaving them out could change
    the rows: an aggregate's, or a join to many (each row once per joined row). A row whose evaluation stopped
    being readable between the two statements (milliseconds) is still shown, as it would have been a moment before.
    """
    whole = qs.order_by()
    if whole.query.is_empty():  # deny by default (`restrict`'s none()) is in the WHERE too
        return []
    joins = [getattr(j, "join_field", None) for j in whole.query.alias_map.values()]
    if whole.query.group_by is None and not any(f is not None and (f.many_to_many or f.one_to_many) for f in joins):
        whole.query.where = WhereNode()
    if values:
        assert values[0] == "pk", values
        by_id = {row[0]: row for row in whole.filter(pk__in=readable_ids).values_list(*values)}
    else:
        by_id = whole.filter(pk__in=readable_ids).in_bulk()
    return [by_id[pk] for pk in readable_ids if pk in by_id]


def page_of(qs: QuerySet, number, size: int, count: int | None = None):
    """A Paginator page of an ordered queryset, its rows read as `first_rows` reads them: the page's ids sorted on
    narrow rows, then those rows whole (with their annotations, select_related and prefetches). Sorted whole, each
    row's joined records and annotations (an evaluation's three counts) were computed for every row before the
    sort kept 50. `count`: the number of rows, when the caller knows it already (not counted again)."""
    from django.core.paginator import Paginator

    paginator = Paginator(qs.values_list("pk", flat=True), size)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is not computed
    page = paginator.get_page(number)
    page.object_list = _whole(qs, list(page.object_list))
    return page


def seek(qs: QuerySet[KeyAction], after: str | None, size: int, *, walk: bool = True) -> tuple[list[KeyAction], str | None]:
    """One page of actions by deadline (none last), then id; `after` is the previous page's cursor.

    `walk`: in the deadline index (key_action_list_order), as far as the page's rows are found: for many rows,
    spread over the deadlines. Else the rows are sorted, the database starting from the narrowest filter (an
    office's or a year's evaluations, a unit's actions): walking the deadlines to find a year's Completed actions
    read 66,000 entries at L for 51 rows, all late in the index (PostgreSQL 46 ms, sorted 8 ms).
    """
    deadline = F("deadline") if walk else Coalesce("deadline", "deadline")  # the same order, that no index gives
    qs = qs.order_by(deadline.asc(nulls_last=True), "pk")
    if after:
        try:
            raw_date, raw_pk = after.split("_")
            pk = int(raw_pk)
            deadline = dt.date.fromisoformat(raw_date) if raw_date != "none" else None
        except ValueError:
            deadline, pk = None, None
        if pk is not None:
            if deadline is None:
                qs = qs.filter(deadline__isnull=True, pk__gt=pk)
            else:
                qs = qs.filter(
                    Q(deadline__gt=deadline) | Q(deadline=deadline, pk__gt=pk) | Q(deadline__isnull=True)
                )
    rows = first_rows(qs, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    cursor = None
    if more and rows:
        last = rows[-1]
        cursor = f"{last.deadline.isoformat() if last.deadline else 'none'}_{last.pk}"
    return rows, cursor


# --- figures -------------------------------------------------------------------------------


def status_figures(actions: QuerySet[KeyAction], on: dt.date | None = None) -> dict:
    """Key actions by status and overdue, counted by the database (one GROUP BY, one COUNT)."""
    by_status = dict(actions.order_by().values_list("status").annotate(n=Count("pk")))
    overdue = actions.overdue(on).count()
    known = {s: by_status.pop(s, 0) for s in ActionStatus.values}
    return {"by_status": known, "other_statuses": by_status, "total": sum(known.values()) + sum(by_status.values()), "overdue": overdue}


def counted_status_figures(who, office: Office | None = None, on: dt.date | None = None) -> dict:
    """`status_figures` of what `who` reads (of one office), from the counts kept beside the key actions.

    One small GROUP BY of `ActionTally`; a reader of some offices' drafts has those drafts counted from the key actions.
    """
    tallies = restrict(who, ActionTally)
    tallies = tallies.filter(dimension="office", group_key=str(office.pk)) if office else tallies.filter(dimension="all")
    overdue = Q(deadline_month__gt=0, deadline_month__lt=month_index(on or today())) & ~Q(status__in=CLOSED_STATUSES)
    rows = tallies.order_by().values("status").annotate(actions=Sum("n"), overdue=Sum("n", filter=overdue))
    by_status: dict[str, int] = {}
    n_overdue = 0
    for r in rows:
        by_status[r["status"]] = r["actions"]
        n_overdue += r["overdue"] or 0
    reader = reader_scope(who)
    if reader.internal and not reader.everything:
        drafts = restrict(who, KeyAction).filter(reader.drafts_q("evaluation__")).exclude(
            evaluation__management_response__status=ResponseStatus.APPROVED
        )
        if office:
            drafts = drafts.filter(evaluation__office=office)
        # Counted and their overdue ones with them, in one pass.
        for status, n, late in drafts.order_by().values_list("status").annotate(n=Count("pk"), late=Count("pk", filter=overdue_q(on))):
            by_status[status] = by_status.get(status, 0) + n
            n_overdue += late
    known = {s: by_status.pop(s, 0) for s in ActionStatus.values}
    return {"by_status": known, "other_statuses": by_status, "total": sum(known.values()) + sum(by_status.values()), "overdue": n_overdue}


def offices_read(who) -> QuerySet[Office]:
    """The offices with an evaluation `who` reads (a filter's choices), by name: for each office, the first such
    evaluation found in the office's index ends the look (listing every readable evaluation's office first cost
    5 ms at L)."""
    from django.db.models import Exists

    return Office.objects.filter(Exists(restrict(who, Evaluation).filter(office=OuterRef("pk")))).order_by("name")


def home_counts(who) -> tuple[int, int]:
    """The evaluations and the recommendations `who` reads, a joint evaluation once, with its shared recommendations.

    Those of no joint evaluation or leading one, and the recommendations not copied from another, are counted
    beside them (tracking.services.tallies records; counted from the rows, 10 and 7 to 12 ms at L): of approved
    responses, or all for a reader of every draft, plus the drafts of their offices a reader of some reads, counted
    from the rows (few). Then each lead, and each lead recommendation, the reader reaches only through its partners.
    """
    kept = dict(
        restrict(who, ActionTally).filter(dimension__in=[EVALUATIONS, RECOMMENDATIONS])
        .order_by().values_list("dimension").annotate(n=Sum("n"))
    )
    evaluations, recommendations = kept.get(EVALUATIONS) or 0, kept.get(RECOMMENDATIONS) or 0
    reader = reader_scope(who)
    if not reader.everything and (reader.offices or reader.regions):
        drafts = restrict(who, Evaluation).filter(reader.drafts_q()).exclude(management_response__status=ResponseStatus.APPROVED)
        evaluations += drafts.filter(joint_lead__isnull=True).count()
        recommendations += Recommendation.objects.filter(shared_from__isnull=True, evaluation__in=drafts.values("pk")).count()
    # Partners and copies are few (most databases have none): one look in each index spares the counts.
    if Evaluation.objects.filter(joint_lead__isnull=False).exists():
        readable = restrict(who, Evaluation)
        partners = readable.filter(joint_lead__isnull=False)
        evaluations += partners.exclude(joint_lead__in=readable.values("pk")).values("joint_lead").distinct().count()
    if Recommendation.objects.filter(shared_from__isnull=False).exists():
        readable = restrict(who, Recommendation)
        copies = readable.filter(shared_from__isnull=False).exclude(shared_from__in=readable.values("pk"))
        recommendations += copies.values("shared_from").distinct().count()
    return evaluations, recommendations


RECENT_WINDOW = 200


def recent_updates(who, n: int = 10) -> list[ActionUpdate]:
    """The `n` newest progress updates `who` reads, with what a row shows.

    Read among the newest updates first (an index walk, no join over all of them), then, only when
    fewer than `n` of those are readable, among all: ordering 600,000 updates joined to their
    responses to keep ten costs hundreds of milliseconds; a window of the newest costs one.
    """
    visible = restrict(who, ActionUpdate).order_by("-created_at", "-id")
    window = list(ActionUpdate.objects.order_by("-created_at", "-id").values_list("pk", flat=True)[:RECENT_WINDOW])
    ids = list(visible.filter(pk__in=window).values_list("pk", flat=True)[:n])
    if len(ids) < n and len(window) == RECENT_WINDOW:
        ids = list(visible.values_list("pk", flat=True)[:n])
    # Then the rows, whole, by id: planning the reading rules' joins, what a row shows and the window's 200 ids
    # in one statement cost PostgreSQL 15 ms, three times its running.
    return _whole(
        visible.select_related(
            "key_action__evaluation__office", "key_action__evaluation__plan", "key_action__recommendation"
        ),
        ids,
    )


def regions_with_counts(who) -> QuerySet[Region]:
    """Regions with their offices and the evaluations `who` reads."""
    evaluations = restrict(who, Evaluation).filter(office__region=OuterRef("pk")).order_by().values("office__region")
    offices = Office.objects.filter(region=OuterRef("pk")).order_by().values("region").annotate(n=Count("pk")).values("n")
    return Region.objects.annotate(
        n_offices=Coalesce(Subquery(offices, output_field=IntegerField()), Value(0)),
        n_evaluations=Coalesce(
            Subquery(evaluations.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0)
        ),
    ).order_by("position", "name")


def evaluations_by(who, field: str, choices) -> list[tuple[str, str, int]]:
    """(value, label, number of evaluations `who` reads) for each choice of an evaluation field, in its order."""
    counts = dict(restrict(who, Evaluation).order_by().values_list(field).annotate(n=Count("pk")).values_list(field, "n"))
    return [(value, label, counts.get(value, 0)) for value, label in choices]


def headquarters_with_counts(who) -> QuerySet[Office]:
    """The headquarters units (offices of type HQ) with the number of evaluations `who` reads."""
    evaluations = restrict(who, Evaluation).filter(office=OuterRef("pk")).order_by().values("office")
    return (
        Office.objects.filter(type__code="HQ")
        .annotate(
            n_evaluations=Coalesce(Subquery(evaluations.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0))
        )
        .order_by("name")
    )


def offices_with_counts(who, region: Region) -> QuerySet[Office]:
    """The offices of a region with the number of evaluations `who` reads."""
    evaluations = restrict(who, Evaluation).filter(office=OuterRef("pk")).order_by().values("office")
    return (
        Office.objects.filter(region=region)
        .select_related("type")
        .annotate(
            n_evaluations=Coalesce(
                Subquery(evaluations.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0)
            )
        )
        .order_by("type__position", "name")
    )


# --- versions of the data, for caches --------------------------------------------------------
#
# Every change of a tracked record writes a ChangeRecord (services, imports, the
# admin), so the newest record's id moves whenever what a page shows may change.


@contextmanager
def planned_for_their_values():
    """PostgreSQL: the statements run inside are planned for their own values each time, never prepared.

    A prepared statement is planned once for any values (followthrough.settings, POSTGRES_PREPARE): right for a
    page's many short statements, wrong for the figures' aggregates over tens of thousands of key actions, whose
    best plan depends on the region or year asked for (at L, a region's dashboard 302 -> 372 ms of SQL prepared).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    threshold = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = threshold


def data_version() -> int:
    """Moves on any change anywhere (one indexed MAX)."""
    from .models import ChangeRecord

    return newest_pk(ChangeRecord)


def newest_pk(model) -> int:
    """The newest row's id (0: none), read down the primary key: moves whenever a row is added."""
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def newest_records(evaluations: str, params, column: str = "id", *, held: str = "", also: tuple[str, ...] = ()) -> tuple:
    """The newest change record among `evaluations` (SQL of a column of evaluation ids, with its `params`) and
    the newest record of reference data (0: none). One probe per evaluation down the (evaluation, id) index:
    a MAX over all their records would read each evaluation's whole history (an office's tens of thousands).
    `held`: a WITH clause the statement starts with; `also`: more expressions read in the same statement
    (their values follow the two)."""
    from django.db import connection

    from .models import ChangeRecord

    table = connection.ops.quote_name(ChangeRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{held}SELECT (SELECT MAX((SELECT MAX(r.id) FROM {table} r WHERE r.evaluation_id = v.{column})) FROM ({evaluations}) v), "
            f"(SELECT MAX(id) FROM {table} WHERE evaluation_id IS NULL)" + "".join(f", {e}" for e in also),
            params,
        )
        own, reference, *rest = cursor.fetchone()
    return own or 0, reference or 0, *rest


def evaluation_version(evaluation_id: int) -> tuple[int, int]:
    """Moves on a change to this evaluation's records, or to reference data (offices, units, vocabularies).

    For a joint evaluation, a change to any partner's records moves it too (its page names the partners
    whose responses its reader reads: a partner's approval changes it).
    """
    from django.db import connection

    evaluations = connection.ops.quote_name(Evaluation._meta.db_table)
    group = (
        f"SELECT e.id FROM {evaluations} e, (SELECT COALESCE(joint_lead_id, id) AS lead FROM {evaluations} WHERE id = %s) g "
        f"WHERE e.id = g.lead OR e.joint_lead_id = g.lead"
    )
    return newest_records(group, [evaluation_id])


def office_version(office_id: int) -> tuple[int, int]:
    """Moves on a change to the records of this office's evaluations, or to reference data."""
    from django.db import connection

    evaluations = connection.ops.quote_name(Evaluation._meta.db_table)
    return newest_records(f"SELECT e.id FROM {evaluations} e WHERE e.office_id = %s", [office_id])


def actions_version(actions: QuerySet[KeyAction]) -> tuple[int, int, int, int]:
    """Moves on a change to the records of the evaluations `actions` are in, to which actions those are, or to
    reference data: a list of some key actions (a person's) keeps through the changes of every other evaluation.

    The evaluations are those of the actions now: an action moved out of the set took its evaluation's
    changes with it, so the set itself (how many, which) is part of the version.
    """
    # Each action once (the reading rules may join its units: an action of two of them comes twice), read once
    # for the three: a person's actions counted, summed and their evaluations probed in one pass, not three.
    try:
        sql, params = actions.order_by().values("pk", "evaluation_id").distinct().query.sql_with_params()
    except EmptyResultSet:  # a reader who may change no action
        sql, params = "SELECT 0, 0 WHERE 1 = 0", ()
    own, reference, n, ids = newest_records(
        "SELECT DISTINCT evaluation_id FROM held", params, "evaluation_id",
        held=f"WITH held (id, evaluation_id) AS MATERIALIZED ({sql}) ", also=("(SELECT COUNT(*) FROM held)", "(SELECT SUM(id) FROM held)"),
    )
    return own, reference, n, ids or 0
