from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The jobs register their retry policies and schedules when imported; the
        # admin pages go on followthrough's own admin site.
        from . import admin, tasks  # noqa: F401

        post_migrate.connect(_make_cache_table, sender=self)


def _make_cache_table(using: str = "default", **kwargs) -> None:
    """With the shared cache in the database (CACHE_URL=db), `followthrough migrate` makes its table too.

    (Here, in the app of what runs beside the web servers, because post_migrate
    is sent for apps with models only.)
    """
    from django.conf import settings
    from django.core.management import call_command

    if any(c["BACKEND"].endswith("DatabaseCache") for c in settings.CACHES.values()):
        call_command("createcachetable", database=using, verbosity=0)
