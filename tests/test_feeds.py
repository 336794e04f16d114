"""Record sources outside Stageflow's database: their change feeds fire triggers.

The source here is a real plugin loaded from the plugins folder: it keeps its records
in memory, as another system would keep them elsewhere, and reports each change in its
feed (whether made through Stageflow or "outside", by the test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from stageflow.app import create_app
from stageflow.clock import FixedClock
from stageflow.core import Stageflow
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import FeedCursor, Run
from stageflow.scheduler import build_scheduler

MEMORY_PLUGIN = '''
from stageflow import hookimpl
from stageflow.extension import Change, Page, RecordSource


class MemorySource(RecordSource):
    """Records in a dict; every change appended to a list (the feed)."""

    name = "memory"

    def __init__(self):
        self.rows, self.feed = {}, []

    def _log(self, object, id, operation, prior):
        values = dict(self.rows.get(id, {}))
        self.feed.append(Change(object, id, operation, values, prior, str(len(self.feed) + 1)))

    def get(self, object, id):
        return dict(self.rows[id]) if id in self.rows else None

    def query(self, object, where=None, *, order_by=None, limit=100, cursor=None):
        where = where or {}
        rows = [r for r in self.rows.values() if all(r.get(k) == v for k, v in where.items())]
        return Page(rows[:limit])

    def create(self, object, values, *, owner=None):
        id = str(len(self.rows) + 1)
        self.rows[id] = {"Id": id, "Owner": owner, **values}
        self._log(object, id, "created", None)
        return dict(self.rows[id])

    def update(self, object, id, values):
        prior = dict(self.rows[id])
        self.rows[id] = {**prior, **values}
        self._log(object, id, "updated", prior)
        return dict(self.rows[id])

    def delete(self, object, id):
        prior = self.rows.pop(id)
        self._log(object, id, "deleted", prior)

    def changes(self, object, since=None):
        start = int(since or 0)
        return [c for c in self.feed[start:] if c.object == object]


@hookimpl
def register_record_sources(config):
    return [MemorySource()]
'''

DEFINITIONS = """
kind: object
name: Lead
source: memory
fields:
  - {name: Company, type: text}
  - {name: Score, type: number}
---
kind: flow
name: note
type: log
message: hot lead
---
kind: orchestration
name: hot_lead
trigger:
  type: record
  object: Lead
  when: created_or_updated
  condition: Score > 50
  only_when_changed: true
stages:
  - name: only
    steps:
      - {name: note, flow: note}
"""


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "memory_source.py").write_text(MEMORY_PLUGIN)
    app = create_app(
        {"database_url": database_url, "instance_dir": str(tmp_path / "instance"),
         "plugins_dir": str(plugins), "record_feed_seconds": 3, "TESTING": True},
        clock=clock,
    )  # fmt: skip
    with app.app_context(), database.connection_context():
        sf = app.extensions["stageflow"]
        deploy_sources([("lead.yaml", DEFINITIONS)], step_types=sf.registry.step_types,
                       activate=True)  # fmt: skip
        yield app
    if not database.is_closed():
        database.close()


def started(lead_id: str) -> int:
    return Run.select().where(Run.record_object == "Lead", Run.record_id == lead_id).count()


def test_outside_changes_fire_from_the_feed_once(app: Flask) -> None:
    sf: Stageflow = app.extensions["stageflow"]
    source = sf.records.sources["memory"]
    early = source.create("Lead", {"Company": "Early", "Score": 99})["Id"]
    assert sf.feeds.followed() == ["Lead"]
    assert sf.feeds.follow() == 0  # the first read starts at the feed's end
    assert started(early) == 0
    assert FeedCursor.get_by_id("Lead").cursor == "1"

    lead = source.create("Lead", {"Company": "Acme", "Score": 10})["Id"]
    source.update("Lead", lead, {"Score": 60})  # false → true: starts
    source.update("Lead", lead, {"Score": 70})  # true → true: does not
    assert sf.feeds.follow() == 3
    assert started(lead) == 1
    assert sf.feeds.follow() == 0 and started(lead) == 1  # nothing read twice
    assert FeedCursor.get_by_id("Lead").cursor == "4"


def test_writes_through_stageflow_are_followed_at_once(app: Flask) -> None:
    sf: Stageflow = app.extensions["stageflow"]
    sf.feeds.follow()  # start following
    lead = sf.records.create("Lead", {"Company": "Acme", "Score": "12"})["Id"]
    assert started(lead) == 0
    sf.records.update("Lead", lead, {"Score": 80})
    assert started(lead) == 1
    assert sf.feeds.follow() == 0  # already handled after the write
    assert started(lead) == 1
    sf.records.delete("Lead", lead)
    assert FeedCursor.get_by_id("Lead").cursor == "3"


def test_the_scheduler_reads_the_feeds(app: Flask) -> None:
    sf: Stageflow = app.extensions["stageflow"]
    sf.feeds.follow()
    lead = sf.records.sources["memory"].create("Lead", {"Company": "Acme", "Score": 90})["Id"]
    scheduler = build_scheduler(app)
    job = scheduler.get_job("follow-record-feeds")
    assert job.trigger.interval.total_seconds() == 3  # record_feed_seconds
    job.func()  # what the scheduler calls every 3 seconds, in its own thread
    assert started(lead) == 1
