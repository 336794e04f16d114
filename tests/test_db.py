"""The database connection: URL choice, SQLite pragmas, per-request and thread connections."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask

from stageflow.config import ConfigError
from stageflow.db import connection_context, database, open_database
from stageflow.models import User


@pytest.mark.sqlite_only
def test_sqlite_file_uses_wal_and_the_other_pragmas(app: Flask) -> None:
    with app.test_request_context():
        app.preprocess_request()

        def pragma(name: str) -> object:
            return database.execute_sql(f"PRAGMA {name}").fetchone()[0]

        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == app.config["SQLITE_BUSY_TIMEOUT_MS"]
        assert pragma("synchronous") == 1  # NORMAL
    assert Path(database.database).is_file()


def test_unsupported_or_incomplete_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"database_url: unsupported database 'oracle'"):
        open_database("oracle://db/stageflow")
    with pytest.raises(ConfigError, match=r"database_url: .*has no database name"):
        open_database("postgresql://db")


def test_sqlite_folder_is_created(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path}/new/folder/stageflow.db")
    db.connect()
    db.close()
    assert (tmp_path / "new" / "folder" / "stageflow.db").is_file()


def test_a_request_connects_and_its_teardown_closes(app: Flask) -> None:
    seen = []

    @app.get("/probe")
    def probe() -> str:
        seen.append(database.is_closed())
        return "ok"

    database.close()
    assert app.test_client().get("/probe").text == "ok"
    assert seen == [False]
    assert database.is_closed()


def test_threads_use_their_own_connection_context(app: Flask) -> None:
    names = []

    def work(name: str) -> None:
        with connection_context():
            User.create(name=name)
            names.append(name)
        assert database.is_closed()

    threads = [threading.Thread(target=work, args=(f"user{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(names) == [f"user{i}" for i in range(4)]
    with connection_context():
        assert User.select().count() == 4
