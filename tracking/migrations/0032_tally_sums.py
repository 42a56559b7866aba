# The kept counts added up over their deadline months, as of this month (tracking.models.tallies.TallySum): what the
# dashboard"s and the annual report"s figures read, a row per group and status, not one per month.

from django.db import migrations, models


def make(apps, schema_editor):
    """The sums of the counts already there, as of this month (a new database: the month alone, no sum)."""
    from tracking.services.tallies import make_sums

    make_sums()


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
