"""Tables of an existing database, mapped onto Stageflow objects.

peewee's reflection (:mod:`playhouse.reflection`) reads a table's columns when the
server starts.  Each column becomes a record field of the matching type, except three:
the key column is the record's ``Id``, the owner column its ``Owner``, and a datetime
watermark its ``UpdatedAt``.  This module builds the SQL; values are converted in
:mod:`stageflow_sqltable.values`, and the change feed, kept in Stageflow's own database,
is in :mod:`stageflow_sqltable.feed`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import peewee
from playhouse import db_url
from playhouse.reflection import Introspector

from stageflow.definitions.spec import SYSTEM_FIELDS
from stageflow.extension import Page, Record
from stageflow.records import RecordError

from .settings import ObjectSettings
from .values import Column, database_value, dump_cursor, load_cursor, record_value

#: How long (milliseconds) a write to a SQLite file waits for another program's lock.
SQLITE_BUSY_TIMEOUT_MS = 5000

#: peewee's reflected field classes as record field types (subclasses included).
_FIELD_TYPES: tuple[tuple[type[peewee.Field], str], ...] = (
    (peewee.BooleanField, "checkbox"),
    (peewee.IntegerField, "number"),
    (peewee.FloatField, "number"),
    (peewee.DecimalField, "number"),
    (peewee.DateTimeField, "datetime"),
    (peewee.DateField, "date"),
    (peewee.TimeField, "time"),
)
#: Declared SQLite types that peewee's reflection leaves unknown, by prefix.
_SQLITE_TYPES = (("timestamp", "datetime"), ("double", "number"))


def open_database(settings: ObjectSettings) -> peewee.Database:
    """A database for the object's URL; it connects only when used, once per thread."""
    options: dict[str, Any] = {}
    if settings.url.startswith("sqlite"):
        path = db_url.parse(settings.url).get("database") or ""
        if not Path(path).is_file():
            raise settings.problem("url", f"there is no SQLite database file at {path!r}")
        # Write transactions take the lock when they begin, so the row an update reads
        # is the row it replaces.  The journal mode is the owner's choice: left alone.
        options = {
            "pragmas": {"busy_timeout": SQLITE_BUSY_TIMEOUT_MS},
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            "lock_type": "IMMEDIATE",
            "returning_clause": True,  # INSERT … RETURNING: SQLite 3.35 or newer
        }
    try:
        return db_url.connect(settings.url, **options)
    except ValueError:  # peewee's message repeats the URL, password included
        raise settings.problem("url", "the URL names no database") from None


def reflect(settings: ObjectSettings, database: peewee.Database) -> MappedTable:
    """Read the object's table; ValueError naming the setting when something is missing."""
    try:
        with database.connection_context():
            tables = database.get_tables()
            if settings.table not in tables:
                raise settings.problem(
                    "table",
                    f"no table {settings.table!r} in {_redacted(settings.url)} "
                    f"(its tables: {', '.join(tables) or 'none'})",
                )
            metadata = Introspector.from_database(database).metadata
            found = metadata.get_columns(settings.table)
            primary_key = metadata.get_primary_keys(settings.table)
    except peewee.DatabaseError as error:  # cannot connect, not a database, no rights…
        message = str(error).strip().splitlines()[0]
        raise settings.problem("url", f"cannot read the database: {message}") from None
    except peewee.ImproperlyConfigured as error:  # the driver is not installed
        raise settings.problem(
            "url", f"{error} (pip install 'stageflow-sqltable[postgresql]')"
        ) from None
    sqlite = isinstance(database, peewee.SqliteDatabase)
    columns = {name: _column(meta, sqlite) for name, meta in found.items()}

    def named(setting: str, name: str, types: Sequence[str]) -> Column:
        if name not in columns:
            raise settings.problem(
                setting,
                f"no column {name!r} in table {settings.table!r} "
                f"(its columns: {', '.join(columns)})",
            )
        column = columns[name]
        kind = "integer" if column.whole else column.type
        if kind not in types:
            raise settings.problem(
                setting, f"column {name!r} is {kind}; it must be {' or '.join(types)}"
            )
        return column

    if settings.key is None and len(primary_key) != 1:
        raise settings.problem(
            "key", f"table {settings.table!r} has no one-column primary key: name the key column"
        )
    return MappedTable(
        settings,
        database,
        columns,
        key=named("key", settings.key or primary_key[0], ("integer", "text")),
        watermark=(
            named("watermark", settings.watermark, ("datetime", "integer"))
            if settings.watermark
            else None
        ),
        owner=named("owner", settings.owner, ("text",)) if settings.owner else None,
    )


def _column(meta: Any, sqlite: bool) -> Column:
    """A reflected column (:class:`playhouse.reflection.Column`) as a :class:`Column`."""
    field_class = meta.field_class
    raw = (meta.raw_column_type or "").lower()
    kind = next((t for cls, t in _FIELD_TYPES if issubclass(field_class, cls)), None)
    if kind is None and sqlite:
        kind = next((t for prefix, t in _SQLITE_TYPES if raw.startswith(prefix)), None)
    extra = meta.extra_parameters or {}
    digits = extra.get("max_digits")
    return Column(
        name=meta.column_name,
        type=kind or "text",
        whole=issubclass(field_class, peewee.IntegerField),
        aware="with time zone" in raw or raw == "timestamptz",
        max_length=extra.get("max_length"),
        max_digits=digits - extra.get("decimal_places", 0) if digits else None,
        required=not meta.nullable and meta.default is None,
    )


class MappedTable:
    """The table of one object: its columns as fields, its rows as records.

    Methods that run SQL expect a connection: wrap them in :meth:`connected` or
    :meth:`transaction`.
    """

    def __init__(
        self,
        settings: ObjectSettings,
        database: peewee.Database,
        columns: Mapping[str, Column],
        key: Column,
        watermark: Column | None = None,
        owner: Column | None = None,
    ) -> None:
        self.object = settings.object
        self.database = database
        self.table = peewee.Table(settings.table).bind(database)
        self.columns = dict(columns)
        self.key = key
        self.watermark = watermark
        self.owner = owner
        #: Record system fields stored in a column; CreatedAt and the others stay blank.
        self.system = {"Id": key, "Owner": owner}
        if watermark is not None and watermark.type == "datetime":
            self.system["UpdatedAt"] = watermark
        special = [column for column in self.system.values() if column is not None]
        #: The object's fields: every other column (an integer watermark too, read-only).
        self.fields = {name: c for name, c in self.columns.items() if c not in special}
        self.sqlite = isinstance(database, peewee.SqliteDatabase)

    # -- connections ---------------------------------------------------------------

    def connected(self) -> peewee.ConnectionContext:
        """This thread's connection to the table's database, for a ``with`` block."""
        return self.database.connection_context()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A connection and a transaction on the table's database."""
        with self.database.connection_context(), self.database.atomic():
            yield

    # -- records -------------------------------------------------------------------

    def record(self, row: Mapping[str, Any]) -> Record:
        """A row, as the database gives it, as a Stageflow record (JSON-ready values)."""
        system = {name: row[c.name] for name, c in self.system.items() if c is not None}
        return {
            "Id": str(row[self.key.name]),
            "Owner": record_value("text", system.get("Owner")),
            "CreatedAt": None,
            "UpdatedAt": record_value("datetime", system.get("UpdatedAt")),
            "CreatedBy": None,
            "UpdatedBy": None,
            **{name: record_value(c.type, row[name]) for name, c in self.fields.items()},
        }

    def key_value(self, record_id: Any) -> Any:
        """A record's ``Id`` as the key column holds it; None when no row can have it."""
        if record_id is None:
            return None
        if self.key.whole:
            return int(record_id) if re.fullmatch(r"-?\d+", str(record_id)) else None
        return str(record_id)

    def database_values(self, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """Field values as column values.  RecordError names every field that cannot be."""
        errors: dict[str, str] = {}
        converted: dict[str, Any] = {}
        for name, value in values.items():
            column = self.fields.get(name)
            if column is None or column is self.watermark:
                errors[name] = self._not_writable(name)
                continue
            try:
                converted[name] = database_value(column, value, self.sqlite)
            except ValueError as error:
                errors[name] = str(error)
                continue
            if converted[name] is None and column.required:
                errors[name] = "is required"
        if creating:
            for name, column in self.fields.items():
                if column.required and column is not self.watermark and name not in values:
                    errors[name] = "is required"
        if errors:
            raise RecordError(errors)
        return converted

    def _not_writable(self, name: str) -> str:
        if name in SYSTEM_FIELDS:
            return "is set by Stageflow and cannot be written"
        if name in self.fields:
            return "is the watermark: the record source sets it on every change"
        return f"{self.object} has no field {name!r} (fields: {', '.join(self.fields)})"

    def _column_for(self, name: str) -> Column | None:
        """The column holding a record field; None for system fields this table lacks."""
        if name in self.fields:
            return self.fields[name]
        if name in SYSTEM_FIELDS:
            return self.system.get(name)
        raise RecordError({name: self._not_writable(name)})

    def _sql(self, column: Column) -> peewee.Column:
        # Columns by name, not as attributes: a column may be called "select" or "update".
        return peewee.Column(self.table, column.name)

    def _select(self) -> peewee.Select:
        return self.table.select(*(self._sql(c) for c in self.columns.values()))

    # -- reading -------------------------------------------------------------------

    def get(self, key: Any, *, lock: bool = False) -> Record | None:
        """The record with this key, or None.  ``lock``: until the transaction ends."""
        query = self._select().where(self._sql(self.key) == key)
        if lock and self.database.for_update:  # SQLite writers run one at a time anyway
            query = query.for_update()
        row = query.dicts().first()
        return self.record(row) if row is not None else None

    def query(
        self,
        where: Mapping[str, Any],
        order_by: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """A page of records, as :meth:`stageflow.RecordSource.query` describes.

        Pages are read by keyset: the cursor holds the sort value and key of the last
        record, so a page is found by index however deep it is.
        """
        query = self._where(self._select(), where)
        if query is None:
            return Page([])
        order = order_by or "Id"
        descending = order.startswith("-")
        name = order.removeprefix("-")
        try:
            sort = self._column_for(name) or self.key  # blank system fields: by key
        except RecordError as error:
            raise RecordError({"sort": error.errors[name]}) from None
        if cursor:
            query = query.where(self._after(sort, descending, load_cursor(cursor)))
        query = query.order_by(*self._ordering(sort, descending)).limit(limit + 1)
        rows = list(query.dicts())
        following = None
        if len(rows) > limit:
            rows = rows[:limit]
            following = dump_cursor([rows[-1][sort.name], rows[-1][self.key.name]])
        return Page([self.record(row) for row in rows], following)

    def _where(self, query: peewee.Select, where: Mapping[str, Any]) -> peewee.Select | None:
        """``query`` for rows whose fields equal ``where``'s values; None if none can."""
        for name, value in where.items():
            column = self._column_for(name)
            if column is None:  # a system field this table has no column for: blank
                if value is None:
                    continue
                return None
            if column is self.key:
                stored = self.key_value(value)
                if stored is None:
                    return None
            else:
                try:
                    stored = database_value(column, value, self.sqlite)
                except ValueError as error:
                    raise RecordError({name: str(error)}) from None
            sql = self._sql(column)
            query = query.where(sql.is_null() if stored is None else sql == stored)
        return query

    def _ordering(self, sort: Column, descending: bool) -> list[peewee.Node]:
        key = self._sql(self.key)
        if sort is self.key:
            return [key.desc() if descending else key.asc()]
        column = self._sql(sort)
        # Blanks first going up, last going down, on every database; ties by key.
        if descending:
            return [column.desc(nulls="LAST"), key.desc()]
        return [column.asc(nulls="FIRST"), key.asc()]

    def _after(self, sort: Column, descending: bool, last: Sequence[Any]) -> peewee.Expression:
        """Rows that come after the row with sort value and key ``last`` in that order."""
        value, last_key = last
        key, column = self._sql(self.key), self._sql(sort)
        beyond = (key < last_key) if descending else (key > last_key)
        if sort is self.key:
            return beyond
        if value is None:
            tie = column.is_null() & beyond
            return tie if descending else tie | column.is_null(False)
        later = (column < value) if descending else (column > value)
        after = later | ((column == value) & beyond)
        return after | column.is_null() if descending else after

    # -- writing -------------------------------------------------------------------

    def insert(self, values: Mapping[str, Any], *, owner: str | None, now: dt.datetime) -> Any:
        """Insert a row (values from :meth:`database_values`); return its key.

        An integer key is numbered by the database; any other key gets a new UUID.
        """
        row = {self._sql(self.columns[name]): value for name, value in values.items()}
        row.update(self._stamp(now))
        if self.owner is not None:
            row[self._sql(self.owner)] = owner
        if not self.key.whole:
            row[self._sql(self.key)] = str(uuid.uuid4())
        with _refusals():
            inserted = self.table.insert(row).returning(self._sql(self.key)).execute()
            return next(iter(inserted))[self.key.name]

    def update(self, key: Any, values: Mapping[str, Any], *, now: dt.datetime) -> None:
        """Set some columns of a row (values from :meth:`database_values`)."""
        changes = {self._sql(self.columns[name]): value for name, value in values.items()}
        changes.update(self._stamp(now))
        if changes:
            with _refusals():
                self.table.update(changes).where(self._sql(self.key) == key).execute()

    def delete(self, key: Any) -> None:
        """Delete a row."""
        self.table.delete().where(self._sql(self.key) == key).execute()

    def _stamp(self, now: dt.datetime) -> dict[peewee.Column, Any]:
        """The watermark of a row written now: the time, or one more than the highest."""
        if self.watermark is None:
            return {}
        column = self._sql(self.watermark)
        if self.watermark.type == "datetime":
            return {column: database_value(self.watermark, now, self.sqlite)}
        highest = self.table.select(peewee.fn.COALESCE(peewee.fn.MAX(column), 0) + 1)
        return {column: highest}

    # -- polling -------------------------------------------------------------------

    def rows_after(self, position: str | None, limit: int) -> tuple[list[Record], str | None]:
        """Up to ``limit`` records in watermark order after ``position``, and the position
        of the last one (``position`` itself when there are none).

        A position is the watermark and key of a row, as the database holds them (text,
        for SQLite's dates), so that comparing it with the column is exact.  Rows whose
        watermark is blank are not read.
        """
        if self.watermark is None:
            raise ValueError(f"{self.object} has no watermark column to poll")
        watermark, key = self._sql(self.watermark), self._sql(self.key)
        query = self._select().where(watermark.is_null(False))
        if position is not None:
            last_mark, last_key = load_cursor(position)
            query = query.where(
                (watermark > last_mark) | ((watermark == last_mark) & (key > last_key))
            )
        rows = list(query.order_by(watermark, key).limit(limit).dicts())
        if rows:
            position = dump_cursor([rows[-1][self.watermark.name], rows[-1][self.key.name]])
        return [self.record(row) for row in rows], position


@contextmanager
def _refusals() -> Iterator[None]:
    """A write the database refuses (a constraint, a value out of range) as a RecordError."""
    try:
        yield
    except (peewee.IntegrityError, peewee.DataError) as error:
        reason = str(error).strip().splitlines()[0]
        raise RecordError({"_record": f"the database refused it: {reason}"}) from None


def _redacted(url: str) -> str:
    """The URL without its password, to show in messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
