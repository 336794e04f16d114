"""Statements for the engine's hot paths, compiled to SQL once and reused.

Building SQL from peewee query objects costs more than running it on SQLite; the
engine runs the same few statements thousands of times a second.  These helpers build
each statement's text once (with peewee, so it is right for the database in use), cache
it per database, and then only bind values.  Values go through each field's
``db_value``, exactly as peewee's own queries would; no text is ever spliced in.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
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
    return select(model, {field: value}, order)


def select(model: type[M], where: Mapping[peewee.Field, Any], order: Any = None) -> list[M]:
    """``SELECT * FROM model WHERE f1 = v1 AND … [ORDER BY order]`` as model instances.

    Rows become instances directly (each column through its field's ``python_value``),
    as peewee would build them, without rebuilding the query each time.
    """
    fields = model._meta.sorted_fields
    conditions = tuple(where)

    def build() -> str:
        columns = ", ".join(f'"{f.column_name}"' for f in fields)
        tests = " AND ".join(f'"{f.column_name}" = {database.param}' for f in conditions)
        text = f'SELECT {columns} FROM "{model._meta.table_name}" WHERE {tests}'  # noqa: S608 - names from the model
        return text + (f' ORDER BY "{order.column_name}"' if order is not None else "")

    key = ("select", model, tuple(f.name for f in conditions), getattr(order, "name", None))
    values = [f.db_value(v) for f, v in where.items()]
    rows = database.execute_sql(_sql(key, build), values).fetchall()
    readers = [(f.name, f.python_value) for f in fields]
    out = []
    for row in rows:
        instance = model(__no_default__=1)
        instance.__data__ = {name: read(v) for (name, read), v in zip(readers, row, strict=True)}
        out.append(instance)
    return out


def execute(text: str, params: Sequence[Any] = ()) -> Any:
    """Run a statement written with ``?`` marks (made right for the database once).

    For the few hot statements that are not a plain select, insert or update of one
    model.  Returns the cursor.
    """
    return database.execute_sql(_sql(("text", text), lambda: _marks(text)), params)


def _marks(text: str) -> str:
    if "%" in text or "'" in text:
        raise ValueError("write literal values as parameters: " + text)
    return text.replace("?", database.param)


def insert_row(model: type[peewee.Model], values: Mapping[str, Any]) -> int:
    """Insert one row (field name → value; defaults fill the rest) and return its id."""
    text, fields, filled = _insert(model, tuple(values))
    params = [_db(f, values[f.name]) for f in fields] + filled
    return database.execute_sql(text + ' RETURNING "id"', params).fetchone()[0]


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


def create(model: type[M], **values: Any) -> M:
    """``model.create(**values)`` with a prepared statement: the new row, defaults filled."""
    row = model(**values)
    row.id = insert_row(model, row.__data__)
    row._dirty.clear()
    return row


def insert_rows(model: type[peewee.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts of field name → value; defaults fill the rest) in one statement.

    Every row must name the same fields as the first.
    """
    if not rows:
        return
    text, fields, filled = _insert(model, tuple(rows[0]))
    cursor = database.cursor()
    cursor.executemany(text, [[_db(f, row[f.name]) for f in fields] + filled for row in rows])


def _insert(model: type[peewee.Model], given: tuple[str, ...]) -> tuple[str, list, list]:
    """The INSERT text for fields ``given`` plus defaults, those fields, the default values."""
    fields = [f for f in model._meta.sorted_fields if f.name in given]
    defaults = [f for f in model._meta.sorted_fields
                if not f.primary_key and f.name not in given and f.default is not None]  # fmt: skip

    def build() -> str:
        columns = ", ".join(f'"{f.column_name}"' for f in fields + defaults)
        marks = ", ".join([database.param] * (len(fields) + len(defaults)))
        return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'  # noqa: S608 - names from the model, values bound

    text = _sql(("insert", model, given), build)
    filled = [_db(f, f.default() if callable(f.default) else f.default) for f in defaults]
    return text, fields, filled


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
