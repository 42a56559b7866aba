# Responses indexed on (status, evaluation), replacing the index on status alone: the reading rules' "approved"
# reads the evaluations from the index.

from django.db import migrations, models


def analyze(apps, schema_editor):
    # SQLite plans with each index's statistics, which a new index has none of until the next ANALYZE
    # (see 0024); PostgreSQL's are of the columns, which it has.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE tracking_managementresponse")


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0024_key_action_list_order'),
    ]

    operations = [
        migrations.AlterField(
            model_name='managementresponse',
            name='status',
            field=models.CharField(default='Draft', max_length=30, verbose_name='status'),
        ),
        migrations.AddIndex(
            model_name='managementresponse',
            index=models.Index(fields=['status', 'evaluation'], name='response_status_evaluation'),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
