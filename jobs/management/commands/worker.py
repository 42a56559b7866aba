"""`followthrough worker`: run jobs (see jobs/worker.py). Several may run, on any number of machines."""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tasks_db.management.commands.db_worker import Command as LibraryCommand

from jobs.worker import QueueWorker, new_worker_id


class Command(LibraryCommand):
    help = (
        "Run queued jobs: one at a time, retried with backoff when they fail, taken over from lost workers; "
        "also enqueues the periodic jobs when they are due. SIGTERM or Ctrl-C stop it after the job in hand."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-schedule",
            action="store_false",
            dest="schedule",
            help="Do not enqueue periodic jobs from this worker (any one worker that does is enough).",
        )
        # Every queue unless told otherwise; one id per process, readable in the admin; no reloading
        # (a reloaded worker would leave its job to the lease).
        parser.set_defaults(worker_id=None, reload=False, queue_name="*")

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay, reload, max_tasks,
               worker_id, exclude_queues, schedule, **options) -> None:
        self.configure_logging(verbosity)
        if reload:
            raise CommandError("the worker does not reload itself; restart it after changing the code")
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = QueueWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id or new_worker_id(),
            excluded_queue_names=excluded,
            schedule=schedule,
        )
        worker.configure_signals()
        worker.run()
