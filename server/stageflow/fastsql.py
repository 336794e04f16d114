"""Statements for the engine's hot paths, compiled to SQL once and reused.

Building SQL from peewee query objects costs more than running it on SQLite; the
engine runs the same few statements thousands of times a second.  These helpers build
each statement's text once (with peewee, so it is right for the database in use), cache
it per database, and then only bind values.  Values go through each field's
``db_value``, exactly as peewee's own queries would; no text is ever spliced in.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import peewee

from .db import database

M = TypeVar("M", bound=peewee.Model)

_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple, str]] = weakref.WeakKeyDictionary()


def _sql(key: tuple, build: Any) -> str:
    cache = _CACHE.setdefault(database.obj, {})
    text = cache.get(key)
    if text is None:
        text = cache[key] = build()
    return text


def select_where(model: type[M], field: peewee.Field, value: Any, order: Any = None) -> list[M]:
    """``SELECT * FROM model WHERE field = value [ORDER BY order]`` as model instances."""

    def build() -> str:
        query = model.select().where(field == 0)
        return (query.order_by(order) if order is not None else query).sql()[0]

    text = _sql(("select", model, field.name, getattr(order, "name", None)), build)
    return list(model.raw(text, field.db_value(value)))


def update_rows(rows: Sequence[peewee.Model], fields: Iterable[peewee.Field]) -> None:
    """Write ``fields`` of each row (``UPDATE … WHERE id = ?``), one statement per row.

    Values are read from the rows' stored data, so a foreign key is written as its id
    without loading the row it points to.
    """
    if not rows:
        return
    model = type(rows[0])
    columns = sorted({f.name: f for f in fields}.values(), key=lambda f: f.name)

    def build() -> str:
        assignments = ", ".join(f'"{f.column_name}" = {database.param}' for f in columns)
        table = model._meta.table_name
        return f'UPDATE "{table}" SET {assignments} WHERE "id" = {database.param}'  # noqa: S608 - names from the model, values bound

    text = _sql(("update", model, tuple(f.name for f in columns)), build)
    cursor = database.cursor()
    cursor.executemany(
        text, [[_db(f, row.__data__.get(f.name)) for f in columns] + [row.id] for row in rows]
    )


def insert_rows(model: type[peewee.Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts of field name → value; defaults fill the rest) in one statement."""
    if not rows:
        return
    fields = [f for f in model._meta.sorted_fields if not f.primary_key]

    def build() -> str:
        columns = ", ".join(f'"{f.column_name}"' for f in fields)
        marks = ", ".join([database.param] * len(fields))
        return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'  # noqa: S608 - names from the model, values bound

    text = _sql(("insert", model), build)
    cursor = database.cursor()
    cursor.executemany(text, [[_db(f, _value(f, row)) for f in fields] for row in rows])


def _value(field: peewee.Field, row: dict[str, Any]) -> Any:
    if field.name in row:
        return row[field.name]
    default = field.default
    return default() if callable(default) else default


def _db(field: peewee.Field, value: Any) -> Any:
    """A value as bound to a statement: JSON as its text (peewee would wrap it in SQL)."""
    if isinstance(field, peewee.JSONField):
        return None if value is None else field._dumps(value)
    return field.db_value(value)
