"""The built-in record source: records of YAML-defined objects in Stageflow's own table.

Registered as ``builtin``, the default ``source:`` of an object.  Writes happen in the
caller's transaction, so a record change and what it causes (a trigger, a step
completing) commit together.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from . import fastsql
from .clock import Clock, SystemClock
from .db import database, json_sort_key
from .extension import Change, Page, Record, RecordSource
from .hookspecs import hookimpl
from .models import Record as RecordRow
from .models import User

# User names never change (users are deactivated, not renamed), so their names are
# remembered per database instead of joined into every record read.
_NAMES: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


def _user_name(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    names = _NAMES.setdefault(database.obj, {})
    if user_id not in names:
        row = User.select(User.name).where(User.id == user_id).first()
        if row is None:
            return None
        names[user_id] = row.name
    return names[user_id]


def _as_record(row: RecordRow) -> Record:
    return {
        "Id": str(row.id),
        "Owner": _user_name(row.owner_id),
        "CreatedAt": row.created_at.isoformat(),
        "UpdatedAt": row.updated_at.isoformat(),
        "CreatedBy": _user_name(row.created_by_id),
        "UpdatedBy": _user_name(row.updated_by_id),
        **row.data,
    }


def _row(object_name: str, record_id: str) -> RecordRow | None:
    if not str(record_id).isdigit():
        return None
    rows = fastsql.select_where(RecordRow, RecordRow.id, int(record_id))
    return rows[0] if rows and rows[0].object == object_name else None


#: System fields stored in their own columns (the rest are keys of ``data``).
_COLUMNS = {
    "Id": RecordRow.id,
    "CreatedAt": RecordRow.created_at,
    "UpdatedAt": RecordRow.updated_at,
    "Owner": RecordRow.owner,
    "CreatedBy": RecordRow.created_by,
    "UpdatedBy": RecordRow.updated_by,
}


def _column(name: str) -> Any:
    """The SQL expression a field is filtered and sorted by."""
    return _COLUMNS.get(name) or RecordRow.data[name]


def _stored(name: str, value: Any) -> Any:
    """A filter value as its column stores it (user fields hold the user's id)."""
    if name in ("Owner", "CreatedBy", "UpdatedBy"):
        user = User.get_or_none(User.name == value)
        return user.id if user is not None else -1
    if name == "Id":
        return int(value) if str(value).isdigit() else -1
    return value


_READ_FOR_UPDATE = (
    "SELECT data, owner_id, created_at, created_by_id, updated_by_id FROM records"
    " WHERE id = ? AND object = ?"
)
# Right-hand sides see the row as it was: prior takes the data being replaced.
_UPDATE = "UPDATE records SET prior = data, data = ?, updated_at = ? WHERE id = ?"


class BuiltinRecordSource(RecordSource):
    """Records stored as JSON rows of the ``records`` table, one object per ``object``."""

    name = "builtin"
    transactional = True

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    def get(self, object: str, id: str) -> Record | None:
        row = _row(object, id)
        return _as_record(row) if row is not None else None

    def query(
        self,
        object: str,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        query = RecordRow.select().where(RecordRow.object == object)
        for name, value in (where or {}).items():
            query = query.where(_column(name) == _stored(name, value))
        if order_by in (None, "Id"):  # by id: keyset pages (the cursor is the last id)
            if cursor:
                if not cursor.isdigit():
                    raise ValueError(f"Invalid cursor {cursor!r}")
                query = query.where(RecordRow.id > int(cursor))
            rows = list(query.order_by(RecordRow.id).limit(limit + 1))
            more = len(rows) > limit
            rows = rows[:limit]
            return Page([_as_record(r) for r in rows], str(rows[-1].id) if more else None)
        # Another order: offset pages (cursor "o<offset>"), ties broken by id.
        descending = order_by.startswith("-")
        name = order_by.lstrip("-")
        column = _COLUMNS.get(name) or json_sort_key(RecordRow.data[name])
        offset = 0
        if cursor:
            if not (cursor.startswith("o") and cursor[1:].isdigit()):
                raise ValueError(f"Invalid cursor {cursor!r}")
            offset = int(cursor[1:])
        ordering = (column.desc(nulls="LAST"), RecordRow.id.desc()) if descending else (
            column.asc(nulls="FIRST"), RecordRow.id)  # fmt: skip
        rows = list(query.order_by(*ordering).offset(offset).limit(limit + 1))
        more = len(rows) > limit
        following = f"o{offset + limit}" if more else None
        return Page([_as_record(r) for r in rows[:limit]], following)

    def create(self, object: str, values: Mapping[str, Any], *, owner: str | None = None) -> Record:
        now = self.clock.now()
        user = User.get_or_none(User.name == owner) if owner else None
        row = RecordRow.create(
            object=object,
            data=dict(values),
            owner=user,
            created_by=user,
            updated_by=user,
            created_at=now,
            updated_at=now,
        )
        return _as_record(row)

    def update(self, object: str, id: str, values: Mapping[str, Any]) -> Record:
        found = fastsql.execute(_READ_FOR_UPDATE, (int(id), object)).fetchone() \
            if str(id).isdigit() else None  # fmt: skip
        if found is None:
            raise KeyError(id)
        data, owner, created_at, created_by, updated_by = found
        data = {**RecordRow.data.python_value(data), **values}
        now = self.clock.now()
        params = (RecordRow.data._dumps(data), RecordRow.updated_at.db_value(now), int(id))
        fastsql.execute(_UPDATE, params)  # the old data becomes the prior
        return {
            "Id": str(id),
            "Owner": _user_name(owner),
            "CreatedAt": RecordRow.created_at.python_value(created_at).isoformat(),
            "UpdatedAt": now.isoformat(),
            "CreatedBy": _user_name(created_by),
            "UpdatedBy": _user_name(updated_by),
            **data,
        }

    def delete(self, object: str, id: str) -> None:
        row = _row(object, id)
        if row is None:
            raise KeyError(id)
        row.delete_instance()

    def prior(self, object: str, id: str) -> Record | None:
        """The record as it was before its last update (None if never updated)."""
        row = _row(object, id)
        return None if row is None or row.prior is None else {**_as_record(row), **row.prior}

    def changes(self, object: str, since: str | None = None) -> Iterable[Change]:
        """Records created or updated after ``since`` (an ISO time and id), oldest first."""
        query = RecordRow.select().where(RecordRow.object == object)
        if since:
            stamp, _, last_id = since.rpartition("/")
            query = query.where(
                (RecordRow.updated_at > stamp)
                | ((RecordRow.updated_at == stamp) & (RecordRow.id > int(last_id or 0)))
            )
        for row in query.order_by(RecordRow.updated_at, RecordRow.id):
            created = row.prior is None
            yield Change(
                object=object,
                id=str(row.id),
                operation="created" if created else "updated",
                values=_as_record(row),
                prior=None if created else {**_as_record(row), **row.prior},
                cursor=f"{row.updated_at.isoformat()}/{row.id}",
            )


@hookimpl
def register_record_sources(config: Mapping[str, Any]) -> list[RecordSource]:
    """The built-in source, named ``builtin``."""
    return [BuiltinRecordSource()]
