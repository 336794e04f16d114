"""The ``sqltable`` record source: records in tables of other SQL databases.

Each write through the source happens in two databases: the row in the mapped table,
and the change in the feed kept in Stageflow's database (:mod:`stageflow_sqltable.feed`).
The feed's lock is taken first and held until both are done, so a poll running at the
same time waits, then finds the row equal to its snapshot, and does not report the
change a second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import peewee

from stageflow.clock import Clock, SystemClock
from stageflow.db import database
from stageflow.extension import Change, Page, Record, RecordSource
from stageflow.records import RecordNotFound

from . import feed
from .settings import ObjectSettings
from .tables import MappedTable, open_database, reflect


class SqlTableSource(RecordSource):
    """Objects whose records are the rows of a table in a SQLite or PostgreSQL database.

    ``settings`` name the objects and their tables; each table is read (reflected) when
    the source is made, so a missing table or column is an error at once.
    """

    name = "sqltable"
    #: Rows read from a table per query when polling, and changes read from the feed per
    #: query as :meth:`changes` is iterated.
    batch = 500

    def __init__(self, settings: Iterable[ObjectSettings] = (), clock: Clock | None = None) -> None:
        #: What "now" is for watermarks (the server sets its own clock here).
        self.clock = clock or SystemClock()
        databases: dict[str, peewee.Database] = {}  # one per URL, shared by its objects
        self.tables: dict[str, MappedTable] = {}
        for item in settings:
            if item.url not in databases:
                databases[item.url] = open_database(item)
            self.tables[item.object] = reflect(item, databases[item.url])

    def objects(self) -> Mapping[str, Mapping[str, str]]:
        """Every configured object, with its fields' types as reflected from its table."""
        return {
            name: {field: column.type for field, column in table.fields.items()}
            for name, table in self.tables.items()
        }

    def _table(self, object: str) -> MappedTable:
        table = self.tables.get(object)
        if table is None:
            raise RecordNotFound(
                f"The sqltable record source has no object {object!r}: "
                f"map it to a table in [plugins.sqltable.objects.{object}]"
            )
        return table

    # -- reading -------------------------------------------------------------------

    def get(self, object: str, id: str) -> Record | None:
        table = self._table(object)
        key = table.key_value(id)
        if key is None:
            return None
        with table.connected():
            return table.get(key)

    def query(
        self,
        object: str,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        table = self._table(object)
        with table.connected():
            return table.query(where or {}, order_by, limit, cursor)

    # -- writing -------------------------------------------------------------------

    def create(self, object: str, values: Mapping[str, Any], *, owner: str | None = None) -> Record:
        table = self._table(object)
        columns = table.database_values(values, creating=True)
        feed.ensure_tables()
        with database.atomic():
            feed.lock(object)
            with table.transaction():
                key = table.insert(columns, owner=owner, now=self.clock.now())
                record = _written(table, key)
            feed.append(object, record["Id"], "created", record, None)
        return record

    def update(self, object: str, id: str, values: Mapping[str, Any]) -> Record:
        table = self._table(object)
        columns = table.database_values(values, creating=False)
        key = table.key_value(id)
        if key is None:
            raise KeyError(id)
        feed.ensure_tables()
        with database.atomic():
            feed.lock(object)
            with table.transaction():
                prior = table.get(key, lock=True)
                if prior is None:
                    raise KeyError(id)
                table.update(key, columns, now=self.clock.now())
                record = _written(table, key)
            feed.append(object, record["Id"], "updated", record, prior)
        return record

    def delete(self, object: str, id: str) -> None:
        table = self._table(object)
        key = table.key_value(id)
        if key is None:
            raise KeyError(id)
        feed.ensure_tables()
        with database.atomic():
            feed.lock(object)
            with table.transaction():
                prior = table.get(key, lock=True)
                if prior is None:
                    raise KeyError(id)
                table.delete(key)
            feed.append(object, prior["Id"], "deleted", {}, prior)

    # -- the change feed -----------------------------------------------------------

    def changes(self, object: str, since: str | None = None) -> Iterator[Change]:
        """Changes after cursor ``since``, oldest first.

        Changes made through this source are in the feed as soon as they are made.
        Changes made by other programs are found here, by reading the rows whose
        watermark is past the last one read.  The changes are then read from the feed
        :attr:`batch` at a time, as the caller iterates.
        """
        table = self._table(object)
        after = feed.entry_id(since)
        feed.ensure_tables()
        with database.atomic():
            position = feed.lock(object)
            if table.watermark is not None:
                self._poll(table, position)
        return self._read(object, after)

    def _read(self, object: str, after: int) -> Iterator[Change]:
        while True:
            changes = feed.read(object, after, self.batch)
            yield from changes
            if len(changes) < self.batch:
                return
            after = int(changes[-1].cursor)

    def _poll(self, table: MappedTable, position: feed.Position) -> None:
        """Add the rows changed since the last poll to the feed, with the lock held.

        A row is a change if it differs from its snapshot: new (created) or not (updated,
        and the snapshot is its prior).  The first poll of a table only takes snapshots:
        the rows already there are where the feed starts, not changes.
        """
        first = not position.started
        while True:
            with table.connected():
                records, after = table.rows_after(position.after, self.batch)
            seen = feed.snapshots(table.object, (record["Id"] for record in records))
            for record in records:
                prior = seen.get(record["Id"])
                if prior is None and first:
                    feed.remember(table.object, record)
                elif prior != record:
                    operation = "created" if prior is None else "updated"
                    feed.append(table.object, record["Id"], operation, record, prior)
            feed.move(position, after)
            if len(records) < self.batch:
                return


def _written(table: MappedTable, key: Any) -> Record:
    """The row just written, read back in the write's transaction (defaults filled in)."""
    record = table.get(key)
    if record is None:  # a database trigger deleted or re-keyed it
        raise RecordNotFound(f"The {table.object} row just written (key {key!r}) is gone")
    return record
