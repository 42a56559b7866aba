# The recurring themes' kept counts (tracking.models.tallies.THEMES): the portfolio of themes adds them
# up instead of reading every key action of the themes' recommendations.

from django.db import migrations

DIMENSIONS = ("theme", "theme_records", "theme_spread")


def count(apps, schema_editor):
    """The themes already written by the similarity job, counted with today's code (nothing to do on a new database,
    nor before the job has run). Any of their rows are counted again, not added to."""
    if apps.get_model("search", "ThemeMember").objects.using(schema_editor.connection.alias).exists():
        from tracking.services.tallies import add, themes_counted

        uncount(apps, schema_editor)
        add(themes_counted(), {})


def uncount(apps, schema_editor):
    """The themes' counts and their sums taken away (both: the sums stay those of the counts)."""
    for model in ("ActionTally", "TallySum"):
        apps.get_model("tracking", model).objects.using(schema_editor.connection.alias).filter(dimension__in=DIMENSIONS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0032_tally_sums"),
        ("search", "0006_theme_membership"),
    ]

    operations = [migrations.RunPython(count, uncount)]
