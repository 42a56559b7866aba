"""The search index (an FTS5 table on SQLite, a tsvector table on PostgreSQL) with the triggers
that keep it in step with the tracking tables, filled from the rows already there; and the
tables of recurring recommendations."""

import logging

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models, transaction
from django.db.utils import DatabaseError

from search import schema

log = logging.getLogger(__name__)


def _unaccent(connection) -> bool:
    """Make sure PostgreSQL's unaccent extension is there; False (and a warning) if it cannot be had."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent')")
        if cursor.fetchone()[0]:
            return True
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            return True
        except DatabaseError as exc:
            log.warning("search: unaccent is not available (%s); accents will not be folded. See `followthrough check`.", exc)
            return False


def install(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        statements = schema.sqlite_install()
    elif connection.vendor == "postgresql":
        statements = schema.postgres_install(unaccent=_unaccent(connection))
    else:
        raise RuntimeError(f"followthrough's search index needs SQLite or PostgreSQL, not {connection.vendor}")
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def uninstall(apps, schema_editor):
    connection = schema_editor.connection
    statements = schema.sqlite_uninstall() if connection.vendor == "sqlite" else schema.postgres_uninstall()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tracking', '0004_drop_redundant_fk_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='RecommendationVector',
            fields=[
                ('recommendation', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='tracking.recommendation')),
                ('method', models.CharField(max_length=80)),
                ('text_hash', models.CharField(max_length=40)),
                ('vector', models.BinaryField(blank=True, default=b'')),
                ('computed_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'recommendation vector',
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
