# The kept counts added up over their deadline months, as of this month (tracking.models.tallies.TallySum): what the
# dashboard"s and the annual report"s figures read, a row per group and status, not one per month.

from django.db import migrations, models


def make(apps, schema_editor):
    """The sums of the counts already there, as of this month, in step with their version (written out here, as the
    sums were made when this migration was written: tracking.services.tallies.make_sums makes them today)."""
    from django.utils import timezone

    today = timezone.localdate()
    month = today.year * 12 + today.month
    long_past = month - 12
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM tracking_actiontally WHERE dimension = '_version'")
        found = cursor.fetchone()
        dated = "t.deadline_month > 0 AND t.deadline_month"
        cursor.execute(
            "INSERT INTO tracking_tallysum (dimension, group_key, approved, status, n, due, past, long_past, month_sum, first_past, "
            "verified, due_verified) SELECT t.dimension, t.group_key, t.approved, t.status, SUM(t.n), "
            f"SUM(CASE WHEN {dated} <= %s THEN t.n ELSE 0 END), SUM(CASE WHEN {dated} < %s THEN t.n ELSE 0 END), "
            f"SUM(CASE WHEN {dated} < %s THEN t.n ELSE 0 END), SUM(CASE WHEN {dated} < %s THEN CAST(t.n AS BIGINT) * t.deadline_month ELSE 0 END), "
            f"MIN(CASE WHEN {dated} < %s THEN t.deadline_month END), SUM(CASE WHEN t.verified THEN t.n ELSE 0 END), "
            f"SUM(CASE WHEN t.verified AND {dated} <= %s THEN t.n ELSE 0 END) FROM tracking_actiontally t WHERE t.dimension <> '_version' "
            "GROUP BY t.dimension, t.group_key, t.approved, t.status",
            [month, month, long_past, month, month, month],
        )
        cursor.execute(
            "INSERT INTO tracking_tallysum (dimension, group_key, approved, status, n, due, past, long_past, month_sum, verified, "
            "due_verified, version) VALUES ('_as_of', '', %s, '', %s, 0, 0, 0, 0, 0, 0, %s)",
            [True, month, found[0] if found else 0],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0031_tallies_within_regions"),
    ]

    operations = [
        migrations.CreateModel(
            name="TallySum",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dimension", models.CharField(max_length=60)),
                ("group_key", models.CharField(blank=True, max_length=60)),
                ("approved", models.BooleanField()),
                ("status", models.CharField(max_length=40)),
                ("n", models.BigIntegerField()),
                ("due", models.BigIntegerField()),
                ("past", models.BigIntegerField()),
                ("long_past", models.BigIntegerField()),
                ("month_sum", models.BigIntegerField()),
                ("first_past", models.IntegerField(null=True)),
                ("verified", models.BigIntegerField()),
                ("due_verified", models.BigIntegerField()),
                ("version", models.BigIntegerField(null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("dimension", "group_key", "approved", "status"), name="tally_sum_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(make, migrations.RunPython.noop),
    ]
