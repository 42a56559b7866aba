"""The search index's ids made `kind * 2**40 + record id` (they were `record id * 8 + kind`): each kind one
range of ids, so SQLite reads one kind's matches without walking every other kind's (search.schema).

Nothing to do here: a `migrate` that applies anything takes the index away first and makes it
again afterwards, from search.schema (search.apps), with the new ids."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0002_documents"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
