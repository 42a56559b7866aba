"""Evaluation documents' text in the search index (kind 6).

Nothing to do here: a `migrate` that applies anything takes the index away first and makes it
again afterwards, from search.schema's kinds (search.apps), documents included."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0001_initial"),
        ("tracking", "0009_daily_plans_evaluations_documents"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
