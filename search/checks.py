"""System checks (`followthrough check`): is the search index there, and does it fold accents?"""

from __future__ import annotations

from django.core.checks import Warning, register
from django.db import connection
from django.db.utils import DatabaseError


@register("database")
def search_index(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from . import engine

    try:
        status = engine.index_status()
    except DatabaseError:
        return []  # not migrated yet: `migrate` says so
    if connection.vendor == "postgresql" and status.get("installed") and not status.get("unaccent"):
        return [
            Warning(
                "Search does not fold accents: PostgreSQL's unaccent extension was not available when the "
                "search index was made, so 'evaluacion' does not find 'evaluación'.",
                hint="As a superuser: CREATE EXTENSION unaccent; then run `followthrough search_index --rebuild`.",
                id="search.W001",
            )
        ]
    return []
