"""Schema versions: the ordered migrations that bring any Stageflow database up to date.

The ``schema_version`` table has one row per migration applied. On start,
:func:`upgrade` applies the missing ones in order, each in its own transaction
together with its row, so a failed migration changes nothing and the next start
retries it.

Migration 1 creates every table from the current models, so a new database gets the
latest schema at once; every later migration must then be a no-op where its change is
already there (use :func:`add_column`, which checks, or check yourself). The test
suite upgrades a real version-1 database and compares its schema with a new one's.

To change a table: change the model in :mod:`stageflow.models`, then append a
migration here. Never edit or reorder a migration that has been released.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import peewee
from flask import Flask
from peewee import Field, fn
from playhouse.migrate import SchemaMigrator

from . import models
from .db import database, schema_change

#: A migration: a name saying what it changes, and the function that changes it.
Migration = tuple[str, Callable[[SchemaMigrator], None]]


def add_column(migrator: SchemaMigrator, field: Field) -> None:
    """Add the column of model field ``field`` to its table, unless it is there already."""
    table = field.model._meta.table_name
    if field.column_name not in {c.name for c in database.get_columns(table)}:
        migrator.add_column(table, field.column_name, field).run()


def _create_tables(migrator: SchemaMigrator) -> None:
    database.create_tables(models.MODELS, safe=True)


def _add_job_errors(migrator: SchemaMigrator) -> None:
    # Why a job's last attempt failed, kept for the retry and the admin's run page.
    add_column(migrator, models.Job.last_error)


#: Indexes that no query uses (the composite (run_id, name) index covers run_id) and that
#: every write of a stage or step run paid for.
_UNUSED_INDEXES = (
    "stage_runs_run_id",
    "stage_runs_status",
    "step_runs_run_id",
    "step_runs_status",
    "step_runs_idempotency_key",
    "step_runs_flow_version_id",
)


def _drop_unused_indexes(migrator: SchemaMigrator) -> None:
    for name in _UNUSED_INDEXES:
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def _create_record_tables(migrator: SchemaMigrator) -> None:
    database.create_tables([models.RecordShare, models.FeedCursor], safe=True)


def _add_sla_checks(migrator: SchemaMigrator) -> None:
    # When the SLA sweep must next look at a work item, indexed: the sweep and the
    # scheduler read only the items that are due.
    add_column(migrator, models.WorkItem.next_check_at)
    table = models.WorkItem._meta.table_name
    if not any(index.columns == ["next_check_at"] for index in database.get_indexes(table)):
        migrator.add_index(table, ("next_check_at",), False).run()


#: Every migration, in order; a migration's version is its position, from 1.
MIGRATIONS: Sequence[Migration] = (
    ("create tables", _create_tables),
    ("jobs.last_error", _add_job_errors),
    ("drop unused stage and step run indexes", _drop_unused_indexes),
    ("record_shares and feed_cursors", _create_record_tables),
    ("work_items.next_check_at", _add_sla_checks),
)


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version the code expects: the number of migrations."""
    return len(migrations)


def current_version() -> int:
    """The schema version of :data:`database`: 0 for a database Stageflow never touched."""
    if not database.table_exists(models.SchemaVersion._meta.table_name):
        return 0
    return models.SchemaVersion.select(fn.MAX(models.SchemaVersion.version)).scalar() or 0


def upgrade(migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply every migration newer than the database's version; return those applied.

    Raises :class:`RuntimeError` if the database is newer than this code.
    """
    version_table = models.SchemaVersion._meta.table_name
    _apply_once(
        lambda: database.create_tables([models.SchemaVersion]),
        done=lambda: database.table_exists(version_table),
    )
    migrator = SchemaMigrator.from_database(database)
    applied = []
    for version, (name, migrate) in enumerate(migrations, start=1):
        change = partial(_migrate, migrator, version, name, migrate)
        if _apply_once(change, done=partial(_is_applied, version)):
            applied.append(version)
    if (found := current_version()) > latest_version(migrations):
        raise RuntimeError(
            f"the database is at schema version {found}, but this Stageflow knows only "
            f"{latest_version(migrations)}: upgrade Stageflow, or use another database_url"
        )
    return applied


def _migrate(
    migrator: SchemaMigrator, version: int, name: str, migrate: Callable[[SchemaMigrator], None]
) -> None:
    migrate(migrator)
    models.SchemaVersion.create(version=version, name=name)


def _is_applied(version: int) -> bool:
    return current_version() >= version


def _apply_once(change: Callable[[], None], done: Callable[[], bool]) -> bool:
    """Make ``change`` in one transaction unless ``done()``; return whether it was made.

    ``done`` is asked inside the transaction, and again if the change fails: when two
    processes start together, the one that loses the race finds the winner's change.
    """
    try:
        with schema_change():
            if done():
                return False
            change()
    except peewee.DatabaseError:
        if done():
            return False
        raise
    return True


def init_app(app: Flask) -> None:
    """Bring the app's database up to the latest schema version (creating it if new)."""
    with database.connection_context():
        applied = upgrade()
    if applied:
        app.logger.info("database schema upgraded to version %d", applied[-1])
