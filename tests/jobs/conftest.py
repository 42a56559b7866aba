"""Running the queue in the test's own process (the same worker code, without the process around it)."""

from __future__ import annotations

import pytest

from jobs.worker import QueueWorker


def in_process_worker(worker_id: str = "test-worker") -> QueueWorker:
    worker = QueueWorker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    worker._register()
    return worker


def run_queued(worker: QueueWorker | None = None) -> int:
    """Run every job that is due now, one by one as a worker does; how many ran."""
    worker = worker or in_process_worker()
    ran = 0
    while True:
        row, _ = worker.claim()
        if row is None:
            return ran
        worker.run_task(row)
        ran += 1


@pytest.fixture
def worker(db) -> QueueWorker:
    return in_process_worker()
