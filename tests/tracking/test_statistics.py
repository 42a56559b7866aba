"""The planner's statistics made again every night (jobs.tasks.refresh_statistics), not only after imports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection

from jobs import schedule
from jobs.tasks import refresh_statistics
from tracking.models import Term


def test_the_statistics_are_made_every_night():
    entry = {p.name: p for p in schedule.registered()}[refresh_statistics.name]
    assert (entry.every, entry.at) == (dt.timedelta(days=1), dt.time(3, 45))


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics table")
def test_on_sqlite_every_table_is_analyzed_from_every_row():
    Term.objects.bulk_create(Term(kind="thematic_area", name=f"Area {i}") for i in range(50))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")  # no statistics at all, as before any ANALYZE
    assert refresh_statistics.call() == ["*"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s AND idx IS NOT NULL", [Term._meta.db_table])
        stats = [row[0] for row in cursor.fetchall()]
    assert stats and {int(s.split()[0]) for s in stats} == {Term.objects.count()}  # the rows counted


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics views")
def test_on_postgresql_the_tables_changed_by_a_tenth_are_analyzed():
    Term.objects.bulk_create(Term(kind="thematic_area", name=f"Area {i}") for i in range(1500))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:  # the counts of this session's changes, flushed at its next statement
        cursor.execute("SELECT pg_stat_clear_snapshot()")
    analyzed = refresh_statistics.call()
    assert Term._meta.db_table in analyzed
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT last_analyze IS NOT NULL, last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s",
                       [Term._meta.db_table])
        assert cursor.fetchone() == (True, True)
        # Vacuumed: its pages marked all visible, so an index that covers a query is read alone.
        cursor.execute("SELECT relallvisible > 0 FROM pg_class WHERE relname = %s", [Term._meta.db_table])
        assert cursor.fetchone() == (True,)
    assert Term._meta.db_table not in refresh_statistics.call()  # unchanged since: left as it is


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's VACUUM, which no transaction may hold")
def test_on_postgresql_inside_a_transaction_the_tables_are_analyzed_not_vacuumed():
    Term.objects.bulk_create(Term(kind="thematic_area", name=f"Area {i}") for i in range(1500))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert connection.in_atomic_block

    def last_vacuum():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = %s", [Term._meta.db_table])
            return cursor.fetchone()[0]

    before = last_vacuum()
    assert isinstance(refresh_statistics.call(), list)  # no "VACUUM cannot run inside a transaction block"
    assert last_vacuum() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics views")
def test_on_postgresql_the_changes_just_made_on_this_connection_count():
    """As at the end of an import: its last writes, under a second old, not yet in the statistics views."""
    Term.objects.create(kind="thematic_area", name="First")  # a commit: this connection's counts flushed now ...
    Term.objects.bulk_create(Term(kind="thematic_area", name=f"Area {i}") for i in range(1500))  # ... not these, yet
    assert Term._meta.db_table in refresh_statistics.call()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics table")
def test_on_sqlite_an_empty_table_is_recorded_as_empty_until_it_has_rows():
    """ANALYZE keeps nothing of an empty table, which the planner then takes for a large one (at L it read every key
    action to count the outcome questions, none yet: 15 ms, 0.1 once the table was known to be empty)."""
    from jobs.models import ScheduledRun
    from tests.tracking.factories import make_action, make_evaluation, make_recommendation
    from tracking.models import KeyAction, OutcomeQuestion

    action = make_action(make_recommendation(make_evaluation()), status="Completed")

    def stats(model) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = %s ORDER BY idx", [model._meta.db_table])
            return cursor.fetchall()

    refresh_statistics.call()
    assert stats(OutcomeQuestion) == [(None, "0")]  # no row: the planner reads it first
    assert stats(ScheduledRun) == []  # not a tracking table: left to the planner's default
    assert stats(KeyAction) and all(idx is not None for idx, _ in stats(KeyAction))  # a table with rows: ANALYZE's own
    OutcomeQuestion.objects.create(key_action=action, question="Did it change?", ask_on=dt.date(2024, 2, 1))
    refresh_statistics.call()
    assert stats(OutcomeQuestion) and all(idx is not None for idx, _ in stats(OutcomeQuestion))  # counted as they are now


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics table")
@pytest.mark.parametrize("analyzed", [True, False])
def test_the_index_a_migration_adds_is_counted_where_the_others_were(analyzed):
    """Migration 0030: a database with statistics has the new index counted (the planner would not take an index
    it knows nothing of beside ones it knows); one without any is left to its first ANALYZE."""
    from django.core.management import call_command

    from tests.tracking.factories import make_action

    make_action()
    call_command("migrate", "tracking", "0029", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
        if analyzed:
            cursor.execute("ANALYZE tracking_keyaction")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        counted = cursor.fetchone() is not None
        if counted:
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'key_action_by_recommendation'")
            counted = cursor.fetchone() is not None
    assert counted is analyzed


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes, swollen by updates that are not HOT")
def test_on_postgresql_the_kept_counts_indexes_swollen_by_updates_are_rebuilt():
    """Every change of a key action updates rows of the kept counts in place; after an import's worth of them their
    indexes held mostly empty pages (PostgreSQL then read the whole table, not the covering index)."""
    from tracking.models import ActionTally

    table = ActionTally._meta.db_table
    with connection.cursor() as cursor:
        # From new files: the rows earlier tests wrote and rolled back leave their pages in the index (no autovacuum on
        # the test server). Measured from there, the full run once found it "fresh" at 33 MB, and not ten times that.
        cursor.execute(f"TRUNCATE {table}")
    ActionTally.objects.bulk_create(
        ActionTally(dimension="office", group_key=str(i % 50), approved=True, status="Initiated", deadline_month=24000 + i // 50, n=1)
        for i in range(3000)
    )

    def state() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_indexes_size(%s::regclass), relfilenode FROM pg_class WHERE relname = 'action_tally_covering'", [table])
            return cursor.fetchone()

    fresh_size, _ = state()
    with connection.cursor() as cursor:
        for _ in range(40):  # as an import's changes do: the same rows counted again and again
            cursor.execute(f"UPDATE {table} SET n = n + 1")
        cursor.execute("SELECT pg_stat_force_next_flush()")
    swollen_size, swollen_file = state()
    assert swollen_size > 10 * fresh_size
    assert table in refresh_statistics.call()
    size, file = state()
    assert file != swollen_file and size < 2 * fresh_size  # rebuilt
    assert ActionTally.objects.filter(n=41).count() == 3000  # the counts as they were
    # Nothing swollen since: left as it is.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET n = n + 1")
        cursor.execute("SELECT pg_stat_force_next_flush()")
    refresh_statistics.call()
    assert state()[1] == file


# --- the kept counts' covering index set aside while a large import writes --------------------------------------


def _has_covering_index() -> bool:
    from tracking.services import statistics

    return statistics._exists(statistics.SET_ASIDE)


def _kept_counts_are_true() -> bool:
    from tests.reports.test_tallies import kept, truth

    return kept() == truth()


@pytest.mark.django_db(transaction=True)
def test_a_large_import_writes_without_the_covering_index_and_builds_it_again(tmp_path, monkeypatch):
    """The command line's import of as many documents as LARGE_IMPORT: the index dropped before the first batch and
    built again after the last (on PostgreSQL CONCURRENTLY, which no transaction may hold), the counts kept all along."""
    from django.core.management import call_command

    from tests.conftest import DEMO
    from tracking.services import statistics
    from tracking.services.importer import Importer

    docs = sorted(DEMO.glob("*.txt"))[:3]
    monkeypatch.setattr(statistics, "LARGE_IMPORT", len(docs))
    statements = []
    execute = statistics._execute
    monkeypatch.setattr(statistics, "_execute", lambda s: (statements.append(str(s).split(" ON ")[0]), execute(s)))
    seen_during = []
    run = Importer.run

    def watched(self, *args, **kwargs):  # the import's batches, as they start
        seen_during.append(_has_covering_index())
        yield from run(self, *args, **kwargs)

    monkeypatch.setattr(Importer, "run", watched)
    call_command("import_documents", *map(str, docs), "--no-progress", "--workers", "0", stdout=io.StringIO(), stderr=io.StringIO())
    assert seen_during == [False]  # the batches wrote without it
    assert [s.split()[0] for s in statements] == ["DROP", "DROP", "CREATE"]  # set aside; (an invalid one) and built
    assert ("CONCURRENTLY" in statements[-1]) == (connection.vendor == "postgresql")
    assert _has_covering_index() and _kept_counts_are_true()


@pytest.mark.django_db(transaction=True)
def test_an_import_that_fails_midway_builds_the_index_again_and_a_small_one_keeps_it(monkeypatch):
    from tests.tracking.factories import make_action
    from tracking.services import statistics

    with pytest.raises(RuntimeError), statistics.set_aside_while_importing(statistics.LARGE_IMPORT) as aside:
        assert aside and not _has_covering_index()
        make_action(status="Completed")  # counted without it
        raise RuntimeError("the import died")
    assert _has_covering_index() and _kept_counts_are_true()
    with statistics.set_aside_while_importing(statistics.LARGE_IMPORT - 1) as aside:
        assert not aside and _has_covering_index()


@pytest.mark.django_db
def test_a_dry_run_inside_its_transaction_keeps_the_index():
    from tracking.services import statistics

    assert connection.in_atomic_block
    with statistics.set_aside_while_importing(10 * statistics.LARGE_IMPORT) as aside:
        assert not aside and _has_covering_index()


@pytest.mark.django_db(transaction=True)
def test_an_index_left_aside_by_an_import_that_was_killed_is_built_by_the_next_refresh():
    """A killed process runs no `finally`: the nightly refresh of the statistics (and every import's) builds it."""
    from tracking.services import statistics

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(statistics.SET_ASIDE)}")
    assert not _has_covering_index()
    refresh_statistics.call()
    assert _has_covering_index()
    assert statistics.restore_set_aside() is False  # there: nothing to do


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes built CONCURRENTLY, left invalid when that fails")
def test_on_postgresql_an_index_left_invalid_by_a_failed_build_is_built_again():
    from tracking.services import statistics

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{statistics.SET_ASIDE}'::regclass")
    assert not _has_covering_index()
    assert statistics.restore_set_aside() is True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{statistics.SET_ASIDE}'::regclass")
        assert cursor.fetchone() == (True,)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics views")
def test_on_postgresql_the_similarity_jobs_tables_are_analyzed_too():
    """The similar and recurring pages read them: never analyzed where autovacuum is off, they were planned blind."""
    from search.models import SimilarRecommendation
    from tests.tracking.factories import make_evaluation, make_recommendation

    recs = [make_recommendation(make_evaluation()) for _ in range(40)]
    SimilarRecommendation.objects.bulk_create(
        SimilarRecommendation(recommendation=a, similar=b, score=0.5, rank=j + 1)
        for a in recs for j, b in enumerate(r for r in recs if r is not a)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert SimilarRecommendation._meta.db_table in refresh_statistics.call()
