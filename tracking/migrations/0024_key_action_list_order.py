# The key-action list read in its order within a status, with the evaluation its reading rules join on: (status, deadline, id, evaluation).

from django.db import migrations, models


def analyze(apps, schema_editor):
    # SQLite plans with the statistics of each index (sqlite_stat1), which a new index has none of until
    # the next ANALYZE: without them, a list by status and year at L read 212 ms, not 16. (PostgreSQL's
    # statistics are of the columns, which it has.)
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE tracking_keyaction")


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0023_evaluation_list_order'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='keyaction',
            name='tracking_ke_status_08b640_idx',
        ),
        migrations.AddIndex(
            model_name='keyaction',
            index=models.Index(fields=['status', 'deadline', 'id', 'evaluation'], name='key_action_list_order'),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
