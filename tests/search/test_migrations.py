"""The index survives migrations of the tables it follows.

SQLite rebuilds a table to add or drop a column; a trigger on it would be dropped with it, and a
trigger of another table that names it makes the rebuild fail. A `migrate` that applies anything
takes the index away first and makes it again, from the rows, once it is done (search.apps).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from search import engine
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import ActionUpdate, Role, RoleAssignment


def _found(user, text: str) -> list[int]:
    results = engine.search(user, text, engine.Filters())
    return [h.object_id for g in results.groups if g.kind.name == "update" for h in g.hits]


def _latest(app: str) -> str:
    executor = MigrationExecutor(connection)
    return max(name for (label, name) in executor.loader.graph.leaf_nodes() if label == app)


@pytest.mark.django_db(transaction=True)
def test_a_migration_that_rebuilds_a_followed_table_keeps_the_index_in_step():
    reader = get_user_model().objects.create(username="reader")
    RoleAssignment.objects.create(user=reader, role=Role.VIEWER)
    action = make_action(make_recommendation(make_evaluation(make_office("Office M"), title="Migrated")))
    before = ActionUpdate.objects.create(key_action=action, status_after="Initiated", comment="before the migration: quokka")
    latest = _latest("tracking")
    # Back one migration and forward again: tracking's latest migrations change the progress
    # update and role tables (a rebuild on SQLite) under the triggers of the key action table.
    previous = [n for (label, n) in MigrationExecutor(connection).loader.graph.node_map if label == "tracking" and n < latest]
    call_command("migrate", "tracking", max(previous), verbosity=0)
    call_command("migrate", verbosity=0)
    assert _found(reader, "quokka") == [before.pk]
    after = ActionUpdate.objects.create(key_action=action, status_after="Completed", comment="after the migration: wombat")
    assert _found(reader, "wombat") == [after.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN indexes")
def test_the_index_made_again_from_the_rows_leaves_nothing_pending_for_searches_to_read():
    """Made after the backfill, each GIN index holds the rows in its tree: none in its pending list, which
    every search reads row by row (until a VACUUM, where autovacuum is off or late)."""
    from django.db.utils import DatabaseError

    from search import schema

    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
    except DatabaseError:
        pytest.skip("pgstattuple (PostgreSQL's contrib) cannot be had here")
    ev = make_evaluation(make_office("Office P"), title="Pending")
    for i in range(30):
        make_action(make_recommendation(ev, text=f"Recommendation {i} on the numbat census"), text=f"Count numbats, part {i}")
    schema.uninstall(connection)
    schema.install(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.relname, (pgstatginindex(c.oid)).pending_tuples FROM pg_class c WHERE c.relname LIKE '{schema.TABLE}_document_%%'"
        )
        pending = dict(cursor.fetchall())
    assert len(pending) == len(schema.KINDS) and set(pending.values()) == {0}, pending
    assert _found_any("numbat")


def _found_any(text: str) -> bool:
    return bool(engine.search(get_user_model().objects.create(username="any", is_superuser=True), text, engine.Filters()).total)
