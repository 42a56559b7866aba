"""A writer for the backup tests: progress updates through the services, one per transaction, without pause.

    python tests/ops/writer.py STOPFILE     (DATABASE_URL / FOLLOWTHROUGH_VAR_DIR select the installation)

Prints each update's id once its transaction has committed; every fifth
carries an evidence file. Stops when STOPFILE exists.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402

from tracking.actor import Actor  # noqa: E402
from tracking.models import KeyAction  # noqa: E402
from tracking.models.responses import ActionStatus  # noqa: E402
from tracking.services import progress  # noqa: E402


def main(stop: Path) -> None:
    actor = Actor.system("command")
    actions = list(
        KeyAction.objects.filter(evaluation__management_response__status="Approved").order_by("pk").values_list("pk", flat=True)
    )
    assert actions, "the installation needs approved responses (followthrough loaddemo)"
    statuses = [ActionStatus.INITIATED, ActionStatus.NOT_INITIATED]
    for i in itertools.count():
        if stop.exists():
            return
        action = KeyAction.objects.get(pk=actions[i % len(actions)])
        evidence = SimpleUploadedFile(f"writer-{i}.txt", f"evidence {i}\n".encode()) if i % 5 == 0 else None
        update = progress.record_progress(
            actor, action, version=action.version, status=statuses[i % 2], comment=f"writer {i}", evidence_file=evidence,
            reopen_reason=f"writer {i}",  # a demo action may be Completed: moving it back asks why
        )
        print(update.pk, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
