from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The jobs register their retry policies and schedules when imported; the
        # admin pages go on followthrough's own admin site.
        from . import admin, tasks  # noqa: F401
