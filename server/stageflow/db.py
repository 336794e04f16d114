"""The database: one peewee proxy, bound at start-up to the database the URL names.

Every model uses :data:`database`. The web app connects per request (:func:`init_app`);
worker and scheduler threads wrap their work in :func:`connection_context`. SQLite and
PostgreSQL go through the same code: all SQLite-specific code is in the section marked
"SQLite only" at the end of this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import peewee
from flask import Flask
from playhouse import db_url

from .config import ConfigError

database = peewee.DatabaseProxy()

#: Connections a process keeps open at most, and how long an idle one is kept.
POOL_SIZE = 32
POOL_STALE_SECONDS = 300


def open_database(url: str, *, busy_timeout_ms: int = 5000) -> peewee.Database:
    """Return an unconnected peewee database for ``url`` (``sqlite:///…``, ``postgresql://…``).

    Raises :class:`ConfigError` naming ``database_url`` if the URL cannot be used.
    """
    scheme = url.partition("://")[0]
    if scheme not in db_url.schemes:
        supported = ", ".join(sorted(s for s in db_url.schemes if "+" not in s))
        raise ConfigError(f"database_url: unsupported database {scheme!r}; use one of {supported}")
    options = _sqlite_options(url, busy_timeout_ms) if scheme.startswith("sqlite") else {}
    if f"{scheme}+pool" in db_url.schemes:
        # A pool: a request or a job takes a connection and gives it back, instead of
        # opening one (and, for SQLite, checkpointing the WAL on the last close) each time.
        url = f"{scheme}+pool" + url[len(scheme) :]
        options.update(max_connections=POOL_SIZE, stale_timeout=POOL_STALE_SECONDS)
        if scheme.startswith("sqlite"):  # a pooled connection serves one thread at a time
            options["check_same_thread"] = False
    try:
        return db_url.connect(url, **options)
    except ValueError:  # peewee's message repeats the URL, password included
        raise ConfigError(
            f"database_url: the URL has no database name; use {scheme}:///path/to/file.db "
            f"for a local file or {scheme}://host/dbname for a server"
        ) from None


def init_app(app: Flask) -> None:
    """Bind :data:`database` to the app's ``DATABASE_URL``; connect per request."""
    if database.obj is not None and not database.is_closed():
        database.close()  # a previous app's connection in this thread (tests)
    database.initialize(
        open_database(
            app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"]
        )
    )
    app.before_request(_connect)
    app.teardown_request(_close)


def connection_context() -> peewee.ConnectionContext:
    """A connection for the duration of a ``with`` block, for threads outside requests."""
    return database.connection_context()


def check_database() -> str | None:
    """Return ``None`` if the database answers a query, else the error's text."""
    try:
        database.execute_sql("SELECT 1")
    except peewee.PeeweeException as error:
        return f"{type(error).__name__}: {error}"
    return None


def _connect() -> None:
    database.connect(reuse_if_open=True)


def _close(_error: BaseException | None) -> None:
    if not database.is_closed():
        database.close()


def is_sqlite() -> bool:
    """Whether :data:`database` is bound to SQLite."""
    return isinstance(database.obj, peewee.SqliteDatabase)


# -- SQLite only: nothing else in Stageflow may depend on the database being SQLite. --


def json_sort_key(path: Any) -> Any:
    """A JSON field's value to sort by: numbers as numbers and text as text.

    SQLite's ``->>`` gives SQL values; PostgreSQL's ``->>`` would give text (so 10 < 9),
    while its ``->`` gives ``jsonb``, which sorts numbers as numbers.
    """
    return path.as_text() if is_sqlite() else path


def _sqlite_options(url: str, busy_timeout_ms: int) -> dict[str, Any]:
    """SQLite connection options, and the database file's folder created if missing.

    WAL lets readers run while one writer writes; ``BEGIN IMMEDIATE`` takes the write
    lock when a transaction starts, so two writers queue on ``busy_timeout`` instead of
    one failing with "database is locked" when it upgrades a read lock mid-transaction.
    """
    path = db_url.parse(url).get("database", "")
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "pragmas": {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": busy_timeout_ms,
            "synchronous": "normal",
            # Checkpoint the WAL every ~40 MB instead of every ~4 MB: ten times fewer
            # fsyncs under a steady stream of small transactions (the engine's).
            "wal_autocheckpoint": 10000,
        },
        "timeout": busy_timeout_ms / 1000,
        "lock_type": "IMMEDIATE",
    }


@contextmanager
def schema_change() -> Iterator[None]:
    """A transaction for changing the schema; on SQLite, with foreign keys unenforced.

    SQLite alters most columns by copying the table and dropping the old one; with
    foreign keys enforced, that drop would delete (cascade) or refuse because of the
    rows that refer to it. SQLite's documented procedure turns enforcement off around
    the change (outside the transaction: it cannot change inside one) and checks the
    keys before committing, as this does.
    """
    sqlite = is_sqlite()
    if sqlite:
        database.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        with database.atomic():
            yield
            if sqlite and (broken := database.execute_sql("PRAGMA foreign_key_check").fetchall()):
                raise peewee.IntegrityError(f"schema change broke foreign keys: {broken[:5]}")
    finally:
        if sqlite:
            database.execute_sql("PRAGMA foreign_keys = ON")
