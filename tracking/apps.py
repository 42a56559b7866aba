from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Evaluation tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The similarity job (search: a reading door, which calls no service) regroups recommendations into themes;
        # the kept counts of themes follow it through this signal (tracking.signals).
        from . import signals

        signals.themes_changing.connect(_themes_moving, dispatch_uid="tallies.themes_moving")


def _themes_moving(sender, recommendation_ids=None, **kwargs):
    """The context manager the job enters around its change (tracking.services.tallies.themes_moving)."""
    from .services import tallies

    return tallies.themes_moving(recommendation_ids)
