"""Schema versions: a new database gets every migration; an old one is upgraded intact."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import peewee
import pytest
from flask import Flask

from stageflow import migrations, models
from stageflow.app import create_app
from stageflow.db import database, open_database
from stageflow.migrations import MIGRATIONS, current_version, latest_version, upgrade

VERSION_1_DUMP = Path(__file__).parent / "data" / "schema_v1.sql"


def schema() -> dict[str, object]:
    """Each table's columns (name, type, nullability) and indexes, as the database has them."""
    return {
        table: (
            sorted((c.name, c.data_type.upper(), c.null) for c in database.get_columns(table)),
            sorted((i.name, tuple(i.columns), i.unique) for i in database.get_indexes(table)),
        )
        for table in sorted(database.get_tables())
    }


def row_counts() -> dict[str, int]:
    """The number of rows in each table there is but schema_version."""
    tables = set(database.get_tables())
    return {
        model._meta.table_name: model.select().count()
        for model in models.MODELS
        if model is not models.SchemaVersion and model._meta.table_name in tables
    }


def test_new_database_gets_every_migration(app: Flask) -> None:
    with database.connection_context():
        assert current_version() == latest_version() == len(MIGRATIONS)
        versions = models.SchemaVersion.select().order_by(models.SchemaVersion.version)
        assert [(v.version, v.name) for v in versions] == [
            (number, name) for number, (name, _) in enumerate(MIGRATIONS, start=1)
        ]
        assert set(database.get_tables()) == {m._meta.table_name for m in models.MODELS}
        assert upgrade() == []  # nothing left to do


@pytest.mark.sqlite_only
def test_version_1_database_is_upgraded_without_losing_rows(tmp_path: Path, app: Flask) -> None:
    with database.connection_context():
        latest_schema = schema()
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as connection:
        connection.executescript(VERSION_1_DUMP.read_text())
    connection.close()

    database.initialize(open_database(f"sqlite:///{old}"))
    with database.connection_context():
        assert current_version() == 1
        before = row_counts()
        alice_before = models.User.get(name="alice")

    upgraded = create_app({"database_url": f"sqlite:///{old}", "instance_dir": str(tmp_path)})
    assert upgraded.config["DATABASE_URL"].endswith("old.db")
    with database.connection_context():
        assert current_version() == latest_version()
        after = row_counts()
        assert {table: after[table] for table in before} == before
        assert after["record_shares"] == after["feed_cursors"] == 0  # made by migration 4
        assert all(count > 0 for count in before.values())  # the dump fills every table
        assert schema() == latest_schema
        alice = models.User.get(name="alice")
        assert (alice.manager.name, alice.created_at) == ("carol", alice_before.created_at)
        job = models.Job.get()
        assert (job.payload, job.last_error) == ({"step_run": 1}, None)
        assert models.Record.get().data["Subject"] == "Printer on fire"


def test_a_failing_migration_changes_nothing(app: Flask) -> None:
    def add_then_fail(migrator: object) -> None:
        models.User.create(name="half-done")
        raise RuntimeError("migration bug")

    with database.connection_context():
        with pytest.raises(RuntimeError, match="migration bug"):
            upgrade([*MIGRATIONS, ("broken", add_then_fail)])
        assert current_version() == latest_version()
        assert not models.User.select().where(models.User.name == "half-done").exists()


def test_a_database_newer_than_the_code_is_refused(app: Flask) -> None:
    with database.connection_context():
        models.SchemaVersion.create(version=latest_version() + 1, name="from the future")
        future, known = latest_version() + 1, latest_version()
        with pytest.raises(
            RuntimeError, match=rf"schema version {future}, but this Stageflow knows only {known}"
        ):
            upgrade()


def test_table_rebuilds_keep_rows_that_refer_to_the_table(app: Flask) -> None:
    # On SQLite, making a column NOT NULL copies and drops the table; with foreign keys
    # enforced, the drop would cascade to every user's tokens and memberships.
    def require_email(migrator: migrations.SchemaMigrator) -> None:
        models.User.update(email="unknown@example.com").where(models.User.email.is_null()).execute()
        migrator.add_not_null("users", "email").run()

    with database.connection_context():
        alice = models.User.create(name="alice")
        models.ApiToken.create(user=alice, token_hash="e" * 64)
        models.GroupMembership.create(group=models.Group.create(name="g"), user=alice)
        upgrade([*MIGRATIONS, ("users.email required", require_email)])
        assert models.ApiToken.select().count() == 1
        assert models.GroupMembership.select().count() == 1
        assert not next(c for c in database.get_columns("users") if c.name == "email").null
        with pytest.raises(peewee.IntegrityError), database.atomic():
            models.ApiToken.create(user=999, token_hash="d" * 64)  # keys enforced again


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    database.initialize(open_database(database_url))
    results: list[object] = []

    def start() -> None:
        try:
            with database.connection_context():
                results.append(upgrade())
        except Exception as error:  # reported below
            results.append(error)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(result, list) for result in results), results
    every = list(range(1, latest_version() + 1))
    assert sorted(version for result in results for version in result) == every
    with database.connection_context():
        assert [v.version for v in models.SchemaVersion.select()] == every
