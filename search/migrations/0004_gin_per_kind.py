"""PostgreSQL: one GIN index per kind of record (partial, `WHERE kind = n`), not one for all: the engine
reads each kind's matches apart (search.engine._postgres_candidates).

Nothing to do here: a `migrate` that applies anything takes the index away first and makes it
again afterwards, from search.schema (search.apps), with the new indexes."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0003_kind_ranges"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
