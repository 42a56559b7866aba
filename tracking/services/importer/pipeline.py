"""The run: documents read (in worker processes), written in small batches, each document all or nothing.

A batch is one transaction, committed before the next begins: a web save
waits for one batch at most, a run killed half way leaves whole documents,
and running it again completes it. A batch that fails is written again
document by document, so the one at fault is reported and the others land.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q

import gateformat
from gateformat.vocab import reference_offices

from ... import permissions, text
from ...actor import Actor
from ...models import ActionUpdate, Evaluation, EvaluationPlan, KeyAction, Office, OfficeType, Region, Term
from .. import history, tallies
from ..units import UnitDirectory, fragments
from .create import create_all
from .document import DocumentImport
from .results import FAILED, UNCHANGED, ImportRefused, ImportResult
from .update import load_responses

# SQLite: how long the write lock is left free between two batches (see `Importer._let_others_write`).
LOCK_PAUSE = 0.11

OFFICE_TYPE_NAMES = {
    "EO": "Evaluation office",
    "HQ": "Headquarters division",
    "RO": "Regional office",
    "MCO": "Multi-country office",
    "CO": "Country office",
    "PP": "Programme presence",
}


def _bounded(doc: gateformat.Document) -> ImportResult | None:
    """A failed result if `doc` holds a value no database here could store as it is; cleans NUL out of it."""
    refusals, notes = text.document_problems(doc)
    doc.warnings.extend(gateformat.ParseWarning(0, note) for note in notes)
    if refusals:
        more = f" (and {len(refusals) - 5} more)" if len(refusals) > 5 else ""
        return ImportResult(source=doc.source, outcome=FAILED, error="; ".join(refusals[:5]) + more)
    return None


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

    `prefer_page`: where a value was changed here since the page was last
    imported and the page gives another, take the page's (administrators
    only; each taken value is recorded). Otherwise ours is kept and the
    page's value reported as a conflict.
    `allow_removals`: a document without some of the recommendations or key
    actions stored for it archives them (kept, with their progress); without
    it, such a document is refused.
    """

    # What imports one document: a spreadsheet's import narrows it to the fields its sheet gives (services/sheets.py).
    document_class = DocumentImport

    def __init__(self, actor: Actor, *, prefer_page: bool = False, allow_removals: bool = False):
        permissions.require(actor, permissions.IMPORT_DOCUMENTS)
        if prefer_page and not permissions.can(actor, permissions.MANAGE_REFERENCE):
            raise PermissionDenied(f"{actor.name} may not prefer the page's values: administrators only")
        self.actor = actor
        self.prefer_page = prefer_page
        self.allow_removals = allow_removals
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
        self,
        items: Iterable[tuple[str, str]],
        *,
        workers: int | None = None,
        batch_size: int = 100,
        batch_seconds: float | None = None,
    ) -> Iterator[ImportResult]:
        """Import many (source, text) pairs: parsed in worker processes, written in batches, results in order.

        `workers`: the processes that read documents (0: this one reads them too).
        `batch_size`: documents per transaction (each batch is committed before the next is written,
        unless the caller holds a transaction around the run).
        `batch_seconds`: how long one transaction may hold the database, about: batches then
        shrink (down to one document) or grow (up to `batch_size`) with the time the last
        ones took, so that a person's save never waits longer, whatever the load.

        Every document is read with the units known when the run began, so
        the same files give the same records whatever the number of workers.
        """
        if workers is None:
            # One core stays with this process, which writes while the others read.
            workers = min(4, (os.cpu_count() or 1) - 1)
        parsed: Iterable[tuple[str, gateformat.Document | ImportResult, dict]]
        pool = None
        setup = (self.parse_vocabulary, self.units.known_keys)
        if workers > 0:
            # fork: the workers inherit the vocabulary and never touch the database. Nor may they
            # inherit its connection: with a forked copy of it alive, SQLite kept the write lock
            # from every other process for as long as the workers ran (measured: a save waited
            # 4 s, with batches of 0.2 s). Closed here, it is opened again for the first batch.
            if not connection.in_atomic_block:
                connection.close()
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
            size = batch_size if batch_seconds is None else min(batch_size, 4)
            committed = None  # when the last batch was committed
            for _source, doc, parts in parsed:
                self.units.fragments.update(parts)
                if isinstance(doc, ImportResult):  # unreadable, or refused before anything is written
                    order.append(doc)
                    continue
                batch.append(doc)
                order.append(None)
                if len(batch) >= size:
                    if batch_seconds is not None:
                        self._let_others_write(committed)
                    if not connection.in_atomic_block:
                        analyze_changed_tables(share=1.0, rough=True)
                    started = time.monotonic()
                    results = list(self._flush(batch, order))
                    committed = time.monotonic()
                    if batch_seconds is not None:
                        per_document = (committed - started) / len(batch)
                        # Shrinks at once, grows by doubling at most (the next documents may be longer).
                        size = max(1, min(batch_size, 2 * size, int(batch_seconds / max(per_document, 1e-6))))
                    yield from results
                    batch, order = [], []
            if batch_seconds is not None:
                self._let_others_write(committed)
            yield from self._flush(batch, order)
        finally:
            gc.set_threshold(*gc_threshold)
            gc.unfreeze()
            if pool is not None:
                pool.terminate()
                pool.join()

    @staticmethod
    def _let_others_write(committed: float | None) -> None:
        """Before a batch, leave SQLite's write lock free long enough since the last one for a waiting writer to take it.

        SQLite grants the lock to whoever asks when it is free, with no queue: a
        save waiting on it retries every 100 ms at most, and would lose every time
        to batches written back to back. (PostgreSQL locks rows, not the database.)
        Counted from the last commit: the time spent meanwhile taking in the next
        documents is part of the pause, not added to it. Only when someone is
        asking for the lock (followthrough.sqlite.WriteIntent): at L, pausing
        between every two batches took a fifth of an import with nobody waiting.
        A save that asks between this look and the next batch's BEGIN waits for
        that batch, then is seen.
        """
        if committed is None or connection.vendor != "sqlite" or connection.in_atomic_block:
            return
        from followthrough.sqlite.base import write_intent

        intent = write_intent(connection)
        if intent is not None and not intent.anyone_asking():
            return
        rest = LOCK_PAUSE - (time.monotonic() - committed)
        if rest > 0:
            time.sleep(rest)

    def _flush(self, batch: list[gateformat.Document], order: list[ImportResult | None]) -> Iterator[ImportResult]:
        # Checked by the reader already (`_parse_job`).
        written = iter(self._import_documents(batch)) if batch else iter(())
        for slot in order:
            yield slot if slot is not None else next(written)

    def import_text(self, text: str, source: str = "") -> ImportResult:
        """Parse and import; a document that cannot be read, or is refused, is a failed result, not an exception."""
        try:
            doc = gateformat.parse(text, known_units=self.parse_vocabulary, source=source)
        except gateformat.GateFormatError as exc:
            return ImportResult(source=source, outcome=FAILED, error=str(exc))
        try:
            return self.import_document(doc)
        except (ImportRefused, PermissionDenied) as exc:
            return ImportResult(source=source, outcome=FAILED, error=str(exc))

    def import_document(self, doc: gateformat.Document) -> ImportResult:
        """One document in one transaction; a failure raises and changes nothing."""
        refusal = _bounded(doc)
        if refusal is not None:
            return refusal
        return self._transaction([doc])[0]

    def import_documents(self, docs: list[gateformat.Document]) -> list[ImportResult]:
        """A batch of documents, written together (new evaluations in bulk).

        Still all or nothing per document: if the batch fails, each document is
        written again on its own, so the one that fails changes nothing and
        the others land. A document with a value too long to store is refused
        before anything is written (`tracking.text.document_problems`).
        """
        results: list[ImportResult | None] = [_bounded(doc) for doc in docs]
        written = iter(self._import_documents([d for d, r in zip(docs, results) if r is None]))
        return [r if r is not None else next(written) for r in results]

    def _import_documents(self, docs: list[gateformat.Document]) -> list[ImportResult]:
        if len(docs) == 1:
            try:
                return [self.import_document(docs[0])]
            except Exception as exc:
                return [_failed(docs[0], exc)]
        if not docs:
            return []
        try:
            return self._transaction(docs)
        except Exception:
            results = []
            for doc in docs:
                try:
                    results.append(self.import_document(doc))
                except Exception as exc:  # the document at fault
                    results.append(_failed(doc, exc))
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


def analyze_changed_tables(share: float, rough: bool = False, vacuum: bool = False) -> list[str]:
    """PostgreSQL: the planner's statistics made again for the tracking tables changed by `share` of their rows since.

    Without them PostgreSQL plans the lookup of a batch's 40 evaluations as scans of
    whole tables, ever longer as they grow (measured at 10,000 documents: 60-110 ms
    for each of the queries reading a batch's responses; the re-import took 257 s).
    Its autovacuum analyzes late during a long import, or never where it is off.
    During a run (`share` 1.0) a table is analyzed each time it has doubled: a few
    times in all, and `rough`ly (a sample of 3,000 rows, not 30,000: sizes and ids
    are all those plans need; 2.5 s for every table at 10,000 documents otherwise).
    Tables changed by fewer than 1,000 rows are left as they are.

    `vacuum` (outside a transaction only): VACUUM (ANALYZE) them, and the tables grown by `share` since their
    last vacuum too (tracking/services/statistics.py says why).
    """
    if connection.vendor != "postgresql":
        return []
    changed = "n_mod_since_analyze >= GREATEST(%s * n_live_tup, 1000)"
    if vacuum:
        with connection.cursor() as cursor:  # VACUUM cannot run in a transaction
            if connection.pg_version >= 150000:
                # This connection's last writes are counted in the statistics views only once it flushes its
                # counts, at most once a second: right after an import, the last tables it wrote looked unchanged.
                cursor.execute("SELECT pg_stat_force_next_flush()")
            tables = _tables_where(cursor, f"({changed} OR n_ins_since_vacuum >= GREATEST(%s * n_live_tup, 1000))", [share, share])
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
        return tables
    with transaction.atomic(), connection.cursor() as cursor:
        tables = _tables_where(cursor, changed, [share])
        if tables and rough:
            cursor.execute("SET LOCAL default_statistics_target = 10")
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return tables


def _tables_where(cursor, condition: str, params: list) -> list[str]:
    """The tracking tables and the search tables (the index, which their triggers write with them; the similarity job's
    lists and themes, which the similar and recurring pages read), whose `pg_stat_user_tables` row meets `condition`.
    The job's tables were left out: where autovacuum is off (as on the benchmark's machine) they were never analyzed,
    and PostgreSQL, taking each recommendation's list for 4,000 rows, not 10, read it with two parallel workers."""
    cursor.execute(
        "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() AND (relname LIKE %s OR relname LIKE %s) "
        f"AND {condition} ORDER BY relname",
        [r"tracking\_%", r"search\_%", *params],
    )
    return [row[0] for row in cursor.fetchall()]


def _failed(doc: gateformat.Document, exc: Exception) -> ImportResult:
    if isinstance(exc, (ImportRefused, PermissionDenied)):
        error = str(exc)
    else:
        error = f"{type(exc).__name__}: {exc}"
    return ImportResult(source=doc.source, outcome=FAILED, error=error)


class _Batch:
    """Documents written in one transaction: new evaluations in bulk, known ones updated one by one."""

    def __init__(self, importer: Importer, docs: list[gateformat.Document]):
        self.importer = importer
        self.jobs = [importer.document_class(importer, doc) for doc in docs]

    def run(self) -> list:
        self.importer.find_plans([job.locate_offices() for job in self.jobs])
        for job in self.jobs:
            # Each document's office, inside the transaction that writes it (a run may span many offices).
            permissions.require(self.importer.actor, permissions.IMPORT_DOCUMENTS, job.office)
        keys = [job.locate() for job in self.jobs]
        existing = {
            (e.office_id, e.plan_id, e.title): e
            for e in Evaluation.objects.filter(plan_id__in={k[1] for k in keys}, title__in={k[2] for k in keys})
        }
        new: list[DocumentImport] = []
        later: list[tuple[DocumentImport, tuple]] = []
        claimed = set()
        for job, key in zip(self.jobs, keys):
            if key in existing or key in claimed:
                later.append((job, key))  # known, or twice in this batch: an update
            else:
                claimed.add(key)
                new.append(job)
        known = {existing[key].pk for _, key in later if key in existing}  # before the batch made any
        # Locked before what they hold is read (PostgreSQL): a progress update or the similarity job's regrouping
        # committed between that read and this batch's writes would be counted again in the difference.
        tallies.lock_evaluations(known)
        records = []
        updates: list[ActionUpdate] = []
        if new:
            created = create_all(self.importer, new)
            existing.update(created)
            for job in new:
                records += job.records
        # What the known evaluations hold, read for the batch at once (a few queries, not a few per document).
        loaded = load_responses({existing[key].pk for _, key in later}) if later else {}
        # The counts behind the figures (tracking.services.tallies) move only with the evaluations a
        # document changes: what those held is kept from what was just read (values, not counts: the
        # update changes these objects), and nothing is counted for a document that changed nothing.
        held = {pk: _counted(*loaded[pk]) for pk in known if pk in loaded}
        # What they held in the recurring themes' counts, counted in the database (the values read know no theme):
        # of those with a recommendation in a theme only, none of them until the similarity job has run.
        themed = tallies.themed(known)
        held_themes = tallies.themes_counted(themed) if themed else Counter()
        # The home page's counts of what they held (tallies.records), from the same values.
        held_records = {
            existing[key].pk: _records_held(existing[key].joint_lead_id, *loaded[existing[key].pk])
            for _, key in later if key in existing and existing[key].pk in known and existing[key].pk in loaded
        }
        updated = set()
        for job, key in later:
            evaluation = existing[key]
            # The same evaluation twice in a batch: the second reads what the first wrote.
            job.update(evaluation, None if key in updated else loaded.get(evaluation.pk, (None, None)))
            updated.add(key)
            records += job.records
            updates += job.updates
        history.write(records)
        if updates:
            ActionUpdate.objects.bulk_create(updates)
        self._count(existing, later, new, held, held_records, themed, held_themes)
        return [job.finish() for job in self.jobs]

    @staticmethod
    def _count(existing: dict, later: list, new: list, held: dict, held_records: dict, themed: set[int], held_themes: Counter) -> None:
        """The difference the batch made to the counts, added to the kept ones (in its transaction).

        Changed evaluations are counted again in the database; new ones the batch did not change
        again are counted from what it wrote; what changed ones held, from what it read. The record
        counts of new and changed evaluations: in the database after, from what was read before.
        """
        changed = sorted({existing[key].pk for job, key in later if job.result.outcome != UNCHANGED})
        fresh = {job.result.evaluation_id: job.counted for job in new if job.result.evaluation_id not in changed}
        values = tallies.evaluation_values([*fresh, *(pk for pk in changed if pk in held)])
        after = tallies.count_responses((values[pk], *counted) for pk, counted in fresh.items())
        if changed:
            after.update(tallies.counts(KeyAction.objects.filter(evaluation_id__in=changed)))
        before = tallies.count_responses((values[pk], *held[pk]) for pk in changed if pk in held)
        created = {job.result.evaluation_id for job in new if job.result.evaluation_id is not None}
        after.update(tallies.records({*changed, *created}))
        before.update(tallies.count_records(held_records[pk] for pk in changed if pk in held_records))
        # The themes' counts of the evaluations that had any, before and after (a new one has none; none came since:
        # locked).
        after = tallies.without_themes(after)
        if themed:
            after.update(tallies.themes_counted(themed))
            before.update(held_themes)
        tallies.add(after, before)


def _records_held(joint_lead: int | None, mr, recommendations) -> tuple:
    """An evaluation as `load_responses` read it, as the record counts see it (`tallies.count_records`)."""
    return joint_lead, mr.status, [rec.shared_from_id for rec in recommendations]


def _counted(mr, recommendations) -> tuple:
    """A response as read by `load_responses`, as the counts see it (`tallies.count_responses`)."""
    return mr.status, [
        (
            rec.category,
            [(tag.term.kind, tag.term_id) for tag in rec.tags.all()],
            [(a.status, a.deadline, a.verification, a.first_deadline, a.completed_on) for a in rec.key_actions.all()],
        )
        for rec in recommendations
    ]


_PARSE_VOCABULARY = None
_KNOWN_KEYS: frozenset[str] = frozenset()


def _init_parser(vocabulary, known_keys: frozenset[str]) -> None:
    global _PARSE_VOCABULARY, _KNOWN_KEYS
    _PARSE_VOCABULARY, _KNOWN_KEYS = vocabulary, known_keys


def _parse_job(item: tuple[str, str]):
    """Read and check one document, and divide its responsible texts into unit names (work the writer need not do).

    The document, or the failed result of one that cannot be read or stored (`_bounded`).
    """
    source, text = item
    try:
        doc = gateformat.parse(text, known_units=_PARSE_VOCABULARY, source=source)
    except gateformat.GateFormatError as exc:
        return source, ImportResult(source=source, outcome=FAILED, error=str(exc)), {}
    refusal = _bounded(doc)
    if refusal is not None:
        return source, refusal, {}
    texts = {a.responsible for a in doc.key_actions} | set(doc.management_response.units)
    return source, doc, {t: fragments(t, is_known=_KNOWN_KEYS.__contains__) for t in texts}
