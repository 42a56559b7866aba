"""SQLite: each index row's ids (evaluation, recommendation, key action) in a plain table beside the FTS5
table, `search_ref`, no longer in FTS5's own content (search.schema.REF_TABLE).

Nothing to do here: a `migrate` that applies anything takes the index away first and makes it
again afterwards, from search.schema (search.apps), with the new table (at L: some 20 s)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0006_theme_membership"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
