# Indexes for the pages of a unit's key actions (my actions, the key-action list by unit), which read a unit's
# actions through the units' link table and then each action's evaluation, status and deadline. Written as SQL:
# the link table is Django's own (no Meta to declare an index in), and the second index is PostgreSQL's alone.

from django.db import migrations

LINK_INDEX = "key_action_units_by_unit"
ACTION_INDEX = "key_action_by_id_covering"


def create(apps, schema_editor):
    KeyAction = apps.get_model("tracking", "KeyAction")
    link = schema_editor.quote_name(KeyAction.units.through._meta.db_table)
    actions = schema_editor.quote_name(KeyAction._meta.db_table)
    # A unit's actions from the index alone (the unit_id index sent each entry to the table for its action).
    # On SQLite a rebuild of the link table would drop it: Django knows only the indexes it declared.
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {LINK_INDEX} ON {link} (unit_id, keyaction_id)")
    if schema_editor.connection.vendor == "postgresql":
        # Each action's evaluation, status and deadline by its id without reading the table (SQLite's table is
        # itself ordered by id): a unit's 1,700 actions at L read from the heap cost 10 to 37 ms.
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {ACTION_INDEX} ON {actions} (id) INCLUDE (evaluation_id, status, deadline)")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {LINK_INDEX}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {ACTION_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0027_key_action_figures_id"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
