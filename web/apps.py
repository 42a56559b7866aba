from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Portal and workspace"

    def ready(self):
        # Sign-in logging and lock lifting listen to Django's and axes' signals.
        # The time zone a person chose is put in their session at sign-in.
        from . import (
            middleware,  # noqa: F401
            signin,  # noqa: F401
        )
