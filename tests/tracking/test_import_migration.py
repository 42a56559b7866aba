"""Key actions imported before baselines existed get one from the migration: people's progress is kept."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.conftest import sample_text
from tracking.actor import Actor
from tracking.models import KeyAction
from tracking.services.importer import Importer
from tracking.services.progress import record_progress

S002 = "002_543cb0e5625ab64b"


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_imported_actions_the_page_status_as_their_baseline():
    first = Importer(Actor.system("import")).import_text(sample_text(S002), source="002.txt")
    actions = list(KeyAction.objects.filter(evaluation_id=first.evaluation_id).order_by("pk"))
    done_here = actions[0]
    record_progress(Actor.system("command"), done_here, version=done_here.version, status="Completed", comment="Done here.",
                    evidence_url="https://example.org/done")
    page_status = done_here.status
    typed = KeyAction.objects.create(
        recommendation=done_here.recommendation, evaluation_id=first.evaluation_id, position=99, number="9.9", text="Typed in."
    )
    # As before baselines: the columns made again by the migration, empty, then filled.
    call_command("migrate", "tracking", "0006", verbosity=0)
    call_command("migrate", verbosity=0)
    done_here = KeyAction.objects.get(pk=done_here.pk)
    assert done_here.imported["status"] == page_status and done_here.status == "Completed"
    other = KeyAction.objects.get(pk=actions[1].pk)
    assert other.imported["status"] == other.status
    assert KeyAction.objects.get(pk=typed.pk).imported == {}  # typed in: nothing came from a page
    KeyAction.objects.filter(pk=typed.pk).delete()

    result = Importer(Actor.system("import")).import_text(sample_text(S002), source="002.txt")
    done_here.refresh_from_db()
    assert done_here.status == "Completed"
    assert ("status", "Completed", page_status) in {(c.field, c.ours, c.theirs) for c in result.conflicts}
