"""Jobs, workers and scheduled runs in followthrough's admin, for administrators (read-only).

Failed jobs are one filter away, with their traceback; a failed job can be
run again (as a new job, the failed one kept). Workers show when each last
said it was alive: a worker silent for longer than the lease has stopped.
"""

from __future__ import annotations

import json
import logging

from django.contrib import admin, messages
from django.core.exceptions import SuspiciousOperation
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_tasks_db.models import get_date_max

from tracking import permissions
from tracking.admin import ReadOnlyAdmin, site

from . import queue
from .models import Job, ScheduledRun, Worker, state_of

log = logging.getLogger(__name__)


def _job_link(job_id) -> str:
    if job_id is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse("admin:jobs_job_change", args=[job_id]), str(job_id)[:8])


@admin.register(Job, site=site)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["name", "state", "attempts", "enqueued_at", "started_at", "finished_at", "next_try", "error"]
    list_filter = ["status", "queue_name"]
    search_fields = ["task_path", "traceback"]
    ordering = ["-enqueued_at"]
    date_hierarchy = "enqueued_at"
    actions = ["run_again"]
    fields = [
        "id", "task_path", "state", "attempts", "workers", "queue_name", "priority", "enqueued_at", "started_at",
        "finished_at", "next_try", "arguments", "result", "error_class", "error_trace",
    ]
    readonly_fields = fields

    @admin.display(description="job", ordering="task_path")
    def name(self, obj: Job) -> str:
        return obj.task_path.rsplit(".", 1)[-1]

    @admin.display(description="state", ordering="status")
    def state(self, obj: Job) -> str:
        return obj.state

    @admin.display(description="attempts")
    def attempts(self, obj: Job) -> str:
        return f"{obj.attempts} of {queue.policy(obj.task_path).max_attempts}"

    @admin.display(description="next try", ordering="run_after")
    def next_try(self, obj: Job):
        if obj.status != "READY" or obj.run_after == get_date_max():
            return "-"
        return obj.run_after

    @admin.display(description="last error")
    def error(self, obj: Job) -> str:
        return obj.error or "-"

    @admin.display(description="workers (one per attempt)")
    def workers(self, obj: Job) -> str:
        return ", ".join(obj.worker_ids) or "-"

    @admin.display(description="arguments")
    def arguments(self, obj: Job) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.args_kwargs, indent=2, ensure_ascii=False))

    @admin.display(description="result")
    def result(self, obj: Job) -> str:
        if obj.status != "SUCCESSFUL":
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(obj.return_value, indent=2, ensure_ascii=False))

    @admin.display(description="error")
    def error_class(self, obj: Job) -> str:
        return obj.exception_class_path or "-"

    @admin.display(description="traceback")
    def error_trace(self, obj: Job) -> str:
        return format_html("<pre>{}</pre>", obj.traceback) if obj.traceback else "-"

    def has_run_permission(self, request) -> bool:
        return permissions.can(request.user, permissions.MANAGE_REFERENCE)

    @admin.action(description="Run the selected failed jobs again (as new jobs)", permissions=["run"])
    def run_again(self, request, queryset) -> None:
        queued = 0
        for row in queryset.filter(status="FAILED"):
            try:
                task = row.task
            except (ImportError, SuspiciousOperation) as exc:
                self.message_user(request, f"{row.task_path} cannot run: {exc}", messages.ERROR)
                continue
            new = task.enqueue(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            log.info("%s queued failed job %s again as %s", request.user, row.pk, new.id)
            queued += 1
        skipped = queryset.exclude(status="FAILED").count()
        note = f"; {skipped} not failed, left as they are" if skipped else ""
        self.message_user(request, f"{queued} job{'s' if queued != 1 else ''} queued again{note}.")


@admin.register(Worker, site=site)
class WorkerAdmin(ReadOnlyAdmin):
    list_display = ["host", "pid", "alive", "started_at", "seen_at", "stopped_at", "running", "queues", "worker_id"]
    list_filter = ["host"]
    fields = ["worker_id", "host", "pid", "queues", "started_at", "seen_at", "stopped_at", "running"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(now=Now())

    @admin.display(description="alive", boolean=True)
    def alive(self, obj: Worker) -> bool:
        # The database's clock, as the lease is kept by it.
        return obj.stopped_at is None and obj.seen_at >= getattr(obj, "now", timezone.now()) - queue.lease()

    @admin.display(description="running")
    def running(self, obj: Worker) -> str:
        return _job_link(obj.job_id)


@admin.register(ScheduledRun, site=site)
class ScheduledRunAdmin(ReadOnlyAdmin):
    list_display = ["name", "due_at", "enqueued_at", "job_state", "job_link"]
    list_filter = ["name"]
    list_select_related = ["job"]

    @admin.display(description="state")
    def job_state(self, obj: ScheduledRun) -> str:
        if obj.job is None:
            return "purged"
        return state_of(obj.job)

    @admin.display(description="job")
    def job_link(self, obj: ScheduledRun) -> str:
        return _job_link(obj.job_id)
