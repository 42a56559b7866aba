"""Jobs (django-tasks-db's rows, seen as jobs), the workers that run them, and the scheduler's record."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django_tasks_db.models import DBTaskResult, get_date_max


class Job(DBTaskResult):
    """A queued job: django-tasks-db's row, with what an administrator asks of it.

    Its attempts are its claims (one worker id each). Between attempts it
    waits in READY with the last error kept and `run_after` set to its next try.
    """

    class Meta:
        proxy = True
        verbose_name = "job"
        verbose_name_plural = "jobs"

    def __str__(self) -> str:
        return f"{self.task_path.rsplit('.', 1)[-1]} ({str(self.pk)[:8]})"

    @property
    def attempts(self) -> int:
        return len(self.worker_ids)

    @property
    def state(self) -> str:
        return state_of(self)

    @property
    def error(self) -> str:
        """The last error's final line (the whole traceback is on the job's page)."""
        lines = [line for line in self.traceback.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def state_of(row: DBTaskResult) -> str:
    """A job's state as an administrator reads it."""
    if row.status == "READY":
        if row.exception_class_path:
            return "Waiting to be tried again"
        return "Waiting" if row.run_after == get_date_max() else "Scheduled"
    return {"RUNNING": "Running", "SUCCESSFUL": "Done", "FAILED": "Failed"}.get(row.status, row.status)


class Worker(models.Model):
    """A `followthrough worker` process, as it last said it was alive (the lease)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    queues = models.CharField(max_length=255)
    started_at = models.DateTimeField(db_default=Now())
    seen_at = models.DateTimeField(db_default=Now(), db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Set when it stopped cleanly.")
    job = models.ForeignKey(
        DBTaskResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The job it runs now."
    )

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.host} pid {self.pid} ({self.worker_id})"


class ScheduledRun(models.Model):
    """One due time of a periodic job, enqueued once: the unique pair is what keeps it once."""

    name = models.CharField(max_length=100)
    due_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(db_default=Now())
    job = models.ForeignKey(DBTaskResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-due_at", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "due_at"], name="jobs_scheduledrun_once")]

    def __str__(self) -> str:
        return f"{self.name} due {self.due_at:%Y-%m-%d %H:%M}"
