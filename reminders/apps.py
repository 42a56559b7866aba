from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The admin pages (messages, preferences, office heads) go on followthrough's own admin site.
        from . import admin  # noqa: F401
