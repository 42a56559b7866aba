"""Import GATE documents: create or update an evaluation and everything in its response.

One transaction per document: a document that fails changes nothing. A
re-import updates what changed (with a history record per changed record,
and a progress update when a key action's status moved) and writes nothing
at all when nothing changed. Records are matched by their number where
numbers are unique, by position otherwise; they are never duplicated.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

import gateformat
from gateformat.vocab import RESPONSE_STATUSES, canonical, reference_offices

from .. import permissions
from ..actor import Actor
from ..models import (
    ActionUpdate,
    ChangeRecord,
    Evaluation,
    EvaluationPlan,
    KeyAction,
    ManagementResponse,
    Office,
    OfficeType,
    Recommendation,
    RecommendationTerm,
    Region,
    Term,
    Unit,
)
from ..models.responses import ResponseStatus
from . import history, tallies
from .units import UnitDirectory, fragments

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"

KIND_FIELDS = (
    (Term.Kind.THEMATIC_AREA, "thematic_areas"),
    (Term.Kind.OPERATING_PRINCIPLE, "operating_principles"),
    (Term.Kind.ORGANIZATIONAL_PRIORITY, "organizational_priorities"),
    (Term.Kind.UNEG_CRITERION, "uneg_criteria"),
)
OFFICE_TYPE_NAMES = {
    "EO": "Evaluation office",
    "HQ": "Headquarters division",
    "RO": "Regional office",
    "MCO": "Multi-country office",
    "CO": "Country office",
    "PP": "Programme presence",
}


@dataclass
class ImportResult:
    source: str
    outcome: str
    evaluation_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    recommendations: int = 0
    key_actions: int = 0
    status_changes: int = 0
    units_created: int = 0


def parse_deadline(value: str) -> dt.date | None:
    if not value:
        return None
    year, month = value.split("-")[:2]
    return dt.date(int(year), int(month), 1)


class _Directory:
    """A cache of get-or-created rows that forgets the rows of a rolled-back document."""

    def __init__(self) -> None:
        self.rows: dict[Any, Any] = {}
        self.pending: list[Any] = []

    def remember(self, key: Any, row: Any, created: bool) -> Any:
        self.rows[key] = row
        if created:
            self.pending.append(key)
        return row

    def commit(self) -> None:
        self.pending.clear()

    def rollback(self) -> None:
        for key in self.pending:
            self.rows.pop(key, None)
        self.pending.clear()


class Importer:
    """Imports documents one by one, each in its own transaction.

    Holds the directories of offices, units and vocabulary terms for a whole
    run, so a thousand documents cost a thousand lookups of what is new, not
    a thousand loads of what is known.
    """

    def __init__(self, actor: Actor):
        permissions.require(actor, permissions.IMPORT_DOCUMENTS)
        self.actor = actor
        self.units = UnitDirectory()
        # What every document of this run is read with (see `run`).
        self.parse_vocabulary = self.units.vocabulary.flattened()
        self.offices = _Directory()
        self.terms = _Directory()
        self.plans = _Directory()
        for office in Office.objects.select_related("type"):
            for name in [office.name, *office.aliases]:
                self.offices.rows[name.casefold()] = office
        for term in Term.objects.all():
            self.terms.rows[(term.kind, term.name.casefold())] = term
        self._regions = {
            o["office"].casefold(): region
            for region, offices in reference_offices()["regions"].items()
            for o in offices
        }

    def known_unit_names(self) -> list[str]:
        return self.units.names()

    def run(
        self, items: Iterable[tuple[str, str]], *, workers: int | None = None, batch_size: int = 100
    ) -> Iterator[ImportResult]:
        """Import many (source, text) pairs: parsed in worker processes, written in batches, results in order.

        `workers`: the processes that read documents (0: this one reads them too).

        Every document is read with the units known when the run began, so
        the same files give the same records whatever the number of workers.
        """
        if workers is None:
            # One core stays with this process, which writes while the others read.
            workers = min(4, (os.cpu_count() or 1) - 1)
        parsed: Iterable[tuple[str, gateformat.Document | gateformat.GateFormatError]]
        pool = None
        setup = (self.parse_vocabulary, self.units.known_keys)
        if workers > 0:
            # fork: the workers inherit the vocabulary and never touch the database.
            pool = multiprocessing.get_context("fork").Pool(workers, _init_parser, setup)
            parsed = pool.imap(_parse_job, items, chunksize=4)
        else:
            _init_parser(*setup)
            parsed = map(_parse_job, items)
        gc_threshold = gc.get_threshold()
        try:
            # The directories loaded above live for the whole run: freeze them out of the
            # collector's scans, and collect less often while each batch makes thousands of
            # short-lived objects (measured: unpickling a document took 2.7x as long otherwise).
            gc.freeze()
            gc.set_threshold(50_000, 20, 100)
            batch: list[gateformat.Document] = []
            order: list[ImportResult | None] = []
            for source, doc, parts in parsed:
                self.units.fragments.update(parts)
                if isinstance(doc, gateformat.GateFormatError):
                    order.append(ImportResult(source=source, outcome=FAILED, error=str(doc)))
                    continue
                batch.append(doc)
                order.append(None)
                if len(batch) >= batch_size:
                    yield from self._flush(batch, order)
                    batch, order = [], []
            yield from self._flush(batch, order)
        finally:
            gc.set_threshold(*gc_threshold)
            gc.unfreeze()
            if pool is not None:
                pool.terminate()
                pool.join()

    def _flush(self, batch: list[gateformat.Document], order: list[ImportResult | None]) -> Iterator[ImportResult]:
        written = iter(self.import_documents(batch)) if batch else iter(())
        for slot in order:
            yield slot if slot is not None else next(written)

    def import_text(self, text: str, source: str = "") -> ImportResult:
        """Parse and import; a document that cannot be read is a failed result, not an exception."""
        try:
            doc = gateformat.parse(text, known_units=self.parse_vocabulary, source=source)
        except gateformat.GateFormatError as exc:
            return ImportResult(source=source, outcome=FAILED, error=str(exc))
        return self.import_document(doc)

    def import_document(self, doc: gateformat.Document) -> ImportResult:
        """One document in one transaction; a failure raises and changes nothing."""
        return self._transaction([doc])[0]

    def import_documents(self, docs: list[gateformat.Document]) -> list[ImportResult]:
        """A batch of documents, written together (new evaluations in bulk).

        Still all or nothing per document: if the batch fails, each document is
        written again on its own, so the one that fails changes nothing and
        the others land.
        """
        if len(docs) <= 1:
            return [self.import_document(d) for d in docs]
        try:
            return self._transaction(docs)
        except Exception:
            results = []
            for doc in docs:
                try:
                    results.append(self.import_document(doc))
                except Exception as exc:  # the document at fault
                    results.append(ImportResult(source=doc.source, outcome=FAILED, error=f"{type(exc).__name__}: {exc}"))
            return results

    def _transaction(self, docs: list[gateformat.Document]) -> list[ImportResult]:
        caches = (self.units, self.offices, self.terms, self.plans)
        try:
            with transaction.atomic():
                results = _Batch(self, docs).run()
        except Exception:
            for cache in caches:
                cache.rollback()
            raise
        for cache in caches:
            cache.commit()
        return results

    # --- reference rows, found or made -----------------------------------

    def office(self, name: str, type_code: str, warnings: list[str]) -> Office:
        key = name.casefold()
        if key in self.offices.rows:
            office = self.offices.rows[key]
            if office.type.code != type_code:
                warnings.append(
                    f"office '{name}' is recorded as {office.type.code}, the document says {type_code}; kept {office.type.code}"
                )
            return office
        office_type, _ = OfficeType.objects.get_or_create(
            code=type_code, defaults={"name": OFFICE_TYPE_NAMES.get(type_code, type_code)}
        )
        region = None
        region_name = self._regions.get(key)
        if region_name:
            region, _ = Region.objects.get_or_create(name=region_name)
        office = Office.objects.create(name=name, type=office_type, region=region)
        office.type = office_type
        warnings.append(f"new office '{name}' ({type_code}) added")
        return self.offices.remember(key, office, created=True)

    def find_plans(self, keys: Iterable[tuple[int, int, int]]) -> None:
        """Find or make the plans (office id, start, end) of a batch: one query, one insert.

        Plans are reference rows, not tracked records: no history, as with offices.
        """
        missing = {k for k in keys if k not in self.plans.rows}
        if not missing:
            return
        # Exactly the keys asked for: an office's older plans would pile up batch after batch.
        wanted = Q()
        for office_id, start, end in missing:
            wanted |= Q(office_id=office_id, start_year=start, end_year=end)
        for plan in EvaluationPlan.objects.filter(wanted):
            self.plans.remember((plan.office_id, plan.start_year, plan.end_year), plan, created=False)
        new = [EvaluationPlan(office_id=o, start_year=s, end_year=e) for (o, s, e) in sorted(missing - self.plans.rows.keys())]
        for plan in EvaluationPlan.objects.bulk_create(new):
            self.plans.remember((plan.office_id, plan.start_year, plan.end_year), plan, created=True)

    def term(self, kind: str, name: str, warnings: list[str]) -> Term:
        key = (kind, name.casefold())
        if key not in self.terms.rows:
            term, created = Term.objects.get_or_create(
                kind=kind, name=name, defaults={"auto_created": True, "position": 1000}
            )
            if created:
                warnings.append(f"new {Term.Kind(kind).label.lower()} '{name}' added to the vocabulary")
            self.terms.remember(key, term, created)
        return self.terms.rows[key]


class _DocumentImport:
    """The import of one document (inside its transaction)."""

    def __init__(self, importer: Importer, doc: gateformat.Document):
        self.importer = importer
        self.actor = importer.actor
        self.doc = doc
        self.warnings = [str(w) for w in doc.warnings]
        self.records: list[ChangeRecord] = []
        self.updates: list[ActionUpdate] = []
        self.result = ImportResult(source=doc.source, outcome=UNCHANGED)

    def locate_offices(self) -> tuple[int, int, int]:
        """Find or make the offices; the key of the plan (see `locate`)."""
        ev_doc = self.doc.evaluation
        self.office = self.importer.office(ev_doc.office, ev_doc.office_type, self.warnings)
        plan_office = (
            self.office
            if ev_doc.plan_office.casefold() == ev_doc.office.casefold()
            else self.importer.office(ev_doc.plan_office, ev_doc.office_type, self.warnings)
        )
        self.plan_key = (plan_office.pk, ev_doc.plan_start_year, ev_doc.plan_end_year)
        return self.plan_key

    def locate(self) -> tuple:
        """The plan (found by `Importer.find_plans`); the key the evaluation is known by."""
        self.plan = self.importer.plans.rows[self.plan_key]
        if not self.doc.evaluation.title:
            self.warnings.append("the evaluation has no title; it is identified by its office and plan only")
        return (self.office.pk, self.plan.pk, self.doc.evaluation.title)

    def finish(self) -> ImportResult:
        self.result.warnings = self.warnings
        self.result.recommendations = len(self.doc.recommendations)
        self.result.key_actions = len(self.doc.key_actions)
        return self.result

    # --- helpers ----------------------------------------------------------

    def _response_status(self) -> str:
        status = self.doc.management_response.status
        if not status:
            self.warnings.append("no approval status: the response is recorded as Draft")
            return ResponseStatus.DRAFT
        return canonical(status, RESPONSE_STATUSES) or status

    def _units(self, responsible: str, office: Office, save: bool = True) -> list[Unit]:
        units, created = self.importer.units.resolve(responsible, office, save=save)
        self.result.units_created += len(created)
        for unit in created:
            self.warnings.append(f"new unit '{unit.name}' added under {office.name} (from '{responsible}')")
        return units

    def _tags(self, rec: gateformat.Recommendation) -> list[Term]:
        terms: dict[int, Term] = {}
        for kind, attr in KIND_FIELDS:
            for name in getattr(rec, attr):
                term = self.importer.term(kind, name, self.warnings)
                terms.setdefault(term.pk, term)
        return list(terms.values())

    def _recommendation_fields(self, rec: gateformat.Recommendation, position: int) -> dict[str, Any]:
        return {
            "position": position,
            "number": rec.number,
            "text": rec.text,
            "response_text": rec.management_response,
            "description": rec.description,
            "category": rec.category,
            "thematic_area_as_written": rec.thematic_area,
        }

    def _action_fields(self, action: gateformat.KeyAction, position: int) -> dict[str, Any]:
        return {
            "position": position,
            "number": action.number,
            "text": action.text,
            "responsible": action.responsible,
            "deadline": parse_deadline(action.deadline),
            "status": action.status,
            "comments": action.comments,
        }

    # --- an evaluation we have: only what changed --------------------------------

    def _update(self, evaluation: Evaluation, loaded: tuple | None = None) -> None:
        """Bring a stored evaluation's response in line with the document.

        `loaded`: its response and recommendations as `_load_responses` read
        them for the whole batch (None: read them here).
        """
        doc = self.doc
        evaluation.office = self.office  # known already: no query for it
        self.result.evaluation_id = evaluation.pk
        if loaded is None:
            mr, existing = ManagementResponse.objects.filter(evaluation=evaluation).first(), None
        else:
            mr, existing = loaded
        if mr is None:
            mr = ManagementResponse.objects.create(evaluation=evaluation)
            existing = []
            self._changed()
        before = history.snapshot(mr)
        mr.status = self._response_status()
        mr.units_as_written = doc.management_response.units
        mr.overall_response = doc.management_response.overall_response
        self._save_if_changed(mr, before, evaluation.pk)
        if before["units_as_written"] != mr.units_as_written:
            header_units: list[Unit] = []
            for name in doc.management_response.units:
                header_units += [u for u in self._units(name, evaluation.office) if u not in header_units]
            mr.units.set(header_units)

        if existing is None:
            existing = list(_recommendations().filter(management_response=mr))
        pairs, gone = _match(existing, doc.recommendations)
        for row in gone:
            self._delete_recommendation(row, evaluation.pk)
        # Free the positions of the rows that move: the new order may swap them.
        self._shift_positions(Recommendation, [row for i, (row, _) in enumerate(pairs, 1) if row and row.position != i])
        for i, (row, rec) in enumerate(pairs, start=1):
            fields = self._recommendation_fields(rec, i)
            if row is None:
                row = Recommendation.objects.create(management_response=mr, evaluation=evaluation, **fields)
                self.records.append(
                    history.change(self.actor, ChangeRecord.Action.CREATE, row, after=history.snapshot(row), evaluation_id=evaluation.pk)
                )
                self._changed()
                current_tags: list[int] = []
                actions: list[KeyAction] = []
            else:
                before = history.snapshot(row)
                for name, value in fields.items():
                    setattr(row, name, value)
                self._save_if_changed(row, before, evaluation.pk)
                current_tags = [t.term_id for t in row.tags.all()]
                actions = list(row.key_actions.all())
            wanted_tags = self._tags(rec)
            if current_tags != [t.pk for t in wanted_tags]:
                RecommendationTerm.objects.filter(recommendation=row).delete()
                RecommendationTerm.objects.bulk_create(
                    [RecommendationTerm(recommendation=row, term=t, position=p) for p, t in enumerate(wanted_tags)]
                )
                self.records.append(
                    history.change(
                        self.actor,
                        ChangeRecord.Action.UPDATE,
                        row,
                        before={"tags": current_tags},
                        after={"tags": [t.pk for t in wanted_tags]},
                        evaluation_id=evaluation.pk,
                    )
                )
                self._changed()
            self._update_actions(row, actions, rec, evaluation)

    def _update_actions(self, rec_row: Recommendation, existing: list[KeyAction], rec, evaluation: Evaluation) -> None:
        pairs, gone = _match(existing, rec.key_actions)
        for row in gone:
            self._delete_action(row, evaluation.pk)
        self._shift_positions(KeyAction, [row for i, (row, _) in enumerate(pairs, 1) if row and row.position != i])
        for i, (row, action) in enumerate(pairs, start=1):
            fields = self._action_fields(action, i)
            if row is not None and _same_words(row.text + " " + row.responsible, action.text + " " + action.responsible):
                # Same row, read with a different split (the reader knows more
                # units now, or a person corrected it): the stored split stands.
                fields["text"], fields["responsible"] = row.text, row.responsible
            if row is None:
                units = self._units(fields["responsible"], evaluation.office)
                row = KeyAction.objects.create(
                    recommendation=rec_row,
                    evaluation=evaluation,
                    split_confidence=round(action.split_confidence, 3),
                    **fields,
                )
                row.units.set(units)
                self.records.append(
                    history.change(self.actor, ChangeRecord.Action.CREATE, row, after=history.snapshot(row), evaluation_id=evaluation.pk)
                )
                self._changed()
                continue
            before = history.snapshot(row)
            old_status = row.status
            for name, value in fields.items():
                setattr(row, name, value)
            # Not history (how sure the reader was), saved only with a real change.
            row.split_confidence = round(action.split_confidence, 3)
            self._save_if_changed(row, before, evaluation.pk)
            if row.status != old_status:
                self.result.status_changes += 1
                self.updates.append(
                    ActionUpdate(
                        key_action=row,
                        status_before=old_status,
                        status_after=row.status,
                        comment=f"Status changed by the import of {self.doc.source or 'a GATE document'}.",
                        author=self.actor.user if self.actor.is_authenticated else None,
                        author_name=self.actor.name,
                        source=ActionUpdate.Source.IMPORT,
                    )
                )
            if before["responsible"] == row.responsible:
                # Same responsible text: the units linked to it stand (a person may have corrected them).
                continue
            units = self._units(row.responsible, evaluation.office)
            if {u.pk for u in units} != {u.pk for u in row.units.all()}:
                old_units = sorted(u.pk for u in row.units.all())
                row.units.set(units)
                self.records.append(
                    history.change(
                        self.actor,
                        ChangeRecord.Action.UPDATE,
                        row,
                        before={"units": old_units},
                        after={"units": sorted(u.pk for u in units)},
                        evaluation_id=evaluation.pk,
                    )
                )
                self._changed()

    def _changed(self) -> None:
        self.result.outcome = UPDATED

    def _save_if_changed(self, row, before: dict[str, Any], evaluation_id: int) -> bool:
        old, new = history.diff(before, history.snapshot(row))
        if not old and not new:
            return False
        row.version = (row.version or 0) + 1
        row.save()
        self.records.append(
            history.change(self.actor, ChangeRecord.Action.UPDATE, row, before=old, after=new, evaluation_id=evaluation_id)
        )
        self._changed()
        return True

    def _shift_positions(self, model, rows) -> None:
        # Move the rows out of the way (positions are unique) before each takes its new one.
        if not rows:
            return
        for row in rows:
            row.position += 1_000_000
        model.objects.bulk_update(rows, ["position"])
        for row in rows:
            row.position -= 1_000_000

    def _delete_recommendation(self, row: Recommendation, evaluation_id: int) -> None:
        for action in row.key_actions.all():
            self._delete_action(action, evaluation_id)
        self.records.append(
            history.change(
                self.actor,
                ChangeRecord.Action.DELETE,
                row,
                before=history.snapshot(row),
                evaluation_id=evaluation_id,
                message=f"no longer in {self.doc.source or 'the imported document'}",
            )
        )
        row.delete()
        self._changed()

    def _delete_action(self, row: KeyAction, evaluation_id: int) -> None:
        before = history.snapshot(row)
        # Its progress updates go with it: keep them in the record.
        before["updates"] = [history.snapshot(u) for u in row.updates.all()]
        self.records.append(
            history.change(
                self.actor,
                ChangeRecord.Action.DELETE,
                row,
                before=before,
                evaluation_id=evaluation_id,
                message=f"no longer in {self.doc.source or 'the imported document'}",
            )
        )
        row.delete()
        self._changed()


REC_COLUMNS = (
    "management_response_id", "evaluation_id", "position", "number", "text", "response_text", "description",
    "category", "thematic_area_as_written", "version", "created_at", "updated_at",
)
ACTION_COLUMNS = (
    "recommendation_id", "evaluation_id", "position", "number", "text", "responsible", "deadline", "status",
    "comments", "split_confidence", "version", "created_at", "updated_at",
)


class _Batch:
    """Documents written in one transaction: new evaluations in bulk, known ones updated one by one."""

    def __init__(self, importer: Importer, docs: list[gateformat.Document]):
        self.importer = importer
        self.jobs = [_DocumentImport(importer, doc) for doc in docs]

    def run(self) -> list[ImportResult]:
        self.importer.find_plans([job.locate_offices() for job in self.jobs])
        keys = [job.locate() for job in self.jobs]
        existing = {
            (e.office_id, e.plan_id, e.title): e
            for e in Evaluation.objects.filter(plan_id__in={k[1] for k in keys}, title__in={k[2] for k in keys})
        }
        new: list[_DocumentImport] = []
        later: list[tuple[_DocumentImport, tuple]] = []
        claimed = set()
        for job, key in zip(self.jobs, keys):
            if key in existing or key in claimed:
                later.append((job, key))  # known, or twice in this batch: an update
            else:
                claimed.add(key)
                new.append(job)
        # The counts behind the figures (tracking.services.tallies): the known evaluations' counts before...
        counted_before = tallies.counts(KeyAction.objects.filter(evaluation_id__in=[existing[key].pk for _, key in later]))
        records: list[ChangeRecord] = []
        updates: list[ActionUpdate] = []
        if new:
            created = _create_all(self.importer, new)
            existing.update(created)
            for job in new:
                records += job.records
        # What the known evaluations hold, read for the batch at once (a few queries, not a few per document).
        loaded = _load_responses({existing[key].pk for _, key in later}) if later else {}
        updated = set()
        for job, key in later:
            evaluation = existing[key]
            # The same evaluation twice in a batch: the second reads what the first wrote.
            job._update(evaluation, None if key in updated else loaded.get(evaluation.pk, (None, None)))
            updated.add(key)
            records += job.records
            updates += job.updates
        history.write(records)
        if updates:
            ActionUpdate.objects.bulk_create(updates)
        # ...and every evaluation's of the batch after it: the difference added, in this transaction.
        batch = [existing[key].pk for key in keys if key in existing]
        tallies.add(tallies.counts(KeyAction.objects.filter(evaluation_id__in=batch)), counted_before)
        return [job.finish() for job in self.jobs]


def _recommendations():
    """Recommendations in order, with their tags and key actions (and the actions' units)."""
    return Recommendation.objects.order_by("position").prefetch_related(
        Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
        Prefetch("key_actions", queryset=KeyAction.objects.order_by("position").prefetch_related("units")),
    )


def _load_responses(evaluation_ids: set[int]) -> dict[int, tuple[ManagementResponse, list[Recommendation]]]:
    """evaluation id -> (its response, its recommendations in order)."""
    responses = {mr.pk: mr for mr in ManagementResponse.objects.filter(evaluation_id__in=evaluation_ids)}
    recommendations: dict[int, list[Recommendation]] = {pk: [] for pk in responses}
    for rec in _recommendations().filter(management_response_id__in=responses):
        recommendations[rec.management_response_id].append(rec)
    return {mr.evaluation_id: (mr, recommendations[pk]) for pk, mr in responses.items()}


def _create_all(importer: Importer, jobs: list[_DocumentImport]) -> dict[tuple, Evaluation]:
    """New evaluations with everything in their responses: a handful of bulk inserts for the whole batch."""
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
    responses = ManagementResponse.objects.bulk_create(
        [
            ManagementResponse(
                evaluation=ev,
                status=job._response_status(),
                units_as_written=job.doc.management_response.units,
                overall_response=job.doc.management_response.overall_response,
            )
            for job, ev in zip(jobs, evaluations)
        ]
    )
    response_units = []
    now = _prepared(KeyAction, "created_at", timezone.now())
    # Plain value tuples, in REC_COLUMNS order: no model object per row.
    rec_rows: list[tuple] = []
    rec_docs: list[tuple[_DocumentImport, gateformat.Recommendation]] = []
    for job, ev, mr in zip(jobs, evaluations, responses):
        job.result.outcome = CREATED
        job.result.evaluation_id = ev.pk
        header_units: list[Unit] = []
        for name in job.doc.management_response.units:
            header_units += [u for u in job._units(name, job.office, save=False) if all(u is not h for h in header_units)]
        response_units.append((mr.pk, header_units))
        for i, rec in enumerate(job.doc.recommendations, start=1):
            rec_rows.append(
                (mr.pk, ev.pk, i, rec.number, rec.text, rec.management_response, rec.description,
                 rec.category, rec.thematic_area, 1, now, now)
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
    rec_ids = _insert_returning_ids(Recommendation, REC_COLUMNS, rec_rows)
    tags: list[tuple] = []
    action_rows: list[tuple] = []
    deadlines: dict[str, Any] = {}  # deadline as written -> as stored (a few dozen months recur)
    action_units: list[list[Unit]] = []
    for rec_id, rec_row, (job, rec) in zip(rec_ids, rec_rows, rec_docs):
        tags += [(rec_id, t.pk, p) for p, t in enumerate(job._tags(rec))]
        for i, a in enumerate(rec.key_actions, start=1):
            deadline = deadlines.get(a.deadline)
            if deadline is None:
                deadline = deadlines[a.deadline] = _prepared(KeyAction, "deadline", parse_deadline(a.deadline))
            action_rows.append(
                (rec_id, rec_row[1], i, a.number, a.text, a.responsible, deadline, a.status, a.comments,
                 round(a.split_confidence, 3), 1, now, now)
            )
            action_units.append(job._units(a.responsible, job.office, save=False))
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

    Multi-row VALUES, not executemany: on SQLite binding row by row costs
    about three times as much for the same rows, and on PostgreSQL a third
    more (measured: 1,000 documents in 16.6 s against 12.7 s).
    """
    _insert_values(model, columns, rows, returning=False)


def _insert_returning_ids(model, columns: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Multi-row INSERT ... RETURNING id, as bulk_create does, without building a model object per row.

    The caller gives values as the database wants them (see `_prepared`). Ids
    come back in the order of the rows (SQLite and PostgreSQL both keep it;
    Django's own bulk_create relies on the same).
    """
    return _insert_values(model, columns, rows, returning=True)


def _insert_values(model, columns: tuple[str, ...], rows: list[tuple], *, returning: bool) -> list[int]:
    if not rows:
        return []
    table, cols = _columns(model, columns)
    # Under the bound-parameter limit of either database, in statements of a few hundred rows.
    per_statement = max(1, min(500, 30000 // len(columns)))
    suffix = f" RETURNING {connection.ops.quote_name('id')}" if returning else ""
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({cols}) VALUES {', '.join([row_marks] * len(chunk))}{suffix}",
                [v for row in chunk for v in row],
            )
            if returning:
                ids += [r[0] for r in cursor.fetchall()]
    return ids


def _prepared(model, field: str, value):
    """A value as the database driver takes it (dates and times as the backend stores them)."""
    return model._meta.get_field(field).get_db_prep_save(value, connection)


_PARSE_VOCABULARY = None
_KNOWN_KEYS: frozenset[str] = frozenset()


def _init_parser(vocabulary, known_keys: frozenset[str]) -> None:
    global _PARSE_VOCABULARY, _KNOWN_KEYS
    _PARSE_VOCABULARY, _KNOWN_KEYS = vocabulary, known_keys


def _parse_job(item: tuple[str, str]):
    """Read one document, and divide its responsible texts into unit names (work the writer need not do)."""
    source, text = item
    try:
        doc = gateformat.parse(text, known_units=_PARSE_VOCABULARY, source=source)
    except gateformat.GateFormatError as exc:
        return source, exc, {}
    texts = {a.responsible for a in doc.key_actions} | set(doc.management_response.units)
    return source, doc, {t: fragments(t, is_known=_KNOWN_KEYS.__contains__) for t in texts}


def _same_words(a: str, b: str) -> bool:
    return a.split() == b.split()


def _match(existing: list, incoming: list) -> tuple[list[tuple[Any, Any]], list]:
    """Pair stored rows with incoming items: by number where unique on both sides, else by position."""
    numbers_in = [i.number for i in incoming]
    numbers_db = [r.number for r in existing]
    by_number = len(set(numbers_in)) == len(numbers_in) and len(set(numbers_db)) == len(numbers_db)
    pairs = []
    used: set[int] = set()
    if by_number:
        rows = {r.number: r for r in existing}
        for item in incoming:
            row = rows.get(item.number)
            pairs.append((row, item))
            if row is not None:
                used.add(row.pk)
    else:
        for i, item in enumerate(incoming):
            row = existing[i] if i < len(existing) else None
            pairs.append((row, item))
            if row is not None:
                used.add(row.pk)
    gone = [r for r in existing if r.pk not in used]
    return pairs, gone
