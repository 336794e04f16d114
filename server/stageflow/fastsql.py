"""Statements for the engine's hot paths, compiled to SQL once and reused.

Building SQL from peewee query objects costs more than running it on SQLite; the
engine runs the same few statements thousands of times a second.  These helpers build
each statement once per database — its text (from the model, so it is right for the
database in use) and how each column's value is converted — and afterwards only bind
values.  Values go through each field's ``db_value`` and ``python_value`` exactly as
peewee's own queries would, except where the conversion is the identity (text, integer
and foreign-key columns); no text is ever spliced in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import peewee

from .db import database

M = TypeVar("M", bound=peewee.Model)

#: Columns whose values the database driver takes and gives back as they are.
_IDENTITY = (peewee.CharField, peewee.TextField, peewee.IntegerField, peewee.ForeignKeyField)


def _statements() -> dict[Any, Any]:
    """The compiled statements of the database in use (each database keeps its own)."""
    db = database.obj
    try:
        return db._stageflow_statements
    except AttributeError:
        db._stageflow_statements = {}
        return db._stageflow_statements


def _compiled(key: Any, build: Callable[[], Any]) -> Any:
    cache = _statements()
    found = cache.get(key)
    if found is None:
        found = cache[key] = build()
    return found


def _writer(field: peewee.Field) -> Callable[[Any], Any] | None:
    """How a value is bound for ``field``: None when it is bound as it is."""
    if isinstance(field, peewee.JSONField):
        dumps = field._dumps  # the text, not peewee's SQL wrapper around it
        return lambda value: None if value is None else dumps(value)
    if isinstance(field, _IDENTITY) and not isinstance(field, peewee.BooleanField):
        return None
    return field.db_value


def _reader(field: peewee.Field) -> Callable[[Any], Any] | None:
    """How a column's value is read for ``field``: None when it is used as it is."""
    if isinstance(field, _IDENTITY) and not isinstance(field, peewee.BooleanField):
        return None
    return field.python_value


def _params(writers: Sequence[Callable[[Any], Any] | None], values: Sequence[Any]) -> list:
    return [v if w is None or v is None else w(v) for w, v in zip(writers, values, strict=True)]


class _Select:
    """``SELECT * FROM model WHERE f1 = ? AND … [ORDER BY order]``, compiled."""

    def __init__(self, model: type[peewee.Model], where: Sequence[peewee.Field], order: Any):
        fields = model._meta.sorted_fields
        columns = ", ".join(f'"{f.column_name}"' for f in fields)
        tests = " AND ".join(f'"{f.column_name}" = {database.param}' for f in where)
        self.text = f'SELECT {columns} FROM "{model._meta.table_name}" WHERE {tests}'  # noqa: S608 - names from the model
        if order is not None:
            self.text += f' ORDER BY "{order.column_name}"'
        self.model = model
        self.names = [f.name for f in fields]
        self.readers = [(i, f.name, read) for i, f in enumerate(fields)
                        if (read := _reader(f)) is not None]  # fmt: skip
        self.writers = [_writer(f) for f in where]

    def __call__(self, values: Sequence[Any]) -> list:
        cursor = database.execute_sql(self.text, _params(self.writers, values))
        model, names, readers = self.model, self.names, self.readers
        out = []
        for row in cursor.fetchall():
            data = dict(zip(names, row, strict=True))
            for i, name, read in readers:
                if row[i] is not None:
                    data[name] = read(row[i])
            instance = model.__new__(model)  # as peewee builds rows read from a query
            instance.__data__ = data
            instance._dirty = set()
            instance.__rel__ = {}
            out.append(instance)
        return out


def select_where(model: type[M], field: peewee.Field, value: Any, order: Any = None) -> list[M]:
    """``SELECT * FROM model WHERE field = value [ORDER BY order]`` as model instances."""
    return select(model, {field: value}, order)


def select(model: type[M], where: Mapping[peewee.Field, Any], order: Any = None) -> list[M]:
    """``SELECT * FROM model WHERE f1 = v1 AND … [ORDER BY order]`` as model instances,
    built as peewee builds them (each column through its field's ``python_value``)."""
    # Keys hold field names: a field's == builds an SQL expression, not a comparison.
    key = ("select", model, *(f.name for f in where), getattr(order, "name", None))
    statement = _compiled(key, lambda: _Select(model, list(where), order))
    return statement(list(where.values()))


def execute(text: str, params: Sequence[Any] = ()) -> Any:
    """Run a statement written with ``?`` marks (made right for the database once).

    For the few hot statements that are not a plain select, insert or update of one
    model.  Returns the cursor.
    """
    return database.execute_sql(_compiled(("text", text), lambda: _marks(text)), params)


def _marks(text: str) -> str:
    if "%" in text or "'" in text:
        raise ValueError("write literal values as parameters: " + text)
    return text.replace("?", database.param)


class _Insert:
    """``INSERT INTO model (given fields, then fields with defaults) VALUES (…)``."""

    def __init__(self, model: type[peewee.Model], given: Sequence[str]):
        every = model._meta.sorted_fields
        fields = [f for f in every if f.name in given]
        defaults = [f for f in every if f.default is not None and f.name not in given
                    and not f.primary_key]  # fmt: skip
        columns = ", ".join(f'"{f.column_name}"' for f in fields + defaults)
        marks = ", ".join([database.param] * (len(fields) + len(defaults)))
        self.text = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'  # noqa: S608 - names from the model, values bound
        self.names = [f.name for f in fields]
        self.writers = [_writer(f) for f in fields]
        self.defaults = defaults

    def params(self, values: Mapping[str, Any]) -> list:
        """The values of one row, defaults (computed now, like ``utcnow``) at the end."""
        given = _params(self.writers, [values[name] for name in self.names])
        return given + [f.db_value(f.default() if callable(f.default) else f.default)
                        for f in self.defaults]  # fmt: skip


def _insert(model: type[peewee.Model], given: Iterable[str]) -> _Insert:
    names = tuple(given)
    return _compiled(("insert", model, names), lambda: _Insert(model, names))


def insert_row(model: type[peewee.Model], values: Mapping[str, Any]) -> int:
    """Insert one row (field name → value; defaults fill the rest) and return its id."""
    statement = _insert(model, values)
    cursor = database.execute_sql(statement.text + ' RETURNING "id"', statement.params(values))
    return cursor.fetchone()[0]


def create(model: type[M], **values: Any) -> M:
    """``model.create(**values)`` with a prepared statement: the new row, defaults filled."""
    row = model(**values)
    row.id = insert_row(model, row.__data__)
    row._dirty.clear()
    return row


def create_many(model: type[M], rows: Sequence[Mapping[str, Any]], key: str) -> dict[Any, M]:
    """Create rows in one statement; return them by the value of ``key``, a unique field.

    (The order in which the database returns new ids is not defined, so each id comes
    back with its key.)  Every row must name the same fields as the first.
    """
    if not rows:
        return {}
    made = [model(**values) for values in rows]
    statement = _insert(model, rows[0])
    head, _, marks = statement.text.partition(" VALUES ")
    text = f"{head} VALUES {', '.join([marks] * len(rows))}"
    params = [value for row in made for value in statement.params(row.__data__)]
    column = model._meta.fields[key].column_name
    found = database.execute_sql(f'{text} RETURNING "id", "{column}"', params).fetchall()
    by_key = {row.__data__[key]: row for row in made}
    for row_id, value in found:
        row = by_key[value]
        row.id = row_id
        row._dirty.clear()
    return by_key


def insert_rows(model: type[peewee.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts of field name → value; defaults fill the rest) in one statement.

    Every row must name the same fields as the first.
    """
    if not rows:
        return
    statement = _insert(model, rows[0])
    database.cursor().executemany(statement.text, [statement.params(row) for row in rows])


class _Update:
    """``UPDATE model SET f1 = ?, … WHERE id = ?``."""

    def __init__(self, model: type[peewee.Model], fields: Sequence[peewee.Field]):
        assignments = ", ".join(f'"{f.column_name}" = {database.param}' for f in fields)
        table = model._meta.table_name
        self.text = f'UPDATE "{table}" SET {assignments} WHERE "id" = {database.param}'  # noqa: S608 - names from the model, values bound
        self.names = [f.name for f in fields]
        self.writers = [_writer(f) for f in fields]


def update_rows(rows: Sequence[peewee.Model], fields: Iterable[peewee.Field]) -> None:
    """Write ``fields`` of each row (``UPDATE … WHERE id = ?``), one statement per row.

    Values are read from the rows' stored data, so a foreign key is written as its id
    without loading the row it points to.
    """
    if not rows:
        return
    model = type(rows[0])
    columns = sorted(set(fields), key=lambda f: f.name)
    key = ("update", model, *(f.name for f in columns))
    statement = _compiled(key, lambda: _Update(model, columns))
    names, writers = statement.names, statement.writers
    database.cursor().executemany(
        statement.text,
        [[*_params(writers, [row.__data__.get(n) for n in names]), row.id] for row in rows],
    )


class savepoint:  # noqa: N801 - used like peewee's atomic()
    """A savepoint inside the current transaction: undone if the block raises.

    What ``database.atomic()`` does when nested, without peewee's bookkeeping (a random
    name per savepoint): the engine takes one for every step it runs.  Savepoints of the
    same name nest; each statement refers to the innermost.
    """

    def __init__(self, name: str = "stageflow") -> None:
        if not name.isidentifier():
            raise ValueError(f"savepoint name must be an identifier, not {name!r}")
        self.name = name

    def __enter__(self) -> None:
        if not database.in_transaction():  # on its own, SAVEPOINT would begin one
            raise RuntimeError("a savepoint needs a transaction: use database.atomic()")
        execute(f"SAVEPOINT {self.name}")

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is not None:
            execute(f"ROLLBACK TO SAVEPOINT {self.name}")
        execute(f"RELEASE SAVEPOINT {self.name}")
