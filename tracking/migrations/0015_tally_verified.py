# Verified completions join the kept counts (the breakdowns need no scan of the key actions for them).

from django.db import migrations, models


def recount(apps, schema_editor):
    """The counts of the key actions already there, made with the new key (nothing to do on a new database)."""
    KeyAction = apps.get_model("tracking", "KeyAction")
    if KeyAction.objects.using(schema_editor.connection.alias).exists():
        from tracking.services.tallies import rebuild

        rebuild(KeyAction, apps.get_model("tracking", "ActionTally"), record_models=None)


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0014_perf_tallies'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='actiontally',
            name='action_tally_unique',
        ),
        migrations.AddField(
            model_name='actiontally',
            name='verified',
            field=models.BooleanField(default=False),
        ),
        migrations.AddConstraint(
            model_name='actiontally',
            constraint=models.UniqueConstraint(fields=('dimension', 'group_key', 'approved', 'status', 'deadline_month', 'verified'), name='action_tally_unique_verified'),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
