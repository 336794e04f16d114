"""Following the change feeds of record sources outside Stageflow's database.

The built-in source tells of its changes inside the transaction that writes them.
Other sources (a table of another database, another system) are read through their
change feed (:meth:`~stageflow.extension.RecordSource.changes`): after every write
Stageflow makes through them, and on a schedule for changes made elsewhere.  Each
change goes to the record observers (triggers, running runs) in one transaction with
the feed's new position, so a crash repeats nothing already committed and loses
nothing not yet read.

The first time an object is followed, its feed is read to the end without firing:
changes from before Stageflow followed the object start nothing.
"""

from __future__ import annotations

import logging
from itertools import islice

from .clock import Clock
from .db import database, is_sqlite
from .definitions.spec import ObjectSpec
from .extension import Change, RecordSource
from .models import FeedCursor
from .records import RecordChange, RecordNotFound, RecordService

log = logging.getLogger(__name__)

#: Changes handled per transaction (a long feed is read in several).
BATCH = 200


class FeedFollower:
    """Reads the change feeds of the objects whose source is not transactional."""

    def __init__(self, records: RecordService, clock: Clock) -> None:
        self.records = records
        self.clock = clock

    def followed(self) -> list[str]:
        """The objects whose changes come through a feed."""
        return [spec.name for spec in self.records.objects()
                if not self._source(spec.name).transactional]  # fmt: skip

    def follow(self, object_name: str | None = None) -> int:
        """Read the feed of one object (or of every followed object); return how many
        changes were handled."""
        names = [object_name] if object_name is not None else self.followed()
        return sum(self._follow_one(name) for name in names)

    def _source(self, object_name: str) -> RecordSource:
        return self.records.source_for(self.records.object_spec(object_name))

    def _follow_one(self, object_name: str) -> int:
        try:
            spec = self.records.object_spec(object_name)
        except RecordNotFound:
            return 0
        source = self.records.source_for(spec)
        if source.transactional:
            return 0
        handled = 0
        while True:
            with database.atomic():
                row = _locked_cursor(object_name)
                if row is None:  # first time: start at the end of the feed
                    last = None
                    for change in source.changes(object_name, None):
                        last = change.cursor
                    FeedCursor.insert(object=object_name, cursor=last, updated_at=self.clock.now()
                                      ).on_conflict_ignore().execute()  # fmt: skip
                    return handled
                batch = list(islice(iter(source.changes(object_name, row.cursor)), BATCH))
                for change in batch:
                    self.records._notify(_record_change(spec, change))
                if batch:
                    row.cursor = batch[-1].cursor
                    row.updated_at = self.clock.now()
                    row.save()
            handled += len(batch)
            if len(batch) < BATCH:
                return handled


def _locked_cursor(object_name: str) -> FeedCursor | None:
    """The object's feed position, locked for this transaction (one reader at a time)."""
    query = FeedCursor.select().where(FeedCursor.object == object_name)
    if not is_sqlite():  # SQLite's BEGIN IMMEDIATE already holds the write lock
        query = query.for_update()
    return query.first()


def _record_change(spec: ObjectSpec, change: Change) -> RecordChange:
    prior = change.prior
    return RecordChange(spec, change.operation, dict(change.values), lambda: prior)
