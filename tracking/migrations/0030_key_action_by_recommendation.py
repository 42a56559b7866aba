# A recommendation's key actions with their status and deadline, from the index alone (the recurring themes'
# rates). On SQLite a database whose statistics were gathered (tracking/services/statistics.py) has this index
# counted too: the planner, knowing the others' and not this one's, would not take it until the next ANALYZE.

from django.db import migrations, models

INDEX = "key_action_by_recommendation"


def count(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return  # PostgreSQL's statistics are of columns, which it has
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return
        cursor.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'tracking_keyaction' AND idx IS NOT NULL LIMIT 1")
        if cursor.fetchone() is not None:
            cursor.execute(f"ANALYZE {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0029_accountability_tallies"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="keyaction",
            index=models.Index(fields=["recommendation", "status", "deadline"], name=INDEX),
        ),
        migrations.RunPython(count, migrations.RunPython.noop),
    ]
