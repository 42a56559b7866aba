# The newest updates first as an index walk: (created_at, id) replaces the index on created_at alone.

import django.utils.timezone
from django.db import migrations, models

# Django's name for the index of `created_at = ...(db_index=True)`, the same on SQLite and PostgreSQL.
OLD_INDEX = "tracking_actionupdate_created_at_97b89f34"


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0020_recommendation_counted'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='actionupdate',
            index=models.Index(fields=['created_at', 'id'], name='action_update_newest'),
        ),
        # Only the old index dropped: AlterField would copy the whole table on SQLite (600,000 rows at L).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='actionupdate',
                    name='created_at',
                    field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='recorded on'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {OLD_INDEX}",
                    reverse_sql=f"CREATE INDEX {OLD_INDEX} ON tracking_actionupdate (created_at)",
                ),
            ],
        ),
    ]
