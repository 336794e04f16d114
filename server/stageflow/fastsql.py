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
    """``SELECT * FROM model WHERE field = value [ORDER BY order]`` as model instances.

    Rows become instances directly (each column through its field's ``python_value``),
    as peewee would build them, without rebuilding the query each time.
    """
    fields = model._meta.sorted_fields

    def build() -> str:
        columns = ", ".join(f'"{f.column_name}"' for f in fields)
        text = (f'SELECT {columns} FROM "{model._meta.table_name}" '  # noqa: S608 - names from the model
                f'WHERE "{field.column_name}" = {database.param}')  # fmt: skip
        return text + (f' ORDER BY "{order.column_name}"' if order is not None else "")

    text = _sql(("select", model, field.name, getattr(order, "name", None)), build)
    rows = database.execute_sql(text, (field.db_value(value),)).fetchall()
    readers = [(f.name, f.python_value) for f in fields]
    out = []
    for row in rows:
        instance = model(__no_default__=1)
        instance.__data__ = {name: read(v) for (name, read), v in zip(readers, row, strict=True)}
        out.append(instance)
    return out


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
    """Insert rows (dicts of field name → value; defaults fill the rest) in one statement.

    Every row must name the same fields as the first.
    """
    if not rows:
        return
    given = tuple(rows[0])
    fields = [f for f in model._meta.sorted_fields if f.name in given]
    defaults = [f for f in model._meta.sorted_fields
                if not f.primary_key and f.name not in given and f.default is not None]  # fmt: skip

    def build() -> str:
        columns = ", ".join(f'"{f.column_name}"' for f in fields + defaults)
        marks = ", ".join([database.param] * (len(fields) + len(defaults)))
        return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'  # noqa: S608 - names from the model, values bound

    text = _sql(("insert", model, given), build)
    filled = [_db(f, f.default() if callable(f.default) else f.default) for f in defaults]
    cursor = database.cursor()
    cursor.executemany(text, [[_db(f, row[f.name]) for f in fields] + filled for row in rows])


_PLAIN = (peewee.CharField, peewee.TextField, peewee.IntegerField, peewee.BooleanField)


def _db(field: peewee.Field, value: Any) -> Any:
    """A value as bound to a statement: JSON as its text (peewee would wrap it in SQL)."""
    if value is None:
        return None
    if isinstance(field, peewee.JSONField):
        return field._dumps(value)
    if isinstance(field, _PLAIN) and value.__class__ in (str, int, bool):
        return value
    return field.db_value(value)
