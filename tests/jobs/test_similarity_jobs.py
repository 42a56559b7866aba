"""Similar recommendations are computed by jobs, not on page load: queued, run by a worker, incremental."""

from __future__ import annotations

import pytest

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
