"""Similar recommendations are computed by jobs, not on page load: queued, run by a worker, incremental."""

from __future__ import annotations

import pytest
from django.db import connection

from jobs import tasks
from jobs.schedule import registered
from search.models import SimilarRecommendation
from tests.jobs.conftest import run_queued
from tests.tracking.factories import make_evaluation, make_office, make_recommendation
from tracking.models import Recommendation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tfidf(settings):
    settings.SIMILARITY_METHOD = "tfidf"


def test_the_queued_job_finds_a_recommendation_changed_since_the_last_run(worker):
    office = make_office()
    a = make_recommendation(make_evaluation(office), text="Define a clear risk appetite statement for private sector partnerships.")
    b = make_recommendation(make_evaluation(office), text="Renovate the office building and its heating system.")
    for i in range(5):
        make_recommendation(make_evaluation(office), text=f"Unrelated subject number {i}: translation of manuals.")
    tasks.refresh_recurring_themes.enqueue()
    assert run_queued(worker) == 1
    assert not SimilarRecommendation.objects.filter(recommendation=a, similar=b).exists()
    # Edited behind the job's back (an import, a draft): the next run notices by the text's hash.
    Recommendation.objects.filter(pk=b.pk).update(
        text="Adopt an explicit risk appetite statement covering partnerships with the private sector."
    )
    tasks.refresh_similarities.enqueue()
    assert run_queued(worker) == 1
    assert SimilarRecommendation.objects.filter(recommendation=a, similar=b).exists()
    assert SimilarRecommendation.objects.filter(recommendation=b, similar=a).exists()


def test_both_similarity_jobs_are_scheduled():
    names = {entry.name for entry in registered()}
    assert any(n.endswith("refresh_similarities") for n in names)
    assert any(n.endswith("refresh_recurring_themes") for n in names)


@pytest.mark.django_db(transaction=True)  # as the worker runs it: outside a transaction (PostgreSQL's VACUUM)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics table (PostgreSQL: tables changed by 1,000 rows)")
def test_the_daily_run_makes_the_statistics_of_what_it_rewrote_again():
    """The full run writes every theme's kept counts anew: the statistics are made again after it, not left until
    the next night's run (which comes before it)."""
    office = make_office()
    for i in range(4):
        make_recommendation(make_evaluation(office), text=f"Strengthen the monitoring of gender results, variant {i}.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'tracking_actiontally'")
    result = tasks.refresh_recurring_themes.call()
    assert result["themes"] >= 1 and result["statistics"] == ["*"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'tracking_actiontally'")
        assert cursor.fetchone()[0] > 0
