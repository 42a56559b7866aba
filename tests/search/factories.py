"""Recurring themes for tests, written as the similarity job writes them: inside `recurring.themes_moving`, so the
kept counts of themes (tracking.services.tallies) follow, as they do after the job."""

from __future__ import annotations

from django.db import transaction

from search import recurring
from search.models import Theme, ThemeMember


def put_in_theme(theme: Theme, recommendations, closeness: float = 0.9) -> None:
    """These recommendations (or their ids) made members of `theme`; (id, closeness) pairs give each its own."""
    pairs = [r if isinstance(r, tuple) else (getattr(r, "pk", r), closeness) for r in recommendations]
    with transaction.atomic(), recurring.themes_moving([pk for pk, _ in pairs]):
        ThemeMember.objects.bulk_create([ThemeMember(theme=theme, recommendation_id=pk, closeness=c) for pk, c in pairs])


def take_out(members) -> None:
    """These theme members (a queryset of `ThemeMember`) deleted, as the job does."""
    ids = list(members.values_list("recommendation_id", flat=True))
    with transaction.atomic(), recurring.themes_moving(ids):
        ThemeMember.objects.filter(recommendation_id__in=ids).delete()


def delete_themes(themes) -> None:
    """These themes (a queryset of `Theme`) deleted with their members, as the job's full run does."""
    with transaction.atomic(), recurring.themes_moving(None):
        themes.delete()
