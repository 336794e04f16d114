"""The change feed's memory, kept in Stageflow's own database (never in the mapped one).

Three small tables, created when first needed:

``sqltable_changes``
    Every change the feed reports, in order; an entry's id is the feed's cursor.  Keeping
    the changes, rather than reading them off the table each time, gives every reader the
    same history with the same prior values, and lets the feed report deletes.
``sqltable_snapshots``
    The last values seen of each row: the prior of the row's next change.  A polled row
    equal to its snapshot has not changed since it was last seen (a write made through
    Stageflow is in the feed already), so polling skips it.
``sqltable_positions``
    How far polling has read each object's table.  An object's row here is also its
    feed's lock: whoever appends to the feed holds it until their transaction ends, so
    entries commit in id order and a reader never skips one that committed late.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import peewee

from stageflow.db import database
from stageflow.extension import Change, Record


class _Model(peewee.Model):
    class Meta:
        database = database


class FeedEntry(_Model):
    """One change of a record, as the feed reports it."""

    id = peewee.AutoField()  # the feed's cursor: changes are read in this order
    object = peewee.CharField(max_length=150)
    record_id = peewee.TextField()
    operation = peewee.CharField(max_length=10)  # created | updated | deleted
    values = peewee.JSONField()  # the record after the change ({} when deleted)
    prior = peewee.JSONField(null=True)  # the record before it (None when created)

    class Meta:
        table_name = "sqltable_changes"
        indexes = ((("object", "id"), False),)


class Snapshot(_Model):
    """The values of a row when the source last saw it."""

    object = peewee.CharField(max_length=150)
    record_id = peewee.TextField()
    values = peewee.JSONField()

    class Meta:
        table_name = "sqltable_snapshots"
        primary_key = peewee.CompositeKey("object", "record_id")


class Position(_Model):
    """How far polling has read an object's table: the watermark and key of the last row.

    ``after`` is None before any row was read.  ``started`` is false until the first
    poll, which only takes snapshots: the rows already there are where the feed starts.
    """

    object = peewee.CharField(max_length=150, primary_key=True)
    after = peewee.TextField(null=True)
    started = peewee.BooleanField(default=False)

    class Meta:
        table_name = "sqltable_positions"


MODELS = (FeedEntry, Snapshot, Position)

# Databases whose tables exist (a test suite opens many, one after another).
_READY: weakref.WeakSet[peewee.Database] = weakref.WeakSet()


def ensure_tables() -> None:
    """Create the plugin's tables in Stageflow's database if they are not there yet.

    Call it before the transaction that uses them, so that they are created for good.
    """
    if database.obj not in _READY:
        database.create_tables(MODELS, safe=True)
        if not database.in_transaction():  # else a rollback could still undo them
            _READY.add(database.obj)


def lock(object: str) -> Position:
    """Take the object's feed lock, until the transaction ends; return its position."""
    Position.insert(object=object).on_conflict_ignore().execute()
    query = Position.select().where(Position.object == object)
    # SQLite has no row locks, and needs none: its write transactions run one at a time.
    return (query.for_update() if database.for_update else query).get()


def move(position: Position, after: str | None) -> None:
    """Record how far polling has read (with the lock held): the feed has started."""
    Position.update(after=after, started=True).where(Position.object == position.object).execute()
    position.after, position.started = after, True


def snapshots(object: str, record_ids: Iterable[str]) -> dict[str, Record]:
    """The last values seen of these records, by id (records never seen are missing)."""
    query = Snapshot.select().where(
        (Snapshot.object == object) & Snapshot.record_id.in_(list(record_ids))
    )
    return {row.record_id: row.values for row in query}


def remember(object: str, record: Record) -> None:
    """Keep a record's values as the last seen (with the lock held)."""
    Snapshot.insert(object=object, record_id=record["Id"], values=record).on_conflict(
        conflict_target=[Snapshot.object, Snapshot.record_id],
        update={Snapshot.values: record},
    ).execute()


def append(
    object: str,
    record_id: str,
    operation: str,
    values: Record,
    prior: Mapping[str, Any] | None,
) -> None:
    """Add a change to the object's feed and update the snapshot (with the lock held).

    ``values`` is the record after the change ({} when deleted), ``prior`` the record
    before it (None when created).
    """
    FeedEntry.create(
        object=object, record_id=record_id, operation=operation, values=values, prior=prior
    )
    if operation == "deleted":
        Snapshot.delete().where(
            (Snapshot.object == object) & (Snapshot.record_id == record_id)
        ).execute()
    else:
        remember(object, values)


def entry_id(cursor: str | None) -> int:
    """The id of the feed entry a cursor names (0: before the first); ValueError if none."""
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise ValueError(f"Invalid cursor {cursor!r}")
    return int(cursor)


def read(object: str, after: int, limit: int) -> list[Change]:
    """Up to ``limit`` changes of the object after entry ``after``, oldest first."""
    query = FeedEntry.select().where((FeedEntry.object == object) & (FeedEntry.id > after))
    return [
        Change(
            object=object,
            id=entry.record_id,
            operation=entry.operation,
            values=entry.values,
            prior=entry.prior,
            cursor=str(entry.id),
        )
        for entry in query.order_by(FeedEntry.id).limit(limit)
    ]
