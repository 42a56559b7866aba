# The kept counts within each evaluation year ("office@y2023": tracking.models.tallies.in_year): the dashboard narrowed
# to a year adds them up instead of reading every key action of the year; their sums made again with them.

import importlib
from collections import Counter

from django.db import migrations

WITHIN_YEAR = "@y"  # in the name of each dimension kept within a year (tracking.models.tallies.in_year)



def count(apps, schema_editor):
    """The new dimensions' counts of the key actions already there (nothing to do on a new database), then every sum
    made again as 0032 made them (in step with the counts' version, which adding them moved)."""
    alias = schema_editor.connection.alias
    KeyAction = apps.get_model("tracking", "KeyAction")
    if not KeyAction.objects.using(alias).exists():
        return
    from tracking.services.tallies import add, counts

    ActionTally = apps.get_model("tracking", "ActionTally")
    ActionTally.objects.using(alias).filter(dimension__contains=WITHIN_YEAR).delete()
    add(Counter({k: n for k, n in counts(KeyAction.objects.all()).items() if WITHIN_YEAR in k[0]}), Counter(), sums=False)
    apps.get_model("tracking", "TallySum").objects.using(alias).all().delete()
    importlib.import_module("tracking.migrations.0032_tally_sums").make(apps, schema_editor)


def uncount(apps, schema_editor):
    for model in ("ActionTally", "TallySum"):
        apps.get_model("tracking", model).objects.filter(dimension__contains=WITHIN_YEAR).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0032_tally_sums"),
    ]

    operations = [
        migrations.RunPython(count, uncount),
    ]
