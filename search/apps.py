from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        pre_migrate.connect(_before_migrate, sender=self, dispatch_uid="search-before-migrate")
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="search-after-migrate")


# The index is kept by triggers on the tracking tables. A migration that rebuilds one of those
# tables (SQLite rebuilds a table to add a column) would drop the triggers on it, or fail on the
# triggers of other tables that name it. So a `migrate` that applies anything first takes the
# index away, and makes it again, triggers and all, from the rows as they are once it is done.


def _before_migrate(sender, using="default", plan=None, **kwargs) -> None:
    if plan:
        from django.db import connections

        from . import schema

        connection = connections[using]
        if schema.TABLE in connection.introspection.table_names():
            schema.uninstall(connection)


def _behind(connection) -> bool:
    """Are some migrations left unapplied (a migrate to an earlier state, as the migration tests make)?"""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _after_migrate(sender, using="default", plan=None, **kwargs) -> None:
    from django.db import connections, transaction

    from . import schema

    connection = connections[using]
    tables = connection.introspection.table_names()
    if "search_theme" not in tables:
        return  # search's own migration is not applied (a migrate to an earlier state)
    if _behind(connection):
        return  # migrated to an earlier state: the index is made from the latest tables, once they are there
    if schema.TABLE not in tables or plan:
        with transaction.atomic(using=using):
            if schema.TABLE in tables:
                schema.uninstall(connection)
            schema.install(connection)
