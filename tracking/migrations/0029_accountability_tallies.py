# The figures of first deadlines and completion dates join the kept counts (tracking.models.tallies ACCOUNTABILITY):
# the dashboard and the annual report no longer read every key action for them.

from collections import Counter

from django.db import migrations

ACCOUNTABILITY = "accountability"


def count(apps, schema_editor):
    """The new dimension's counts of the key actions already there (nothing to do on a new database). Any of its rows
    are counted again, not added to: an earlier migration that rebuilt every count (0015) runs today's counting."""
    KeyAction = apps.get_model("tracking", "KeyAction")
    if KeyAction.objects.using(schema_editor.connection.alias).exists():
        from tracking.services.tallies import add, counts

        apps.get_model("tracking", "ActionTally").objects.using(schema_editor.connection.alias).filter(dimension=ACCOUNTABILITY).delete()
        add(Counter({k: n for k, n in counts(KeyAction.objects.all()).items() if k[0] == ACCOUNTABILITY}), Counter(), sums=False)


def uncount(apps, schema_editor):
    apps.get_model("tracking", "ActionTally").objects.filter(dimension=ACCOUNTABILITY).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0028_unit_action_indexes"),
    ]

    operations = [
        migrations.RunPython(count, uncount),
    ]
