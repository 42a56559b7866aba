# The home page's counts of evaluations and recommendations join the kept counts (tracking.services.tallies records).

from collections import Counter

from django.db import migrations


def count_records(apps, schema_editor):
    """The record counts of the evaluations already there (nothing to do on a new database)."""
    Evaluation = apps.get_model("tracking", "Evaluation")
    if Evaluation.objects.using(schema_editor.connection.alias).exists():
        from tracking.services.tallies import add, records

        add(records(models=(Evaluation, apps.get_model("tracking", "Recommendation"))), Counter(), sums=False)


def uncount_records(apps, schema_editor):
    apps.get_model("tracking", "ActionTally").objects.filter(dimension__in=["evaluations", "recommendations"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0025_response_status_evaluation"),
    ]

    operations = [
        migrations.RunPython(count_records, uncount_records),
    ]
