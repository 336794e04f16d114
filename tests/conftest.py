"""Fixtures: a fresh app and database per test, and a test client.

Tests run on a temporary SQLite file. To run the same tests on PostgreSQL, set
``STAGEFLOW_TEST_DATABASE_URL=postgresql://…`` to a database they may empty (every
table in its ``public`` schema is dropped before each test); SQLite-only tests skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from support import Api

from stageflow.app import create_app
from stageflow.clock import FixedClock
from stageflow.db import database

TEST_DATABASE_URL = os.environ.get("STAGEFLOW_TEST_DATABASE_URL", "")

# Property tests draw the same examples on every run, so the suite stays deterministic.
settings.register_profile("stageflow", derandomize=True, database=None)
settings.load_profile("stageflow")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: skipped when testing on PostgreSQL")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if TEST_DATABASE_URL and item.get_closest_marker("sqlite_only"):
        pytest.skip("tests SQLite-specific behaviour")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's STAGEFLOW_* variables out of every test."""
    for name in list(os.environ):
        if name.startswith("STAGEFLOW_"):
            monkeypatch.delenv(name)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database: a new SQLite file, or the emptied test PostgreSQL."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'stageflow.db'}"
        return
    _empty_postgresql(TEST_DATABASE_URL)
    yield TEST_DATABASE_URL


@pytest.fixture
def clock() -> FixedClock:
    """A clock that stands still until a test moves it."""
    return FixedClock()


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """A new app on a new, fully migrated database."""
    app = create_app(
        {"database_url": database_url, "instance_dir": str(tmp_path / "instance"), "TESTING": True}
    )
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``."""
    return app.test_client()


def _empty_postgresql(url: str) -> None:
    # PostgreSQL-only SQL, in the tests: a new database per test would be too slow.
    from stageflow.db import open_database

    db = open_database(url)
    if not isinstance(db, peewee.PostgresqlDatabase):
        raise pytest.UsageError("STAGEFLOW_TEST_DATABASE_URL must be a postgresql:// URL")
    try:
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        db.close()


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    """API tokens of an admin ``root`` and a plain user ``ann`` (and ``bob``)."""
    from stageflow.auth import create_user, issue_token

    out = {}
    with app.app_context(), database.connection_context():
        for name, admin in (("root", True), ("ann", False), ("bob", False)):
            out[name] = issue_token(create_user(name, admin=admin, password="pw"))[1]
    return out


@pytest.fixture
def admin_api(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens["root"])


@pytest.fixture
def user_api(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens["ann"])


@pytest.fixture
def anon_api(client: FlaskClient) -> Api:
    return Api(client, None)
