from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Portal and workspace"

    def ready(self):
        # Sign-in logging and lock lifting listen to Django's and axes' signals.
        from . import signin  # noqa: F401
