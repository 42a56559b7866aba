"""New evaluations: everything in a batch's new responses in a handful of multi-row inserts."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from ...models import (
    ChangeRecord,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Recommendation,
    RecommendationTerm,
    Unit,
)
from .. import bulk, history
from .document import parse_deadline
from .matching import header_units
from .results import CREATED

REC_COLUMNS = (
    "management_response_id", "evaluation_id", "position", "number", "label", "text", "response_text", "description",
    "category", "thematic_area_as_written", "imported", "version", "created_at", "updated_at",
)
ACTION_COLUMNS = (
    "recommendation_id", "evaluation_id", "position", "number", "label", "text", "responsible", "deadline", "status",
    "comments", "split_confidence", "imported", "version", "created_at", "updated_at",
)


def create_all(importer, jobs: list) -> dict[tuple, Evaluation]:
    """New evaluations with everything in their responses: a handful of bulk inserts for the whole batch.

    Each record remembers what its page gave (`imported`): the baseline a re-import compares with.
    Each job keeps what it wrote as the counts behind the figures see it (`job.counted`, see
    `tallies.count_responses`): the batch counts it without reading it back.
    """
    evaluations = Evaluation.objects.bulk_create(
        [
            Evaluation(
                plan=job.plan,
                office=job.office,
                title=job.doc.evaluation.title,
                year=job.plan.end_year,
                status=Evaluation.Status.COMPLETED,
                source=job.doc.source[:300],
            )
            for job in jobs
        ]
    )
    mr_rows = []
    for job, ev in zip(jobs, evaluations):
        status = job.response_status()
        job.counted = (status, [])
        mr_rows.append(
            ManagementResponse(
                evaluation=ev,
                status=status,
                units_as_written=job.doc.management_response.units,
                overall_response=job.doc.management_response.overall_response,
                imported=job.response_values(status),
            )
        )
    responses = ManagementResponse.objects.bulk_create(mr_rows)
    response_units = []
    now = _prepared(KeyAction, "created_at", timezone.now())
    # Plain value tuples, in REC_COLUMNS order (the baseline, at index 10, filled in below): no model object per row.
    rec_rows: list[list] = []
    rec_docs: list[tuple[Any, Any]] = []
    for job, ev, mr in zip(jobs, evaluations, responses):
        job.result.outcome = CREATED
        job.result.evaluation_id = ev.pk
        response_units.append((mr.pk, header_units(job, job.doc.management_response.units, job.office, save=False)))
        for i, rec in enumerate(job.doc.recommendations, start=1):
            rec_rows.append(
                [mr.pk, ev.pk, i, rec.number, rec.label[:80], rec.text, rec.management_response, rec.description,
                 rec.category, rec.thematic_area, None, 1, now, now]
            )
            rec_docs.append((job, rec))
        job.records.append(
            history.change(
                job.actor,
                ChangeRecord.Action.CREATE,
                ev,
                after=history.snapshot(ev),
                evaluation_id=ev.pk,
                message=(
                    f"imported from {job.doc.source or 'a GATE document'}: {len(job.doc.recommendations)} recommendations, "
                    f"{len(job.doc.key_actions)} key actions"
                ),
            )
        )
    rec_tags = [job.tags(rec) for job, rec in rec_docs]
    for row, tags, (job, rec) in zip(rec_rows, rec_tags, rec_docs):
        row[10] = _prepared(Recommendation, "imported", job.recommendation_values(rec, tags))
    rec_ids = _insert_returning_ids(Recommendation, REC_COLUMNS, rec_rows)
    tags: list[tuple] = []
    action_rows: list[tuple] = []
    deadlines: dict[str, tuple] = {}  # deadline as written -> (as stored, as a date) (a few dozen months recur)
    action_units: list[list[Unit]] = []
    for rec_id, rec_row, terms, (job, rec) in zip(rec_ids, rec_rows, rec_tags, rec_docs):
        tags += [(rec_id, t.pk, p) for p, t in enumerate(terms)]
        counted_actions = []
        # A new key action's verification is the column's default: none.
        job.counted[1].append((rec.category, [(t.kind, t.pk) for t in terms], counted_actions))
        for i, a in enumerate(rec.key_actions, start=1):
            known = deadlines.get(a.deadline)
            if known is None:
                day = parse_deadline(a.deadline)
                known = deadlines[a.deadline] = (_prepared(KeyAction, "deadline", day), day)
            deadline = known[0]
            counted_actions.append((a.status, known[1], "", None, None))  # never revised, no completion date
            action_rows.append(
                (rec_id, rec_row[1], i, a.number, a.label[:20], a.text, a.responsible, deadline, a.status, a.comments,
                 round(a.split_confidence, 3), _prepared(KeyAction, "imported", job.action_values(a)), 1, now, now)
            )
            action_units.append(job.units(a.responsible, job.office, save=False))
    importer.units.save_new()
    action_ids = _insert_returning_ids(KeyAction, ACTION_COLUMNS, action_rows)
    # Link rows need no ids back: plain multi-row inserts, without building model objects.
    _insert(RecommendationTerm, ("recommendation_id", "term_id", "position"), tags)
    _insert(
        ManagementResponse.units.through,
        ("managementresponse_id", "unit_id"),
        [(mr_pk, u.pk) for mr_pk, units in response_units for u in units],
    )
    _insert(
        KeyAction.units.through,
        ("keyaction_id", "unit_id"),
        [(pk, u.pk) for pk, units in zip(action_ids, action_units) for u in units],
    )
    return {(ev.office_id, ev.plan_id, ev.title): ev for ev in evaluations}


def _columns(model, columns: tuple[str, ...]) -> tuple[str, str]:
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(model._meta.get_field(c.removesuffix("_id")).column) for c in columns)
    return table, cols


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows of plain values (ints, strings) into a link table, no model objects.

    In as few statements as may be, not executemany (see `bulk.sources`): on SQLite
    binding row by row costs about three times as much for the same rows, and on
    PostgreSQL a third more (measured: 1,000 documents in 16.6 s against 12.7 s).
    """
    _insert_values(model, columns, rows, returning=False)


def _insert_returning_ids(model, columns: tuple[str, ...], rows: list) -> list[int]:
    """Multi-row INSERT ... RETURNING id, as bulk_create does, without building a model object per row.

    The caller gives values as the database wants them (see `_prepared`). Ids
    come back in the order of the rows (SQLite and PostgreSQL both keep it;
    Django's own bulk_create relies on the same).
    """
    return _insert_values(model, columns, rows, returning=True)


def _insert_values(model, columns: tuple[str, ...], rows: list, *, returning: bool) -> list[int]:
    table, cols = _columns(model, columns)
    suffix = f" RETURNING {connection.ops.quote_name('id')}" if returning else ""
    ids: list[int] = []
    with connection.cursor() as cursor:
        for source, params in bulk.sources(model, columns, rows):
            cursor.execute(f"INSERT INTO {table} ({cols}) {source}{suffix}", params)
            if returning:
                ids += [r[0] for r in cursor.fetchall()]
    return ids


def _prepared(model, field: str, value):
    """A value as the database driver takes it (dates and times as the backend stores them)."""
    return model._meta.get_field(field).get_db_prep_save(value, connection)
