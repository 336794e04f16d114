"""Fixtures: a Stageflow app whose objects are tables of another, real, database.

Every test runs on SQLite: the mapped tables are in a new SQLite file, Stageflow's own
tables in another.  When ``STAGEFLOW_TEST_POSTGRES_URL`` names a PostgreSQL database
the tests may use, every test runs a second time on it: the mapped tables and
Stageflow's tables are made in two new schemas of that database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import peewee
import pytest
from flask import Flask
from playhouse import db_url

from stageflow.app import create_app
from stageflow.clock import FixedClock
from stageflow.db import database
from stageflow_sqltable import SqlTableSource

POSTGRES_URL = os.environ.get("STAGEFLOW_TEST_POSTGRES_URL", "")

#: The mapped tables, as each database declares them: a column of every kind.
TABLES = {
    "sqlite": """
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name VARCHAR(40) NOT NULL,
            email TEXT UNIQUE,
            balance DECIMAL(10, 2),
            visits INTEGER,
            rating DOUBLE PRECISION,
            vip BOOLEAN,
            born DATE,
            last_seen TIMESTAMP,
            opens TIME,
            owner VARCHAR(40),
            updated_at DATETIME
        );
        CREATE TABLE tickets (
            code TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open',
            version INTEGER NOT NULL
        );
    """,
    "postgresql": """
        CREATE TABLE customers (
            id SERIAL PRIMARY KEY,
            name VARCHAR(40) NOT NULL,
            email TEXT UNIQUE,
            balance NUMERIC(10, 2),
            visits INTEGER,
            rating DOUBLE PRECISION,
            vip BOOLEAN,
            born DATE,
            last_seen TIMESTAMP WITH TIME ZONE,
            opens TIME,
            owner VARCHAR(40),
            updated_at TIMESTAMP
        );
        CREATE TABLE tickets (
            code TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open',
            version BIGINT NOT NULL
        );
    """,
}

#: Rows that are there before Stageflow looks: (name, email, balance, visits, rating,
#: vip, born, last_seen, opens, owner, updated_at).
CUSTOMERS = [
    ("Ada", "ada@example.com", 1200.5, 3, 4.5, True, "1990-12-10",
     "2026-01-04 18:30:00+00", "09:30:00", "ann", "2026-01-01 08:00:00"),
    ("Bob", "bob@example.com", 80, 0, None, False, None, None, None, "bob", "2026-01-02 08:00:00"),
    ("Cy", None, None, None, None, None, None, None, None, None, "2026-01-03 08:00:00"),
    ("Dee", "dee@example.com", 80, 7, 3.0, True, "1985-02-01", None, None, "ann",
     "2026-01-03 09:00:00"),
    ("Eve", None, 15.25, 1, None, False, None, None, None, None, "2026-01-03 10:00:00"),
]  # fmt: skip


class Crm:
    """The other database, as another program sees it: plain SQL on its own connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = db_url.connect(url)

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement (``?`` marks parameters) and return its rows, if any."""
        with self.db.connection_context():
            cursor = self.db.execute_sql(sql.replace("?", self.db.param), params)
            return cursor.fetchall() if cursor.description else []

    def tables(self) -> list[str]:
        with self.db.connection_context():
            return self.db.get_tables()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's STAGEFLOW_* variables out of every test."""
    for name in list(os.environ):
        if name.startswith("STAGEFLOW_"):
            monkeypatch.delenv(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database the test runs on."""
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("set STAGEFLOW_TEST_POSTGRES_URL to test on PostgreSQL too")
    return request.param


@pytest.fixture
def urls(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """``{"crm": …, "stageflow": …}``: URLs of two new, empty databases."""
    if backend == "sqlite":
        (tmp_path / "crm.db").touch()
        yield {
            "crm": f"sqlite:///{tmp_path / 'crm.db'}",
            "stageflow": f"sqlite:///{tmp_path / 'stageflow.db'}",
        }
        return
    schemas = {role: f"sqltable_{role}_{uuid.uuid4().hex[:12]}" for role in ("crm", "stageflow")}
    admin = db_url.connect(POSTGRES_URL)
    if not isinstance(admin, peewee.PostgresqlDatabase):
        raise pytest.UsageError("STAGEFLOW_TEST_POSTGRES_URL must be a postgresql:// URL")
    with admin.connection_context():
        for schema in schemas.values():
            admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    joiner = "&" if "?" in POSTGRES_URL else "?"
    yield {
        role: f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}"
        for role, schema in schemas.items()
    }
    with admin.connection_context():
        for schema in schemas.values():
            admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def crm(backend: str, urls: Mapping[str, str]) -> Iterator[Crm]:
    """The other database, with its tables and the customers already there."""
    crm = Crm(urls["crm"])
    for statement in TABLES[backend].split(";"):
        if statement.strip():
            crm.run(statement)
    for row in CUSTOMERS:
        crm.run(
            "INSERT INTO customers (name, email, balance, visits, rating, vip, born, last_seen,"
            " opens, owner, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            *row,
        )
    yield crm
    crm.db.close()


@pytest.fixture
def plugins(crm: Crm) -> dict[str, Any]:
    """The ``plugins`` setting: ``[plugins.sqltable]`` maps Customer and Ticket onto ``crm``."""
    return {
        "sqltable": {
            "objects": {
                "Customer": {
                    "url": crm.url,
                    "table": "customers",
                    "watermark": "updated_at",
                    "owner": "owner",
                },
                "Ticket": {"url": crm.url, "table": "tickets", "watermark": "version"},
            }
        }
    }


@pytest.fixture
def clock() -> FixedClock:
    """Stageflow's clock: 2026-01-05 09:00 UTC until a test moves it."""
    return FixedClock()


@pytest.fixture
def app(
    tmp_path: Path, urls: Mapping[str, str], plugins: dict[str, Any], clock: FixedClock
) -> Iterator[Flask]:
    """A Stageflow app with the plugin mapping Customer and Ticket onto ``crm``'s tables."""
    app = create_app(
        {
            "database_url": urls["stageflow"],
            "instance_dir": str(tmp_path / "instance"),
            "plugins": plugins,
            "TESTING": True,
        },
        clock=clock,
    )
    with app.app_context(), database.connection_context():
        yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def source(app: Flask) -> SqlTableSource:
    """The app's ``sqltable`` record source."""
    return app.extensions["stageflow"].registry.record_sources["sqltable"]
