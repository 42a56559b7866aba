"""django-tasks-db's `db_worker`, replaced by ours, so that a worker started by its usual name has leases and retries."""

from .worker import Command  # noqa: F401
