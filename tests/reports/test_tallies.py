"""The counts kept beside the key actions equal the counts made again from them, whatever happened.

A random sequence (several seeds) of imports of generated documents, imports
of changed versions of them (statuses, deadlines, categories, tags, key
actions and recommendations dropped), progress updates, responses drafted,
submitted, approved and returned, key actions and recommendations edited and
deleted, all through the services. After every step the `ActionTally` rows
must be what `tallies.rebuild()` would write (and their sums over the deadline
months, `TallySum`, what `tallies.make_sums()` would), and at the end every figure
the pages show from them (totals, every breakdown, the annual report's due
by year end, the home and office status counts) must equal the same figure
counted from the key actions, for the public, a scoped reader and everyone.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections import Counter

import pytest
from django.db.models import F

from gateformat.generate import Generator
from reports import figures
from tracking import queries
from tracking.actor import Actor
from tracking.models import (
    ActionTally,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Office,
    Recommendation,
    Region,
    Term,
    Unit,
)
from tracking.models.accountability import VerificationState
from tracking.models.responses import ActionStatus, ResponseStatus, month_end, today
from tracking.models.tallies import (
    ACCOUNTABILITY,
    AS_OF,
    THEME,
    THEME_RECORDS,
    THEME_SPREAD,
    TallySum,
    month_index,
    sums_current,
)
from tracking.permissions import EVERYTHING, PUBLIC, Reader, restrict
from tracking.services import drafting, tallies
from tracking.services.deadlines import revise_deadline
from tracking.services.importer import Importer
from tracking.services.progress import record_progress
from tracking.services.verification import verify_completion

pytestmark = pytest.mark.django_db(transaction=False)
SYSTEM = Actor.system("test")
ON = dt.date(2025, 7, 15)  # the day the figures are counted for: the kept sums are made as of its month
STATUSES = [s.value for s in ActionStatus]


def kept() -> Counter:
    rows = list(ActionTally.objects.exclude(dimension="_version").values_list("dimension", "group_key", "approved", "status", "deadline_month", "verified", "n"))
    assert all(r[-1] > 0 for r in rows), "a count of zero or less is kept"
    return Counter({r[:-1]: r[-1] for r in rows})


def truth() -> Counter:
    return tallies.everything()


class World:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.theme_rng = random.Random(seed + 1000)
        self.generator = Generator(seed)
        self.docs = []
        self.importer = Importer(SYSTEM, allow_removals=True)  # a changed page may drop key actions: archived, still counted

    # The world's choices come from its seed alone: the database's own random order ("?") made a seed's sequence
    # differ from run to run and from one database to the other.
    def _pick(self, queryset):
        rows = list(queryset.order_by("pk").distinct())
        return self.rng.choice(rows) if rows else None

    def _some(self, queryset, most: int):
        rows = list(queryset.order_by("pk"))
        return self.rng.sample(rows, min(len(rows), self.rng.randint(0, most)))

    # --- the steps ----------------------------------------------------------------------------

    def import_new(self):
        batch = [g.document for g in self.generator.documents(self.rng.randint(1, 3))]
        self.docs += batch
        self.importer.import_documents(batch)

    def import_changed(self):
        if not self.docs:
            return self.import_new()
        doc = copy.deepcopy(self.rng.choice(self.docs))
        for rec in doc.recommendations:
            rec.category = self.rng.choice(["", "Accepted", "Rejected", rec.category])
            if self.rng.random() < 0.3:
                rec.operating_principles = rec.operating_principles[:1]
            for action in rec.key_actions:
                action.status = self.rng.choice(STATUSES)
                if self.rng.random() < 0.3:
                    action.deadline = f"{self.rng.randint(2015, 2027)}-{self.rng.randint(1, 12):02d}"
            if len(rec.key_actions) > 1 and self.rng.random() < 0.4:
                rec.key_actions.pop()
        if len(doc.recommendations) > 1 and self.rng.random() < 0.3:
            doc.recommendations.pop()
        self.importer.import_document(doc)

    def import_batch(self):
        """Known documents in one batch: some changed, some as they were, one perhaps twice (changed again)."""
        if not self.docs:
            return self.import_new()
        batch = []
        for doc in self.rng.sample(self.docs, min(len(self.docs), self.rng.randint(2, 4))):
            doc = copy.deepcopy(doc)
            if self.rng.random() < 0.5:
                for action in doc.key_actions:
                    action.status = self.rng.choice(STATUSES)
                doc.recommendations[0].category = self.rng.choice(["", "Accepted", "Rejected"])
            batch.append(doc)
        if self.rng.random() < 0.5:
            again = copy.deepcopy(batch[0])
            for action in again.key_actions:
                action.status = self.rng.choice(STATUSES)
            batch.append(again)
        new = [g.document for g in self.generator.documents(self.rng.randint(0, 1))]  # and perhaps a new one
        self.docs += new
        self.importer.import_documents(batch + new)

    def progress(self):
        action = self._pick(KeyAction.objects.filter(evaluation__management_response__status=ResponseStatus.APPROVED))
        if action is None:
            return
        status = self.rng.choice(STATUSES)
        evidence = "https://example.org/evidence" if status == "Completed" else ""  # a completion carries its evidence
        record_progress(SYSTEM, action, version=action.version, status=status, comment="Progress.", evidence_url=evidence,
                        reopen_reason="Reopened.")

    def revise(self):
        """A deadline moved (through the services): the first one is kept, and the action may turn late against it."""
        action = self._pick(KeyAction.objects.exclude(status=ActionStatus.NO_LONGER_APPLICABLE))
        if action is None:
            return
        deadline = dt.date(self.rng.randint(2022, 2027), self.rng.randint(1, 12), 1)
        if deadline != action.deadline:
            revise_deadline(SYSTEM, action, version=action.version, deadline=deadline, reason="Moved.")

    def verify(self):
        """The evaluation office accepts a completion (counted as verified) or sends it back (reopened)."""
        action = self._pick(KeyAction.objects.filter(status=ActionStatus.COMPLETED, verification=VerificationState.AWAITING))
        if action is None:
            action = self._pick(KeyAction.objects.filter(evaluation__management_response__status=ResponseStatus.APPROVED))
            if action is None:
                return
            record_progress(SYSTEM, action, version=action.version, status="Completed", comment="Done.",
                            evidence_url="https://example.org/evidence")
            action.refresh_from_db()
        accept = self.rng.random() < 0.7
        verify_completion(SYSTEM, action, version=action.version, accept=accept, reason="" if accept else "No evidence of it.")

    def draft(self):
        office = self._pick(Office.objects)
        if office is None:
            return self.import_new()
        ev = drafting.create_evaluation(
            SYSTEM, office=office, start_year=2020, end_year=2022, title=f"Drafted {self.rng.random()}",
            year=self.rng.choice([2020, 2021, 2022]),
        )
        terms = self._some(Term.objects.all(), 3)
        rec = drafting.add_recommendation(
            SYSTEM, ev.management_response, fields={"number": "1", "text": "Do it.", "category": "Accepted"}, terms=terms
        )
        for i in range(self.rng.randint(1, 3)):
            deadline = dt.date(self.rng.randint(2019, 2027), self.rng.randint(1, 12), 1) if self.rng.random() < 0.8 else None
            drafting.add_action(
                SYSTEM, rec, fields={"number": f"1.{i + 1}", "text": "Act.", "deadline": deadline, "status": self.rng.choice(STATUSES)}
            )

    def discard(self):
        """An empty evaluation: created (and kept, at times), or deleted (one left without recommendations)."""
        empty = self._pick(Evaluation.objects.filter(recommendations__isnull=True))
        if empty is None or self.rng.random() < 0.5:
            office = self._pick(Office.objects)
            if office is None:
                return self.import_new()
            empty = drafting.create_evaluation(SYSTEM, office=office, start_year=2020, end_year=2022, title=f"Empty {self.rng.random()}")
            if self.rng.random() < 0.5:
                return
        drafting.delete_evaluation(SYSTEM, empty, version=empty.version)

    def _draft_response(self):
        return self._pick(
            ManagementResponse.objects.filter(status__in=[ResponseStatus.DRAFT, ResponseStatus.RETURNED], recommendations__isnull=False)
        )

    def edit(self):
        response = self._draft_response()
        if response is None:
            return self.draft()
        action = self._pick(KeyAction.objects.filter(evaluation_id=response.evaluation_id))
        if action is not None:
            drafting.update_action(
                SYSTEM, action, version=action.version,
                fields={"number": action.number, "text": action.text, "status": self.rng.choice(STATUSES),
                        "deadline": dt.date(self.rng.randint(2019, 2027), self.rng.randint(1, 12), 1)},
            )
        rec = self._pick(response.recommendations)
        drafting.update_recommendation(
            SYSTEM, rec, version=rec.version, fields={"number": rec.number, "text": rec.text, "category": self.rng.choice(["", "Partially Accepted"])},
            terms=self._some(Term.objects.all(), 2),
        )

    def delete(self):
        response = self._draft_response()
        if response is None:
            return self.draft()
        action = self._pick(KeyAction.objects.filter(evaluation_id=response.evaluation_id))
        if action is not None and self.rng.random() < 0.6:
            drafting.delete_action(SYSTEM, action, version=action.version)
        else:
            rec = self._pick(response.recommendations)
            drafting.delete_recommendation(SYSTEM, rec, version=rec.version)

    def _complete(self, response):
        """What the submission checks ask for, through the services: an overall response, a unit and a deadline
        for each key action, a key action for each accepted recommendation."""
        unit = Unit.objects.filter(office_id=response.evaluation.office_id).first() or Unit.objects.create(
            office_id=response.evaluation.office_id, name=f"Unit {response.evaluation.office_id}"
        )
        drafting.update_response(SYSTEM, response, version=response.version, overall_response="Accepted.", units=[unit])
        for rec in response.recommendations.all():
            if not rec.key_actions.exists():
                drafting.add_action(SYSTEM, rec, fields={"number": f"{rec.number}.1", "text": "Act.", "status": "Not Initiated",
                                                         "deadline": dt.date(2026, 1, 1)}, units=[unit])
        for action in KeyAction.objects.filter(evaluation_id=response.evaluation_id):
            drafting.update_action(
                SYSTEM, action, version=action.version, units=[unit],
                fields={"number": action.number, "text": action.text, "status": action.status,
                        "deadline": action.deadline or dt.date(2026, 1, 1)},
            )

    def review(self):
        response = self._draft_response()
        if response is None:
            return self.draft()
        self._complete(response)
        response.refresh_from_db()
        submitted = drafting.submit_response(SYSTEM, response, version=response.version)
        if self.rng.random() < 0.7:
            drafting.approve_response(SYSTEM, submitted, version=submitted.version)
        else:
            drafting.return_response(SYSTEM, submitted, version=submitted.version, reason="Again.")

    def themes(self):
        """The similarity job groups recommendations into recurring themes again, as it writes them: all at once (its
        full run, `_write_themes`), or a few placed in another theme (its incremental run), inside `themes_moving`.
        Random groups, from a random generator of their own: the other steps' sequence stays each seed's."""
        import numpy as np
        from django.db import transaction

        from search import recurring
        from search.models import Theme, ThemeMember

        rng = self.theme_rng
        ids = list(Recommendation.objects.order_by("pk").values_list("pk", flat=True))
        if len(ids) < 4:
            return
        if rng.random() < 0.5 or not Theme.objects.exists():
            chosen = rng.sample(range(len(ids)), rng.randint(2, len(ids)))
            groups = [chosen[i : i + 3] for i in range(0, len(chosen), 3)]
            themes = [{"terms": ["t"], "public": [], "rows": np.array(g), "closeness": np.ones(len(g))} for g in groups if len(g) > 1]
            with transaction.atomic(), recurring.themes_moving(None):
                recurring._write_themes(themes, ids, "tfidf")
        else:
            moved = rng.sample(ids, rng.randint(1, 3))
            theme_ids = list(Theme.objects.order_by("pk").values_list("pk", flat=True))
            with transaction.atomic(), recurring.themes_moving(moved):
                ThemeMember.objects.filter(recommendation_id__in=moved).delete()
                ThemeMember.objects.bulk_create(
                    [ThemeMember(recommendation_id=pk, theme_id=rng.choice(theme_ids), closeness=0.0) for pk in moved if rng.random() < 0.8]
                )

    STEPS = ("import_new", "import_changed", "import_batch", "progress", "progress", "verify", "verify", "revise", "draft", "edit", "delete",
             "review", "discard")


# Seeds whose sequences reach every kind of change the assertions below ask for (the same on both databases).
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_kept_counts_equal_the_counts_made_again_after_any_sequence_of_changes(seed):
    tallies.make_sums(month_index(ON))  # the sums move with the counts as of ON's month, as of the current month in use
    world = World(seed)
    world.import_new()
    for step in range(30):
        name = world.rng.choice(World.STEPS)
        getattr(world, name)()
        assert kept() == truth(), f"step {step}: {name}"
        if step % 3 == 0:
            world.themes()
            assert kept() == truth(), f"step {step}: themes"
        assert tallies.kept_sums() == tallies.sums_made_again(month_index(ON)), f"step {step}: {name}"
    for _ in range(2):  # verified completions counted, whatever the order the steps came in
        world.verify()
        assert kept() == truth(), "verify"
    assert sum(kept().values()) > 0
    assert any(verified for (*_, verified) in kept()), "no verified completion counted: the sequence did not reach them"
    # The first deadlines and completion dates counted: completions with their days late, open actions late against a
    # first deadline that was moved.
    assert any(k[0] == ACCOUNTABILITY and k[1].startswith("c") and not k[1].endswith(":") for k in kept())
    assert KeyAction.objects.exclude(first_deadline=None).exclude(first_deadline=F("deadline")).exists()
    # The recurring themes' counts, of approved responses and of drafts.
    assert {k[2] for k in kept() if k[0] == THEME} == {True, False}
    assert {k[3] for k in kept() if k[0] == THEME_RECORDS} == {"r", "e"}
    assert {k[3][:1] for k in kept() if k[0] == THEME_SPREAD} == {"o", "y"}
    drafts = Evaluation.objects.exclude(management_response__status=ResponseStatus.APPROVED).values_list("office_id", flat=True)
    scoped = Reader(internal=True, offices=frozenset([*drafts[:1], Office.objects.order_by("pk").values_list("pk", flat=True)[0]]))
    # Each region's figures too (the counts kept within each region); a region without offices and one that does not
    # exist have none, as the key actions say; a reader of one region's drafts too.
    regions = sorted(set(Office.objects.filter(evaluations__isnull=False).exclude(region=None).values_list("region_id", flat=True)))
    assert len(regions) >= 2, regions
    empty = Region.objects.create(name="A region without offices", slug="empty-region").pk
    regional = Reader(internal=True, regions=frozenset(regions[:1]))
    for reader in (PUBLIC, scoped, regional, EVERYTHING):
        _same_figures(reader)
        for region in (*regions, empty, empty + 1000):
            _same_figures(reader, region)
    for reader in (PUBLIC, EVERYTHING):
        _same_themes(reader)
    tallies.make_sums()  # this month's sums: the themes' rates read them
    for reader in (PUBLIC, EVERYTHING):
        _same_themes(reader)


def _same_themes(reader):
    """The portfolio of recurring themes added up from the kept counts equals the one counted from the members."""
    from search import portfolio

    def rows():
        return [
            (r.theme.pk, r.label, r.size, r.evaluations, r.offices, r.n_offices, r.first_year, r.last_year, r.due, r.done)
            for r in portfolio.themes(reader, portfolio.PortfolioFilters(), internal=reader.internal)
        ]

    assert portfolio._kept(reader, portfolio.PortfolioFilters()) is not None  # read from the kept counts
    kept_rows = rows()
    with pytest.MonkeyPatch.context() as counted:
        counted.setattr(portfolio, "_kept", lambda *args: None)
        assert kept_rows == rows()
    assert kept_rows, "no recurring theme: the sequence made none"


def _same_figures(reader, region: int | None = None):
    """The figures from the kept counts equal those counted from the key actions (of one region, if given)."""
    on = ON
    assert sums_current(month_index(on)).exists()  # read from the kept sums
    filters = queries.Filters(region=region)
    actions = filters.actions(restrict(reader, KeyAction))
    source = figures.Source.of(reader, filters, actions)
    assert source.tallied and source.region == region
    live = figures.Source(actions, None)
    keys = list(figures.BREAKDOWNS)
    for a, b in ((source, live), (source.due_by_end_of(2024), live.due_by_end_of(2024))):
        assert _plain(a.totals(on)) == _plain(b.totals(on))
        # Every table at once (the kept ones added up in one query), as each counted apart.
        together = a.breakdowns(keys, on)
        assert list(together) == keys
        for by in keys:
            assert [_plain(f) for f in together[by]] == [_plain(f) for f in b.breakdown(by, on)], by
        for by in figures.BREAKDOWNS:
            assert [_plain(f) for f in a.breakdown(by, on)] == [_plain(f) for f in b.breakdown(by, on)], by
            assert [_accountable(f) for f in a.breakdown(by, on, accountability=True)] == [
                _accountable(f) for f in b.breakdown(by, on, accountability=True)
            ], by
        assert _accountable(a.totals(on)) == _accountable(b.totals(on))
    # The annual report's: the counts due by the end of a year, as of its last day (or ON, within ON's year), read from
    # the sums of ON's month moved by the counts of the months between (`figures._sums_moved`); years before ON's, its
    # own, after it.
    for year in range(ON.year - 3, ON.year + 2):
        as_at = min(on, dt.date(year, 12, 31))
        a, b = source.due_by_end_of(year), live.due_by_end_of(year)
        assert _plain(a.totals(as_at, accountability=False)) == _plain(b.totals(as_at, accountability=False)), year
        together = a.breakdowns(keys, as_at)
        for by in keys:
            assert [_plain(f) for f in together[by]] == [_plain(f) for f in b.breakdown(by, as_at)], (year, by)
    # The closure rate and days late of each year, from the kept counts and from the key actions.
    kept_figures = source.accountability()
    for year in range(2015, today().year + 2):
        assert source.closure(year) == figures.closure(actions, year), year
        in_year = actions.filter(completed_on__gte=dt.date(year, 1, 1), completed_on__lt=dt.date(year + 1, 1, 1))
        assert _lateness(kept_figures.lateness(year)) == _lateness(figures.days_late(in_year)), year
        assert kept_figures.completed_in(year) == in_year.filter(status=ActionStatus.COMPLETED).count(), year
    if region is not None:
        # Another filter beside the region: counted from the key actions.
        assert not figures.Source.of(reader, queries.Filters(region=region, status="Completed"), actions).tallied
        return
    # The home page's counts: each evaluation and recommendation read once (a joint evaluation's partners and copies
    # with their lead), as a DISTINCT over the rows counts them.
    evaluations = {lead or pk for pk, lead in restrict(reader, Evaluation).values_list("pk", "joint_lead_id")}
    recommendations = {lead or pk for pk, lead in restrict(reader, Recommendation).values_list("pk", "shared_from_id")}
    assert queries.home_counts(reader) == (len(evaluations), len(recommendations))
    office = Office.objects.order_by("pk").first()
    assert queries.counted_status_figures(reader, on=on) == queries.status_figures(actions, on)
    assert queries.counted_status_figures(reader, office, on) == queries.status_figures(actions.filter(evaluation__office=office), on)
    # A filter narrows the figures: counted from the key actions.
    year = Evaluation.objects.order_by("pk").values_list("year", flat=True).first()
    assert not figures.Source.of(reader, queries.Filters(year=year), actions).tallied
    assert not figures.Source.of(reader, queries.Filters(status="Completed"), actions).tallied


def _lateness(x: figures.Lateness) -> tuple:
    return x.dated, x.on_time, None if x.average is None else round(x.average, 6), x.median


def _plain(f: figures.Figures) -> tuple:
    avg = None if f.overdue_age_avg is None else round(f.overdue_age_avg, 6)
    return (f.label, f.key, f.total, f.by_status, f.other, f.due, f.completed_due, f.overdue, f.overdue_long, avg, f.overdue_age_max,
            f.completed_verified, f.completed_due_verified)


def _accountable(f: figures.Figures) -> tuple:
    """The figures of first deadlines and completion dates (from the key actions, asked for by name)."""
    late = None if f.days_late_avg is None else round(f.days_late_avg, 6)
    return (_plain(f), f.completed_dated, f.completed_late, late, f.days_late_max, f.ageing, f.overdue_hidden)


def test_rebuild_writes_the_same_counts():
    World(7).import_new()
    before = kept()
    assert before
    ActionTally.objects.all().delete()
    assert kept() != before
    assert tallies.rebuild() == len(before)
    assert kept() == before


def test_the_command_finds_counts_changed_by_hand_and_makes_them_again():
    from django.core.management import CommandError, call_command

    World(5).import_new()
    call_command("tallies")  # in step
    KeyAction.objects.filter(pk=KeyAction.objects.order_by("pk").values_list("pk", flat=True)[0]).update(status="Completed", deadline=None)
    with pytest.raises(CommandError, match="differ from the key actions"):
        call_command("tallies")
    call_command("tallies", "--rebuild")
    call_command("tallies")
    assert kept() == truth()
    # The sums too.
    TallySum.objects.filter(pk=TallySum.objects.exclude(dimension=AS_OF).order_by("pk").values_list("pk", flat=True)[0]).update(due=-1)
    with pytest.raises(CommandError, match="sums of the counts differ"):
        call_command("tallies")
    call_command("tallies", "--rebuild")
    call_command("tallies")
    assert tallies.kept_sums() == tallies.sums_made_again(month_index(today()))


@pytest.mark.parametrize("seed", [4, 5])
def test_counts_of_the_rows_as_values_equal_the_counts_made_in_the_database(seed):
    """What the importer counts without a query (what it read, what it wrote) is what `counts` makes of the rows."""
    from tracking.services.importer.pipeline import _counted, _records_held
    from tracking.services.importer.update import load_responses

    world = World(seed)
    world.import_new()
    for _ in range(25):
        getattr(world, world.rng.choice(World.STEPS))()
    ids = set(Evaluation.objects.values_list("pk", flat=True))
    loaded = load_responses(ids)
    values = tallies.evaluation_values(ids)
    as_values = tallies.count_responses((values[pk], *_counted(*loaded[pk])) for pk in loaded)
    assert as_values == tallies.counts(KeyAction.objects.all())
    assert any(verified for (*_, verified) in as_values) and any(approved for (_, _, approved, *_) in as_values)
    # Each evaluation on its own too (a batch counts a few of them).
    for pk in sorted(loaded)[:5]:
        assert tallies.count_responses([(values[pk], *_counted(*loaded[pk]))]) == tallies.counts(KeyAction.objects.filter(evaluation_id=pk))
    # The record counts (the home page's) of what was read, as `records` counts them in the database.
    leads = dict(Evaluation.objects.values_list("pk", "joint_lead_id"))
    held = {pk: _records_held(leads[pk], *loaded[pk]) for pk in loaded}
    assert tallies.count_records(held.values()) == tallies.records(ids) and tallies.records(ids)
    for pk in sorted(loaded)[:5]:
        assert tallies.count_records([held[pk]]) == tallies.records([pk])


def test_an_unchanged_reimport_counts_nothing_and_writes_no_count():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = World(11)
    world.import_new()
    world.import_new()
    before = list(ActionTally.objects.order_by("pk").values_list())
    with CaptureQueriesContext(connection) as queries:
        results = world.importer.import_documents(copy.deepcopy(world.docs))
    assert {r.outcome for r in results} == {"unchanged"}
    counting = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"] or ActionTally._meta.db_table in q["sql"]]
    assert counting == []
    assert list(ActionTally.objects.order_by("pk").values_list()) == before
    # One changed among them: its counts move, and only its evaluation is counted again.
    docs = copy.deepcopy(world.docs)
    docs[0].key_actions[0].status = "Completed" if docs[0].key_actions[0].status != "Completed" else "Ongoing"
    with CaptureQueriesContext(connection) as queries:
        world.importer.import_documents(docs)
    grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    # The plain counts (with the recurring themes'), the tags' and the first deadlines and completion dates', and its
    # records (evaluations, recommendations, the themes' records), of the changed evaluation.
    assert len(grouped) == 6
    assert kept() == truth()


def test_a_progress_update_that_dates_an_imported_completion_moves_its_counts():
    """An imported completion has no date; a progress update that keeps it Completed gives it today's: its days late are
    counted from then on, though its status and verification did not move."""
    world = World(5)
    world.import_new()
    action = KeyAction.objects.filter(
        status=ActionStatus.COMPLETED, completed_on=None, evaluation__management_response__status=ResponseStatus.APPROVED
    ).exclude(deadline=None).first()
    assert action is not None
    record_progress(SYSTEM, action, version=action.version, status="Completed", comment="Still done.",
                    evidence_url="https://example.org/evidence")
    action.refresh_from_db()
    assert action.completed_on == today()
    assert kept() == truth()
    late = str((today() - month_end(action.deadline)).days)
    assert any(k[0] == ACCOUNTABILITY and k[1].endswith(f":{today().year}:{late}") for k in kept())


def _figures_of(reader, on, due_by_end_of: int | None = None):
    filters = queries.Filters()
    source = figures.Source.of(reader, filters, filters.actions(restrict(reader, KeyAction)))
    if due_by_end_of is not None:
        source = source.due_by_end_of(due_by_end_of)
    return _plain(source.totals(on, accountability=False)), [_plain(f) for f in source.breakdown("office", on)]


def _live_figures(on, due_by_end_of: int | None = None):
    live = figures.Source(KeyAction.objects.all(), None)
    if due_by_end_of is not None:
        live = live.due_by_end_of(due_by_end_of)
    return _plain(live.totals(on, accountability=False)), [_plain(f) for f in live.breakdown("office", on)]


def test_the_figures_read_the_sums_of_their_month_and_else_add_up_the_counts():
    world = World(6)
    world.import_new()
    for _ in range(4):
        world.progress()
    tallies.make_sums(month_index(ON))
    live = figures.Source(KeyAction.objects.all(), None)
    truth_on = (_plain(live.totals(ON, accountability=False)), [_plain(f) for f in live.breakdown("office", ON)])
    assert _figures_of(EVERYTHING, ON) == truth_on
    # The sums are what is read: changed by hand, the figures of their month say so ...
    cell = TallySum.objects.filter(dimension="all").exclude(status="").order_by("pk").first()
    TallySum.objects.filter(pk=cell.pk).update(n=cell.n + 1000, due=cell.due + 1000)  # all of them, and dated up to their month
    assert _figures_of(EVERYTHING, ON)[0][2] == truth_on[0][2] + 1000
    # ... and so are the annual report's, of a year before (the sums moved by the counts between) ...
    past_year = dt.date(ON.year - 1, 12, 31)
    assert _figures_of(EVERYTHING, past_year, ON.year - 1)[0][2] == _live_figures(past_year, ON.year - 1)[0][2] + 1000
    # ... and not those of another month: no sums as of it, the counts are added up (a later month's annual report
    # too: sums before its month).
    later = ON + dt.timedelta(days=62)
    assert _figures_of(EVERYTHING, later, later.year) == _live_figures(later, later.year)
    assert _figures_of(EVERYTHING, later) == (
        _plain(live.totals(later, accountability=False)), [_plain(f) for f in live.breakdown("office", later)]
    )
    # Made again: right. An empty group (no office of the region has a key action) reads no row, as the counts say.
    tallies.make_sums(month_index(ON))
    assert _figures_of(EVERYTHING, ON) == truth_on
    empty = Region.objects.create(name="Nowhere", slug="nowhere").pk
    Office.objects.create(name="Nobody", slug="nobody", region_id=empty, type_id=Office.objects.values_list("type_id", flat=True)[0])
    filters = queries.Filters(region=empty)
    source = figures.Source.of(EVERYTHING, filters, filters.actions(KeyAction.objects.all()))
    assert source.totals(ON, accountability=False).total == 0 and source.breakdown("office", ON) == []


def test_counts_moved_without_their_sums_are_added_up_until_the_sums_are_made_again(monkeypatch):
    """During an upgrade a server still on the code of before the sums moves the counts alone: the sums, behind them,
    are not read (the figures add up the counts) until the hourly job makes them again."""
    from jobs.tasks import refresh_tally_sums

    world = World(12)
    world.import_new()
    tallies.make_sums(month_index(ON))
    live = figures.Source(KeyAction.objects.all(), None)
    monkeypatch.setattr(tallies, "_add_sums", lambda delta, cursor: None)
    for _ in range(3):
        world.progress()
    monkeypatch.undo()
    assert kept() == truth() and tallies.kept_sums() != tallies.sums_made_again(month_index(ON))
    assert not sums_current(month_index(ON)).exists()
    truth_on = (_plain(live.totals(ON, accountability=False)), [_plain(f) for f in live.breakdown("office", ON)])
    assert _figures_of(EVERYTHING, ON) == truth_on
    # The annual report's too (the sums moved by the counts between): behind, not read either.
    past_year = dt.date(ON.year - 1, 12, 31)
    assert _figures_of(EVERYTHING, past_year, ON.year - 1) == _live_figures(past_year, ON.year - 1)
    world.progress()  # and after a change made with them: still behind, still not read
    assert not sums_current(month_index(ON)).exists()
    assert refresh_tally_sums.call() > 0  # as of this month (not ON's), in step
    assert sums_current(month_index(today())).exists()
    assert tallies.kept_sums() == tallies.sums_made_again(month_index(today()))
    # This month's sums, as in use, moved to the end of last year (the annual report's).
    last_year = dt.date(today().year - 1, 12, 31)
    assert _figures_of(EVERYTHING, last_year, last_year.year) == _live_figures(last_year, last_year.year)


def test_only_what_the_sums_keep_narrows_them():
    """A filter the sums do not keep (a deadline month), an expression or the same field twice: not misread."""
    counts = ActionTally.objects
    assert figures._as_sums(counts.filter(dimension="all", deadline_month__lte=24300)) is None
    assert figures._as_sums(counts.filter(dimension=F("status"))) is None
    assert figures._as_sums(counts.filter(status="Completed")) is None
    both = figures._as_sums(counts.filter(dimension="all").filter(dimension="office"))
    assert "all" in str(both.query) and "office" in str(both.query)
    approved = figures._as_sums(counts.filter(approved=True).filter(approved=False, dimension="all"))
    assert str(approved.query).count("approved") >= 2


def test_a_first_overdue_month_taken_away_is_read_again_from_the_counts():
    """The first past deadline month of a group (the oldest overdue action's age) cannot be taken from the sums when its
    key action is completed: it is read again from the counts, in the same change."""
    tallies.make_sums(month_index(ON))
    world = World(8)
    world.import_new()
    world.import_new()
    action = (
        KeyAction.objects.filter(evaluation__management_response__status=ResponseStatus.APPROVED, deadline__lt=ON.replace(day=1))
        .exclude(status__in=["Completed", "No Longer Applicable"]).order_by("deadline", "pk").first()
    )
    assert action is not None
    first = TallySum.objects.get(dimension="all", group_key="", approved=True, status=action.status).first_past
    assert first == month_index(action.deadline)
    record_progress(SYSTEM, action, version=action.version, status="Completed", comment="Done.", evidence_url="https://example.org/e")
    assert tallies.kept_sums() == tallies.sums_made_again(month_index(ON))
    still = KeyAction.objects.filter(evaluation__management_response__status=ResponseStatus.APPROVED, status=action.status,
                                     deadline__lt=month_end(ON).replace(day=1)).order_by("deadline").first()
    after = TallySum.objects.filter(dimension="all", group_key="", approved=True, status=action.status).values_list("first_past", flat=True).first()
    assert after == (month_index(still.deadline) if still else None)


def test_the_hourly_job_makes_the_sums_of_a_new_month_once():
    from jobs import schedule
    from jobs.tasks import refresh_tally_sums

    World(9).import_new()
    this_month = month_index(today())
    tallies.make_sums(this_month - 1)  # last month's
    assert refresh_tally_sums.call() == len(tallies.sums_made_again(this_month)) > 0
    assert tallies.sums_month() == this_month
    assert tallies.kept_sums() == tallies.sums_made_again(this_month)
    assert refresh_tally_sums.call() is None  # as of this month already: nothing to do
    assert TallySum.objects.filter(dimension=AS_OF).count() == 1
    entry = {p.name: p for p in schedule.registered()}[refresh_tally_sums.name]
    assert entry.every == dt.timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_themes_the_job_wrote_before_it():
    """A database whose themes were written before the themes were counted (tracking 0033) has them counted by it."""
    from django.core.management import call_command

    from search.models import Theme
    from tests.search.factories import put_in_theme

    world = World(5)
    world.import_new()
    world.import_new()
    tallies.make_sums()  # this month's sums kept (a database flushed by an earlier test has none)
    theme = Theme.objects.create(label="t", public_label="t", method="tfidf")
    put_in_theme(theme, Recommendation.objects.order_by("pk")[:4])
    counted = kept()
    assert any(k[0] == THEME for k in counted) and counted == truth()
    call_command("migrate", "tracking", "0032_tally_sums", verbosity=0)
    assert not any(k[0] in (THEME, THEME_RECORDS, THEME_SPREAD) for k in kept())
    call_command("migrate", verbosity=0)
    assert kept() == counted
    assert tallies.kept_sums() == tallies.sums_made_again(month_index(today()))
