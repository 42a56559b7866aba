"""Import GATE documents: create or update an evaluation and everything in its response.

One transaction per document: a document that fails changes nothing. A
re-import updates what changed (with a history record per changed record,
and a progress update when a key action's status moved) and writes nothing
at all when nothing changed. Records are matched by their number where
numbers are unique, by position otherwise; they are never duplicated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Prefetch

import gateformat
from gateformat.vocab import RESPONSE_STATUSES, canonical, reference_offices

from .. import permissions
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
from . import history
from .actor import Actor
from .units import UnitDirectory

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

    def import_text(self, text: str, source: str = "") -> ImportResult:
        """Parse and import; a document that cannot be read is a failed result, not an exception."""
        try:
            doc = gateformat.parse(text, known_units=self.units.vocabulary, source=source)
        except gateformat.GateFormatError as exc:
            return ImportResult(source=source, outcome=FAILED, error=str(exc))
        return self.import_document(doc)

    def import_document(self, doc: gateformat.Document) -> ImportResult:
        caches = (self.units, self.offices, self.terms, self.plans)
        try:
            with transaction.atomic():
                result = _DocumentImport(self, doc).run()
        except Exception:
            for cache in caches:
                cache.rollback()
            raise
        for cache in caches:
            cache.commit()
        return result

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

    def plan(self, office: Office, start: int, end: int) -> EvaluationPlan:
        key = (office.pk, start, end)
        if key not in self.plans.rows:
            plan, created = EvaluationPlan.objects.get_or_create(office=office, start_year=start, end_year=end)
            self.plans.remember(key, plan, created)
        return self.plans.rows[key]

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

    def run(self) -> ImportResult:
        ev_doc = self.doc.evaluation
        office = self.importer.office(ev_doc.office, ev_doc.office_type, self.warnings)
        plan_office = (
            office
            if ev_doc.plan_office.casefold() == ev_doc.office.casefold()
            else self.importer.office(ev_doc.plan_office, ev_doc.office_type, self.warnings)
        )
        plan = self.importer.plan(plan_office, ev_doc.plan_start_year, ev_doc.plan_end_year)
        if not ev_doc.title:
            self.warnings.append("the evaluation has no title; it is identified by its office and plan only")
        evaluation = Evaluation.objects.filter(office=office, plan=plan, title=ev_doc.title).first()
        if evaluation is None:
            self._create(office, plan)
        else:
            self._update(evaluation)
        history.write(self.records)
        if self.updates:
            ActionUpdate.objects.bulk_create(self.updates)
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

    def _units(self, responsible: str, office: Office) -> list[Unit]:
        units, created = self.importer.units.resolve(responsible, office)
        self.result.units_created += len(created)
        for unit in created:
            self.warnings.append(f"new unit '{unit.name}' added under {office.name} (from '{responsible}')")
        return units

    def _tags(self, rec: gateformat.Recommendation) -> list[Term]:
        terms: list[Term] = []
        for kind, attr in KIND_FIELDS:
            for name in getattr(rec, attr):
                term = self.importer.term(kind, name, self.warnings)
                if term not in terms:
                    terms.append(term)
        return terms

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

    # --- a new evaluation: everything in bulk ----------------------------------

    def _create(self, office: Office, plan: EvaluationPlan) -> None:
        doc = self.doc
        self.result.outcome = CREATED
        evaluation = Evaluation.objects.create(
            plan=plan,
            office=office,
            title=doc.evaluation.title,
            year=plan.end_year,
            status=Evaluation.Status.COMPLETED,
            source=doc.source[:300],
        )
        self.result.evaluation_id = evaluation.pk
        mr = ManagementResponse.objects.create(
            evaluation=evaluation,
            status=self._response_status(),
            units_as_written=doc.management_response.units,
            overall_response=doc.management_response.overall_response,
        )
        header_units: list[Unit] = []
        for name in doc.management_response.units:
            header_units += [u for u in self._units(name, office) if u not in header_units]
        mr.units.set(header_units)

        recs = Recommendation.objects.bulk_create(
            [
                Recommendation(management_response=mr, evaluation=evaluation, **self._recommendation_fields(r, i))
                for i, r in enumerate(doc.recommendations, start=1)
            ]
        )
        tags = []
        actions = []
        action_units: list[list[Unit]] = []
        for rec_row, rec in zip(recs, doc.recommendations):
            tags += [
                RecommendationTerm(recommendation=rec_row, term=t, position=p)
                for p, t in enumerate(self._tags(rec))
            ]
            for i, a in enumerate(rec.key_actions, start=1):
                actions.append(
                    KeyAction(
                        recommendation=rec_row,
                        evaluation=evaluation,
                        split_confidence=round(a.split_confidence, 3),
                        **self._action_fields(a, i),
                    )
                )
                action_units.append(self._units(a.responsible, office))
        RecommendationTerm.objects.bulk_create(tags)
        actions = KeyAction.objects.bulk_create(actions)
        through = KeyAction.units.through
        through.objects.bulk_create(
            [through(keyaction_id=a.pk, unit_id=u.pk) for a, units in zip(actions, action_units) for u in units]
        )
        self.records.append(
            history.change(
                self.actor,
                ChangeRecord.Action.CREATE,
                evaluation,
                after=history.snapshot(evaluation),
                evaluation_id=evaluation.pk,
                message=(
                    f"imported from {doc.source or 'a GATE document'}: {len(recs)} recommendations, "
                    f"{len(actions)} key actions"
                ),
            )
        )

    # --- an evaluation we have: only what changed --------------------------------

    def _update(self, evaluation: Evaluation) -> None:
        doc = self.doc
        self.result.evaluation_id = evaluation.pk
        mr = (
            ManagementResponse.objects.filter(evaluation=evaluation)
            .prefetch_related("units")
            .first()
        )
        if mr is None:
            mr = ManagementResponse.objects.create(evaluation=evaluation)
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

        existing = list(
            Recommendation.objects.filter(management_response=mr)
            .order_by("position")
            .prefetch_related(
                Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
                Prefetch("key_actions", queryset=KeyAction.objects.order_by("position").prefetch_related("units")),
            )
        )
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
