# Each count kept a second time within its office's region ("year@3"): figures narrowed to a region add up its
# counts, not its key actions. No column changes: the counts are made again.

from django.db import migrations


def recount(apps, schema_editor):
    """The counts of the key actions already there, the regions' too (nothing to do on a new database)."""
    KeyAction = apps.get_model("tracking", "KeyAction")
    if KeyAction.objects.using(schema_editor.connection.alias).exists():
        from tracking.services.tallies import rebuild

        rebuild(KeyAction, apps.get_model("tracking", "ActionTally"))
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute("ANALYZE tracking_actiontally")  # twice the rows: the planner's statistics (see 0024)


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0025_response_status_evaluation'),
    ]

    operations = [
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
