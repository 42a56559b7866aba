"""Keeping `ActionTally` in step with the key actions: the one place that writes it.

Every service that changes what a figure counts (a key action's status or
deadline, its recommendation's category or tags, a response's status, an
evaluation's office or year, key actions added or deleted, documents
imported) calls `kept_in_step(evaluation_ids)` around its change, inside its
transaction. The rows of each (office, year) the evaluations are in, before
and after the change, are counted again from the key actions: a few
evaluations' worth, whatever changed, so there is no arithmetic on counters
to get wrong and a change that commits carries its counts with it.

`rebuild()` counts everything again (`followthrough tallies --rebuild`,
after changes made behind the services' back: SQL by hand).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce

from ..models import ActionTally, Evaluation, KeyAction, Office
from ..models.tallies import MonthIndex

Bucket = tuple[int, int]  # (office id, evaluation year)
CHUNK = 200


def buckets_of(evaluation_ids: Iterable[int]) -> set[Bucket]:
    ids = sorted({i for i in evaluation_ids if i is not None})
    out: set[Bucket] = set()
    for i in range(0, len(ids), 500):
        out.update(Evaluation.objects.filter(pk__in=ids[i : i + 500]).values_list("office_id", "year"))
    return out


@contextmanager
def kept_in_step(evaluation_ids: Iterable[int] = ()) -> Iterator[set[int]]:
    """Around a change to these evaluations (or their rows): their counts are made again after it.

    Yields a set to which the change may add the evaluations it creates.
    Must run inside the change's transaction.
    """
    ids = set(evaluation_ids)
    before = buckets_of(ids)
    yield ids
    refresh(before | buckets_of(ids))


def refresh(buckets: Iterable[Bucket]) -> None:
    """Count the key actions of these (office, year) pairs again."""
    todo = sorted(set(buckets))
    if not todo:
        return
    with transaction.atomic():
        for i in range(0, len(todo), CHUNK):
            _refresh(todo[i : i + CHUNK])


def rebuild() -> int:
    """Every count made again from the key actions; the number of rows written."""
    with transaction.atomic():
        ActionTally.objects.all().delete()
        rows = _count(KeyAction.objects.all())
        ActionTally.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _bucket_q(buckets: list[Bucket], prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for office_id, year in buckets:
        q |= Q(**{f"{prefix}office_id": office_id, f"{prefix}year": year})
    return q


def _refresh(buckets: list[Bucket]) -> None:
    offices = sorted({o for o, _ in buckets})
    if connection.features.has_select_for_update:
        # One refresh of an office's counts at a time (two imports into one office, two updates):
        # the second counts after the first has committed. NO KEY UPDATE: rows referencing the office
        # may still be inserted meanwhile.
        list(Office.objects.select_for_update(no_key=True).filter(pk__in=offices).order_by("pk").values_list("pk"))
    ActionTally.objects.filter(_bucket_q(buckets)).delete()
    evaluations = Evaluation.objects.filter(_bucket_q(buckets)).values("pk")
    rows = _count(KeyAction.objects.filter(evaluation_id__in=evaluations))
    ActionTally.objects.bulk_create(rows, batch_size=2000)


def _count(actions) -> list[ActionTally]:
    common = {
        "office_id": F("evaluation__office_id"),
        "year_": F("evaluation__year"),
        "response": Coalesce(F("evaluation__management_response__status"), Value("")),
        "category_": F("recommendation__category"),
        "month": MonthIndex("deadline"),
        "status_": F("status"),
    }
    keys = list(common)
    plain = actions.order_by().annotate(**common).values(*keys).annotate(n=Count("pk"))
    tagged = (
        actions.order_by()
        .filter(recommendation__tags__isnull=False)
        .annotate(**common, term_id=F("recommendation__tags__term_id"))
        .values(*keys, "term_id")
        .annotate(n=Count("pk"))
    )
    out = []
    for r in [*plain, *tagged]:
        out.append(
            ActionTally(
                office_id=r["office_id"],
                year=r["year_"],
                response_status=r["response"] or "",
                category=r["category_"] or "",
                term_id=r.get("term_id"),
                status=r["status_"],
                deadline_month=r["month"],
                n=r["n"],
            )
        )
    return out
