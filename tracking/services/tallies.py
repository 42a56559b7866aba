"""Keeping `ActionTally` in step with the key actions: the one place that writes it.

Every service that changes what a figure counts (a key action's status or
deadline, its recommendation's category or tags, a response's status, key
actions added or deleted, documents imported) runs its change inside
`kept_in_step(...)`, inside its transaction: the counts of the evaluations
(or key actions) it touches are made before and after the change, from the
rows themselves, and the difference is added to the kept counts in the same
transaction (an upsert per changed count, in a fixed order). So a change
that commits carries its counts with it, and one that rolls back leaves
them as they were.

Beside the key actions, two counts of records for the home page (`records`):
evaluations and recommendations, of approved responses and the rest, a
joint evaluation once. They follow the same changes (`kept_in_step` with the
evaluations' ids).

The recurring themes' counts (`THEMES`) follow the same changes, and the
similarity job's: it writes which theme each recommendation is in inside `themes_moving`
(through the signal `tracking.signals.themes_changing`: the job is a reading door that calls no
service). A theme is found through the job's own table (`ThemeMember`, whose reverse relation
from the recommendation is `theme_membership`): nothing is written twice.

Beside the counts, their sums over the deadline months as of one month
(`TallySum`, what the figures read): `add` moves them with the counts, in
the same transaction; `make_sums` makes them again from the counts, once a
new month has begun (an hourly job) and after `rebuild`.

`rebuild()` counts everything again (after changes made behind the
services' back: SQL by hand; `followthrough tallies`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import BooleanField, Case, Count, F, Q, Value, When

from ..models import ActionTally, Evaluation, KeyAction, ManagementResponse, Recommendation, TallySum
from ..models.accountability import VerificationState
from ..models.responses import ActionStatus, ResponseStatus, today
from ..models.tallies import (
    ACCOUNTABILITY,
    AS_OF,
    CROSSED,
    EVALUATIONS,
    LONG_OVERDUE_MONTHS,
    NO_DEADLINE,
    RECOMMENDATIONS,
    THEME,
    THEME_RECORDS,
    THEME_SPREAD,
    THEMES,
    VERSION,
    MonthIndex,
    accountability_group,
    crossed,
    is_verified,
    month_index,
    sums_month,  # noqa: F401 (the sums' month, read by the command and the job through this module)
    theme_record,
)
from . import bulk

# The dimensions of the plain counts: where each is on a key action.
PLAIN = {
    "region": "evaluation__office__region_id",
    "office": "evaluation__office_id",
    "office_type": "evaluation__office__type__code",
    "year": "evaluation__year",
    "category": "recommendation__category",
}
# Where a key action's recurring theme is: the similarity job's table (search.ThemeMember), from the recommendation.
THEME_PATH = "recommendation__theme_membership__theme_id"
Key = tuple[str, str, bool, str, int, bool]  # (dimension, key, approved, status, deadline month, verified)
KEY = ("dimension", "group_key", "approved", "status", "deadline_month", "verified")  # its columns


def _common() -> dict:
    """What every count of key actions is kept apart by, beside its group: approved or not, deadline month, status,
    verified or not."""
    approved = Case(
        When(evaluation__management_response__status=ResponseStatus.APPROVED, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    verified = Case(
        When(status=ActionStatus.COMPLETED, verification=VerificationState.VERIFIED, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    return {"ok": approved, "month": MonthIndex("deadline"), "st": F("status"), "ver": verified}


def counts(actions) -> Counter:
    """The counts of these key actions, every dimension (three GROUP BYs).

    `actions` may be a historical model's queryset (the migration that rebuilds the counts).
    """
    common = _common()
    approved, verified, region = common["ok"], common["ver"], F(PLAIN["region"])
    out: Counter = Counter()
    # The recurring theme in the same pass (not a migration's historical model, older than the themes' counts).
    paths = {**PLAIN, "theme": THEME_PATH} if actions.model is KeyAction else PLAIN
    plain = actions.order_by().annotate(**common, **{f"d_{d}": F(path) for d, path in paths.items()})
    for r in plain.values("ok", "month", "st", "ver", *(f"d_{d}" for d in paths)).annotate(n=Count("pk")):
        tail = _tail(r["ok"], r["st"], r["month"], r["ver"])
        _count_plain(out, tail, {d: r[f"d_{d}"] for d in PLAIN}, r["n"])
        if r.get("d_theme") is not None:  # most key actions are in no theme: no count
            out[(THEME, str(r["d_theme"]), *tail)] += r["n"]
    # Tags: one dimension per vocabulary (thematic_area, operating_principle, ...), the term's id as the group.
    tagged = actions.order_by().filter(recommendation__tags__isnull=False).annotate(
        **common, term=F("recommendation__tags__term_id"), kind=F("recommendation__tags__term__kind"), reg=region
    )
    for r in tagged.values("ok", "month", "st", "ver", "term", "kind", "reg").annotate(n=Count("pk")):
        _count(out, r["kind"], str(r["term"]), _tail(r["ok"], r["st"], r["month"], r["ver"]), r["n"], r["reg"])
    # The first deadline and the completion date: grouped by their values, each row's group made here, by the
    # same function as `count_responses` (dates to months, years and days late: the same in both databases).
    dated = actions.order_by().exclude(status=ActionStatus.NO_LONGER_APPLICABLE).annotate(ok=approved, ver=verified, reg=region)
    for r in dated.values("ok", "status", "ver", "deadline", "first_deadline", "completed_on", "reg").annotate(n=Count("pk")):
        _count_accountability(
            out, r["ok"], r["status"], r["ver"], r["deadline"], r["first_deadline"], r["completed_on"], r["n"], r["reg"]
        )
    return out


def _theme_counts(actions, common: dict) -> Counter:
    """`THEME` alone: the key actions of recommendations in a recurring theme."""
    out: Counter = Counter()
    themed = actions.order_by().filter(recommendation__theme_membership__isnull=False).annotate(**common, theme=F(THEME_PATH))
    for r in themed.values("ok", "month", "st", "ver", "theme").annotate(n=Count("pk")):
        out[(THEME, str(r["theme"]), *_tail(r["ok"], r["st"], r["month"], r["ver"]))] += r["n"]
    return out


def _count(out: Counter, dimension: str, group: str, tail: tuple, n: int, region: int | None = None) -> None:
    """`n` key actions in a group of a dimension, and in the same group of the dimension within their region if given."""
    out[(dimension, group, *tail)] += n
    if region is not None:
        out[(crossed(dimension, region), group, *tail)] += n


def _count_accountability(out: Counter, approved, status: str, verified, deadline, first_deadline, completed_on, n: int,
                          region: int | None) -> None:
    found = accountability_group(status, deadline, first_deadline, completed_on)
    if found is not None:
        group, month = found
        _count(out, ACCOUNTABILITY, group, (bool(approved), status, month, bool(verified)), n, region)


def _tail(approved, status: str, month: int | None, verified) -> tuple:
    return (bool(approved), status, month or NO_DEADLINE, bool(verified))


def _count_plain(out: Counter, tail: tuple, values: dict, n: int) -> None:
    out[("all", "", *tail)] += n
    region = values["region"]
    for d in PLAIN:
        value = values[d]
        _count(out, d, "" if value is None else str(value), tail, n, region if d in CROSSED else None)


# What `count_responses` reads of an evaluation's response: each recommendation's
# (category, [(tag kind, term id)], [(key action status, deadline, verification, first deadline, completed on)]).
Recommendations = list[tuple[str, list[tuple[str, int]], list[tuple[str, "dt.date | None", str, "dt.date | None", "dt.date | None"]]]]


def count_responses(responses: Iterable[tuple[dict, str, Recommendations]]) -> Counter:
    """The counts of whole evaluations given as values (no query): what `counts` makes of the same rows.

    Each: (the evaluation's values of the plain dimensions, as `evaluation_values` reads them;
    its response's status; its recommendations). For a caller that holds the rows already
    (the importer: what it read, what it wrote); tests hold it equal to `counts`.
    """
    out: Counter = Counter()
    for evaluation, status, recommendations in responses:
        approved = status == ResponseStatus.APPROVED
        for category, tags, actions in recommendations:
            values = {**evaluation, "category": category}
            for st, deadline, verification, first_deadline, completed_on in actions:
                verified = is_verified(st, verification)
                tail = _tail(approved, st, month_index(deadline), verified)
                _count_plain(out, tail, values, 1)
                for kind, term in tags:
                    _count(out, kind, str(term), tail, 1, evaluation["region"])
                _count_accountability(out, approved, st, verified, deadline, first_deadline, completed_on, 1, evaluation["region"])
    return out


def evaluation_values(evaluations: Iterable[int]) -> dict[int, dict]:
    """evaluation id -> its values of the plain dimensions read from the evaluation (for `count_responses`)."""
    ids = sorted(set(evaluations))
    if not ids:
        return {}
    paths = {d: path.removeprefix("evaluation__") for d, path in PLAIN.items() if path.startswith("evaluation__")}
    rows = Evaluation.objects.filter(pk__in=ids).values("pk", *paths.values())
    return {r["pk"]: {d: r[path] for d, path in paths.items()} for r in rows}


def records(evaluations: Iterable[int] | None = None, *, models: tuple = (Evaluation, Recommendation)) -> Counter:
    """The record counts of these evaluations (None: of all): evaluations but a joint evaluation's partners, and
    recommendations but the copies a joint evaluation shares, each apart for approved responses and the rest
    (two GROUP BYs). `models`: a migration's historical (Evaluation, Recommendation)."""
    evaluation_model, recommendation_model = models
    found = evaluation_model.objects.filter(joint_lead__isnull=True)
    recs = recommendation_model.objects.filter(shared_from__isnull=True)
    if evaluations is not None:
        ids = sorted(set(evaluations))
        if not ids:
            return Counter()
        found, recs = found.filter(pk__in=ids), recs.filter(evaluation_id__in=ids)
    out: Counter = Counter()
    for dimension, rows, prefix in ((EVALUATIONS, found, ""), (RECOMMENDATIONS, recs, "evaluation__")):
        approved = Case(
            When(**{f"{prefix}management_response__status": ResponseStatus.APPROVED}, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        for ok, n in rows.order_by().annotate(ok=approved).values_list("ok").annotate(n=Count("pk")):
            out[(dimension, "", bool(ok), "", NO_DEADLINE, False)] += n
    if recommendation_model is Recommendation:  # not a migration's, older than the themes' counts
        out.update(_theme_records(_in_themes(None if evaluations is None else ids)))
    return out


def _in_themes(evaluations: Iterable[int] | None):
    """The recommendations in a recurring theme, of these evaluations (None: of all)."""
    rows = Recommendation.objects.filter(theme_membership__isnull=False)
    return rows if evaluations is None else rows.filter(evaluation_id__in=sorted(evaluations))


def _theme_records(recommendations) -> Counter:
    """`THEME_RECORDS` and `THEME_SPREAD` of these recommendations (those in a theme): as the list of themes counts its
    members, every recommendation (a joint evaluation's partners' copies too) and every evaluation."""
    out: Counter = Counter()
    rows = recommendations.order_by().annotate(
        ok=_common()["ok"], theme=F("theme_membership__theme_id"), office=F("evaluation__office_id"), year=F("evaluation__year")
    ).values_list("ok", "theme", "evaluation_id", "office", "year").annotate(n=Count("pk"))
    for ok, theme, _evaluation, office, year, n in rows:
        # One row per theme and evaluation: the evaluation counted once in each of the theme's counts of evaluations.
        for dimension, what, count in ((THEME_RECORDS, "r", n), (THEME_RECORDS, "e", 1), (THEME_SPREAD, theme_record("o", office), 1),
                                       (THEME_SPREAD, theme_record("y", year), 1)):
            out[(dimension, str(theme), bool(ok), what, NO_DEADLINE, False)] += count
    return out


def count_records(evaluations: Iterable[tuple[int | None, str, list[int | None]]]) -> Counter:
    """What `records` makes of whole evaluations given as values (no query): each its joint lead (None: none), its
    response's status and its recommendations' `shared_from`. For the importer, which holds them already."""
    out: Counter = Counter()
    for joint_lead, status, shared_from in evaluations:
        approved = status == ResponseStatus.APPROVED
        if joint_lead is None:
            out[(EVALUATIONS, "", approved, "", NO_DEADLINE, False)] += 1
        originals = sum(1 for copied in shared_from if copied is None)
        if originals:
            out[(RECOMMENDATIONS, "", approved, "", NO_DEADLINE, False)] += originals
    return out


def everything() -> Counter:
    """Every kept count made again from the rows: what `rebuild` writes, what the kept ones must equal."""
    return Counter({k: n for k, n in (counts(KeyAction.objects.all()) + records()).items() if n})


def _of(evaluations: Iterable[int], actions: Iterable[int]) -> Counter:
    evaluations, actions = sorted(set(evaluations)), sorted(set(actions))
    if not evaluations and not actions:
        return Counter()
    out = counts(KeyAction.objects.filter(Q(evaluation_id__in=evaluations) | Q(pk__in=actions)))
    out.update(records(evaluations))  # a key action's own change moves no record count
    return out


@contextmanager
def kept_in_step(evaluations: Iterable[int] = (), actions: Iterable[int] = ()) -> Iterator[set[int]]:
    """Around a change to these evaluations' (or key actions') rows: the counts follow the change.

    Yields a set to which the change may add evaluations it creates. Runs inside the change's transaction.
    """
    ids, action_ids = set(evaluations), set(actions)
    _lock(ids, action_ids)
    before = _of(ids, action_ids)
    yield ids
    add(_of(ids, action_ids), before)


@contextmanager
def themes_moving(recommendation_ids: Iterable[int] | None = None) -> Iterator[None]:
    """Around the similarity job's change of which theme these recommendations are in (None: any), inside its
    transaction: the themes' counts follow it. Their evaluations, responses and key actions are locked first
    (`lock_evaluations`): a change to one of them waits, and counts with the themes as the job leaves them.

    A few recommendations (the job's run every 15 minutes): the counts of their evaluations, made before and
    after. Any (its full run, at night): every theme counted once after it, against the counts kept before; where
    the themes kept their ids (`search.recurring._write_themes`) only what changed is written. Where most changed
    (a first run, another method), written anew rather than by a difference over every row (at L on SQLite, whose
    one writer holds the database meanwhile, 230,000 rows)."""
    if recommendation_ids is None:
        lock_evaluations(None)
        before = kept_counts(THEMES)
        yield
        after = themes_counted()
        moved = sum(1 for k in after.keys() | before.keys() if after.get(k, 0) != before.get(k, 0))
        if moved * 2 <= len(after) + len(before):
            add(after, before, force=True)
            return
        ActionTally.objects.filter(dimension__in=THEMES).delete()
        TallySum.objects.filter(dimension__in=THEMES).delete()
        add(after, Counter(), force=True)
        return
    evaluations = set(Recommendation.objects.filter(pk__in=sorted(set(recommendation_ids))).values_list("evaluation_id", flat=True))
    if not evaluations:
        yield
        return
    lock_evaluations(evaluations)
    before = themes_counted(evaluations)
    yield
    add(themes_counted(evaluations), before)


def lock_evaluations(evaluations: set[int] | None) -> None:
    """These evaluations (None: all), their responses and their key actions, locked until the change commits, in
    that order, each in the order of its ids: as the services take them (an evaluation's edit locks it, then its
    key actions; a response's edit its response, then what is in it; a progress update its key action), so two
    changes wait for each other rather than deadlock. For a change whose counts are made from values read
    before it (the importer's) or that moves what evaluations without key actions count (the themes).
    PostgreSQL; SQLite's writers take turns anyway."""
    if not connection.features.has_select_for_update or evaluations == set():
        return
    for model, field in ((Evaluation, "pk"), (ManagementResponse, "evaluation_id"), (KeyAction, "evaluation_id")):
        rows = model.objects.select_for_update(of=("self",))
        if evaluations is not None:
            rows = rows.filter(**{f"{field}__in": sorted(evaluations)})
        list(rows.order_by("pk").values_list("pk", flat=True))


def themed(evaluations: Iterable[int]) -> set[int]:
    """Those of these evaluations with a recommendation in a recurring theme (one plain query, no count)."""
    ids = sorted(set(evaluations))
    if not ids:
        return set()
    return set(_in_themes(ids).order_by().values_list("evaluation_id", flat=True).distinct())


def without_themes(counted: Counter) -> Counter:
    """The counts but the themes' (for a caller that counts those apart: `count_responses` knows no theme)."""
    return Counter({k: n for k, n in counted.items() if k[0] not in THEMES})


def themes_counted(evaluations: set[int] | None = None) -> Counter:
    """The themes' counts (`THEMES`) of these evaluations (None: of all), made from the rows."""
    actions = KeyAction.objects.all() if evaluations is None else KeyAction.objects.filter(evaluation_id__in=sorted(evaluations))
    return _theme_counts(actions, _common()) + _theme_records(_in_themes(evaluations))


def _lock(evaluations: set[int], actions: set[int]) -> None:
    """The key actions about to be counted, locked until the change commits, in one order (PostgreSQL; SQLite's
    writers take turns anyway). Else a progress update on one of them (which locks only its own row) committed
    between the counts before and after this change would be counted twice: by itself, and in this difference."""
    if connection.features.has_select_for_update and (evaluations or actions):
        rows = KeyAction.objects.select_for_update().filter(Q(evaluation_id__in=sorted(evaluations)) | Q(pk__in=sorted(actions)))
        list(rows.order_by("pk").values_list("pk", flat=True))


def added(actions: Iterable[int]) -> None:
    """New key actions: their counts added."""
    add(_of((), actions), Counter())


def touch() -> None:
    """The figures moved without a count moving (a response approved: the timeliness figure)."""
    add(Counter(), Counter(), force=True)


def add(after: Counter, before: Counter, *, force: bool = False, sums: bool = True) -> None:
    """Add the difference between two countings to the kept counts (and move their version), and to their sums
    (`sums=False`: a migration older than the sums' table)."""
    # An import's batch of new evaluations has nothing before: its counts are the difference (tens of thousands).
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after.keys() | before.keys()} if before else after
    keys = sorted(k for k, d in delta.items() if d)
    if not keys and not force:
        return
    rows = [(*k, delta[k]) for k in keys]
    rows.append((*VERSION, 1))
    table = connection.ops.quote_name(ActionTally._meta.db_table)
    # Many rows per statement in the rows' fixed order (two changes lock them in the same order), not
    # one statement per row: an import's batch moves thousands of counts (measured at 1,000 documents
    # on PostgreSQL: 7.7 s row by row). Counts brought down to zero come back, to be deleted.
    with transaction.atomic(), connection.cursor() as cursor:
        _add_rows(cursor, ActionTally, KEY, ("n",), rows, f"n = {table}.n + excluded.n")
        if sums:
            _add_sums(delta, cursor)


def _add_rows(cursor, model, key: tuple[str, ...], values: tuple[str, ...], rows: list, update: str) -> None:
    """`rows` (key, then values; `n` the first value) added to the kept rows of `model` as `update` (ON CONFLICT's
    SET) says, many per statement, in the rows' order; rows whose `n` comes down to zero deleted."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = (*key, *values)
    negative = any(row[len(key)] < 0 for row in rows)
    zero = []
    for source, params in bulk.sources(model, columns, rows):
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) {source} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}"
            + (" RETURNING id, n" if negative else ""),
            params,
        )
        if negative:
            zero += [pk for pk, n in cursor.fetchall() if n == 0]
    if zero:
        model.objects.filter(pk__in=zero).delete()


# --- the counts' sums over their deadline months (TallySum) ---------------------------------------------------

SUMS = ("n", "due", "past", "long_past", "month_sum", "first_past", "verified", "due_verified")
CELL = ("dimension", "group_key", "approved", "status")


def _sums_sql(month: int) -> tuple[str, list]:
    """The sums (`SUMS`, in order) of the counts `t` as of `month`, as SQL."""
    dated = "t.deadline_month > 0 AND t.deadline_month"
    return (
        f"SUM(t.n), SUM(CASE WHEN {dated} <= %s THEN t.n ELSE 0 END), SUM(CASE WHEN {dated} < %s THEN t.n ELSE 0 END), "
        f"SUM(CASE WHEN {dated} < %s THEN t.n ELSE 0 END), "
        # n × month passes 2^31 (PostgreSQL's integers) with a few hundred thousand key actions.
        f"SUM(CASE WHEN {dated} < %s THEN CAST(t.n AS BIGINT) * t.deadline_month ELSE 0 END), "
        f"MIN(CASE WHEN {dated} < %s THEN t.deadline_month END), SUM(CASE WHEN t.verified THEN t.n ELSE 0 END), "
        f"SUM(CASE WHEN t.verified AND {dated} <= %s THEN t.n ELSE 0 END)",
        [month, month, month - LONG_OVERDUE_MONTHS, month, month, month],
    )


def _tables() -> tuple[str, str]:
    """The sums' table and the counts', quoted."""
    return connection.ops.quote_name(TallySum._meta.db_table), connection.ops.quote_name(ActionTally._meta.db_table)


def _lock_version(cursor) -> int:
    """The counts' version row, locked until the transaction ends (made if there is none yet), and its number:
    changes of the counts and of their sums take turns on it (`add` moves it first)."""
    table = _tables()[1]
    cursor.execute(
        f"INSERT INTO {table} (dimension, group_key, approved, status, deadline_month, verified, n) VALUES (%s, %s, %s, %s, %s, %s, 0) "
        f"ON CONFLICT (dimension, group_key, approved, status, deadline_month, verified) DO UPDATE SET n = {table}.n RETURNING n",
        list(VERSION),
    )
    return cursor.fetchone()[0]


def make_sums(month: int | None = None) -> int:
    """Every sum made again from the kept counts, as of `month` (this month by default); the rows written."""
    month = month or month_index(today())
    sums, counts_table = _tables()
    select, params = _sums_sql(month)
    with transaction.atomic(), connection.cursor() as cursor:
        # After any change of the counts under way, before the next.
        version = _lock_version(cursor)
        cursor.execute(f"DELETE FROM {sums}")
        cursor.execute(
            f"INSERT INTO {sums} ({', '.join((*CELL, *SUMS))}) SELECT t.dimension, t.group_key, t.approved, t.status, {select} "
            f"FROM {counts_table} t WHERE t.dimension <> %s GROUP BY t.dimension, t.group_key, t.approved, t.status",
            [*params, VERSION[0]],
        )
        written = cursor.rowcount
        TallySum.objects.create(dimension=AS_OF, group_key="", approved=True, status="", n=month, due=0, past=0, long_past=0,
                                month_sum=0, verified=0, due_verified=0, version=version)
    return written


def sums_made_again(month: int) -> dict[tuple, tuple]:
    """The sums `make_sums` would write as of `month`, by (dimension, group, approved, status): what the kept ones must
    equal."""
    select, params = _sums_sql(month)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.dimension, t.group_key, t.approved, t.status, {select} FROM {_tables()[1]} t WHERE t.dimension <> %s "
            "GROUP BY t.dimension, t.group_key, t.approved, t.status",
            [*params, VERSION[0]],
        )
        return {(d, g, bool(a), st): tuple(rest) for d, g, a, st, *rest in cursor.fetchall()}


def kept_counts(dimensions: Iterable[str] | None = None) -> Counter:
    """The kept counts (but their version row), of these dimensions (None: all), keyed as `everything()` counts them."""
    rows = ActionTally.objects.exclude(dimension=VERSION[0]) if dimensions is None else ActionTally.objects.filter(dimension__in=dimensions)
    return Counter({r[:-1]: r[-1] for r in rows.values_list(*KEY, "n").iterator(5000)})


def kept_sums() -> dict[tuple, tuple]:
    """The kept sums, as `sums_made_again` gives them."""
    rows = TallySum.objects.exclude(dimension=AS_OF).values_list(*CELL, *SUMS)
    return {(d, g, bool(a), st): tuple(rest) for d, g, a, st, *rest in rows}


def _add_sums(delta: dict, cursor) -> None:
    """The sums follow the counts' difference `delta`, as of the month they are as of (in `add`'s transaction, after
    the counts: their version's row, locked until it commits, keeps the changes of the sums in turn)."""
    table, counts_table = _tables()
    cursor.execute(f"SELECT s.n, s.version, c.n FROM {table} s, {counts_table} c WHERE s.dimension = %s AND c.dimension = %s",
                   [AS_OF, VERSION[0]])
    found = cursor.fetchone()
    if found is None:
        return  # none made: the figures add up the counts
    month, version, now = found
    if version != now - 1:
        return  # behind the counts already (moved without them): not read until made again
    cursor.execute(f"UPDATE {table} SET version = %s WHERE dimension = %s", [now, AS_OF])
    cells: dict[tuple, list] = {}
    recount = set()  # whose first past month may have gone
    for (dimension, group, approved, status, deadline_month, verified), d in delta.items():
        if not d or dimension == VERSION[0]:
            continue
        cell = (dimension, group, approved, status)
        c = cells.setdefault(cell, [0, 0, 0, 0, 0, None, 0, 0])  # as SUMS
        c[0] += d
        dated = deadline_month > NO_DEADLINE
        if dated and deadline_month <= month:
            c[1] += d
            if verified:
                c[7] += d
        if dated and deadline_month < month:
            c[2] += d
            c[4] += d * deadline_month
            if deadline_month < month - LONG_OVERDUE_MONTHS:
                c[3] += d
            if d > 0:
                c[5] = deadline_month if c[5] is None else min(c[5], deadline_month)
            else:
                recount.add(cell)
        if verified:
            c[6] += d
    rows = [(*cell, *values) for cell, values in sorted(cells.items())]
    add_up = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in SUMS if c != "first_past")
    first = (f"first_past = CASE WHEN excluded.first_past IS NULL THEN {table}.first_past WHEN {table}.first_past IS NULL "
             f"OR excluded.first_past < {table}.first_past THEN excluded.first_past ELSE {table}.first_past END")
    _add_rows(cursor, TallySum, CELL, SUMS, rows, f"{add_up}, {first}")
    # A past month taken away may have been the first: read again from the counts (moved already).
    cells_left = sorted(recount)
    for start in range(0, len(cells_left), 500):
        chunk = cells_left[start : start + 500]
        cursor.execute(
            f"UPDATE {table} SET first_past = (SELECT MIN(t.deadline_month) FROM {counts_table} t WHERE t.dimension = {table}.dimension "
            f"AND t.group_key = {table}.group_key AND t.approved = {table}.approved AND t.status = {table}.status "
            f"AND t.deadline_month > 0 AND t.deadline_month < %s) WHERE ({', '.join(CELL)}) IN (VALUES "
            + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)) + ")",
            [month, *(v for cell in chunk for v in cell)],
        )


def rebuild(key_actions=KeyAction, action_tallies=ActionTally, record_models: tuple | None = (Evaluation, Recommendation)) -> int:
    """Every count made again from the key actions (and the record counts from the evaluations); the number
    of rows written.

    The models may be a migration's historical ones (0015 rebuilds the counts of key actions with them, before
    record counts were kept: `record_models=None`).
    """
    with transaction.atomic():
        if action_tallies is ActionTally:
            with connection.cursor() as cursor:
                _lock_version(cursor)  # after any change of the counts under way, before the next
        version = action_tallies.objects.filter(dimension=VERSION[0]).values_list("n", flat=True).first() or 0
        action_tallies.objects.all().delete()
        rows = [
            action_tallies(dimension=VERSION[0], group_key="", approved=True, status="", deadline_month=NO_DEADLINE,
                           verified=False, n=version + 1)
        ] + [
            action_tallies(dimension=k[0], group_key=k[1], approved=k[2], status=k[3], deadline_month=k[4], verified=k[5], n=n)
            for k, n in sorted((counts(key_actions.objects.all()) + (records(models=record_models) if record_models else Counter())).items())
            if n
        ]
        action_tallies.objects.bulk_create(rows, batch_size=2000)
        if action_tallies is ActionTally:  # not a migration's (older than the sums)
            make_sums()
    return len(rows) - 1
