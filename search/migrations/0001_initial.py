"""The search index (an FTS5 table on SQLite, a tsvector table on PostgreSQL) with the triggers
that keep it in step with the tracking tables, filled from the rows already there; and the
tables of recurring recommendations."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from search import schema


def install(apps, schema_editor):
    # Nothing here: the index and its triggers are made after every `migrate` that applies
    # anything (search.apps), so that no later migration of the tracking tables runs under them.
    pass


def uninstall(apps, schema_editor):
    schema.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tracking', '0004_drop_redundant_fk_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='RecommendationVector',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('method', models.CharField(max_length=80)),
                ('text_hash', models.CharField(max_length=40)),
                ('vector', models.BinaryField(blank=True, default=b'')),
                ('computed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('recommendation', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tracking.recommendation')),
            ],
            options={
                'verbose_name': 'recommendation vector',
                'constraints': [models.UniqueConstraint(fields=('recommendation', 'method'), name='vector_unique_per_method')],
            },
        ),
        migrations.CreateModel(
            name='Theme',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(max_length=300, verbose_name='theme')),
                ('terms', models.JSONField(default=list)),
                ('public_label', models.CharField(blank=True, max_length=300)),
                ('public_terms', models.JSONField(default=list)),
                ('method', models.CharField(max_length=80)),
                ('computed_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'recurring theme',
                'ordering': ['pk'],
            },
        ),
        migrations.CreateModel(
            name='ThemeMember',
            fields=[
                ('recommendation', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='tracking.recommendation')),
                ('closeness', models.FloatField()),
                ('theme', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='members', to='search.theme')),
            ],
            options={
                'ordering': ['theme', '-closeness'],
            },
        ),
        migrations.CreateModel(
            name='SimilarRecommendation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('score', models.FloatField(verbose_name='similarity')),
                ('rank', models.PositiveSmallIntegerField()),
                ('recommendation', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tracking.recommendation')),
                ('similar', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tracking.recommendation')),
            ],
            options={
                'verbose_name': 'similar recommendation',
                'ordering': ['recommendation', 'rank'],
                'constraints': [models.UniqueConstraint(fields=('recommendation', 'similar'), name='similar_unique_pair')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
