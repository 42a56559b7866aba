# The kept counts within each region ("year@3": tracking.models.tallies.crossed): the dashboard and the annual
# report narrowed to a region add them up instead of reading every key action of the region.

from collections import Counter

from django.db import migrations, models


def count(apps, schema_editor):
    """The new dimensions' counts of the key actions already there (nothing to do on a new database). Any of their
    rows are counted again, not added to: an earlier migration that rebuilt every count (0015) runs today's counting."""
    KeyAction = apps.get_model("tracking", "KeyAction")
    if KeyAction.objects.using(schema_editor.connection.alias).exists():
        from tracking.services.tallies import add, counts

        apps.get_model("tracking", "ActionTally").objects.using(schema_editor.connection.alias).filter(dimension__contains="@").delete()
        add(Counter({k: n for k, n in counts(KeyAction.objects.all()).items() if "@" in k[0]}), Counter(), sums=False)


def uncount(apps, schema_editor):
    apps.get_model("tracking", "ActionTally").objects.filter(dimension__contains="@").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0030_key_action_by_recommendation"),
    ]

    operations = [
        migrations.AlterField(model_name="actiontally", name="dimension", field=models.CharField(max_length=60)),
        migrations.RunPython(count, uncount),
    ]
