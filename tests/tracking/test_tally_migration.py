"""The migrations that count first deadlines and completion dates (0029) and every breakdown within each region
(0031) leave the kept counts equal to the truth, whether the database comes from before one of them alone or from
before an earlier migration that rebuilt every count; the one that adds their sums up (0032) leaves the sums equal to
the counts', as of this month, in step with them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from tests.conftest import sample_text
from tracking.actor import Actor
from tracking.models import ActionTally, KeyAction
from tracking.models.responses import today
from tracking.models.tallies import ACCOUNTABILITY, month_index, sums_current
from tracking.services import tallies
from tracking.services.deadlines import revise_deadline
from tracking.services.importer import Importer
from tracking.services.progress import record_progress

S002 = "002_543cb0e5625ab64b"


def _kept() -> bool:
    """The kept counts are those made again from the rows."""
    return dict(tallies.everything()) == {
        (t.dimension, t.group_key, t.approved, t.status, t.deadline_month, t.verified): t.n
        for t in ActionTally.objects.exclude(dimension="_version")
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("back_to", ["0031", "0030", "0028", "0014"])
def test_the_kept_counts_equal_the_truth_after_the_migration(back_to):
    system = Actor.system("command")
    first = Importer(Actor.system("import")).import_text(sample_text(S002), source="002.txt")
    done, moved = KeyAction.objects.filter(evaluation_id=first.evaluation_id).order_by("pk")[:2]
    record_progress(system, done, version=done.version, status="Completed", comment="Done.", evidence_url="https://example.org/done")
    revise_deadline(system, moved, version=moved.version, deadline=dt.date(2031, 1, 1), reason="Later.")
    assert ActionTally.objects.filter(dimension=ACCOUNTABILITY).exists()
    assert ActionTally.objects.filter(dimension__startswith=f"{ACCOUNTABILITY}@").exists()
    assert _kept()

    call_command("migrate", "tracking", back_to, verbosity=0)
    if back_to != "0031":
        assert not ActionTally.objects.filter(dimension__contains="@").exists()  # undone: the regions' rows go
    if back_to == "0028":
        assert not ActionTally.objects.filter(dimension=ACCOUNTABILITY).exists()  # undone: the dimension's rows go
    call_command("migrate", verbosity=0)
    assert ActionTally.objects.filter(dimension=ACCOUNTABILITY).exists()
    assert ActionTally.objects.filter(dimension__startswith="year@").exists()
    assert _kept()
    month = month_index(today())
    assert sums_current(month).exists() and tallies.kept_sums() == tallies.sums_made_again(month)
    assert any(n for n, *_ in tallies.kept_sums().values())
    # In step from then on.
    record_progress(system, moved, version=KeyAction.objects.get(pk=moved.pk).version, status="Completed", comment="Done.",
                    evidence_url="https://example.org/done")
    assert sums_current(month).exists() and tallies.kept_sums() == tallies.sums_made_again(month)
