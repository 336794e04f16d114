"""The change feed: changes made through Stageflow and by other programs, each once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask

from stageflow.clock import FixedClock
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.extension import Change
from stageflow.models import Run
from stageflow_sqltable import ObjectSettings, SqlTableSource

if TYPE_CHECKING:
    from conftest import Crm


def summary(changes: Any) -> list[tuple[str, str, Any, Any]]:
    """Each change as (operation, id, name after, name before)."""
    return [
        (c.operation, c.id, c.values.get("name", c.values.get("title")),
         c.prior and c.prior.get("name", c.prior.get("title")))
        for c in changes
    ]  # fmt: skip


def test_the_feed_starts_at_the_rows_already_there(source: SqlTableSource) -> None:
    assert list(source.changes("Customer")) == []
    assert list(source.changes("Customer")) == []


def test_an_outside_update_is_read_once_with_its_prior(source: SqlTableSource, crm: Crm) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    crm.run("UPDATE customers SET name = ?, updated_at = ? WHERE id = 2", "Bobby", "2026-01-06")
    (change,) = source.changes("Customer")
    assert change == Change(
        object="Customer",
        id="2",
        operation="updated",
        values=source.get("Customer", "2"),
        prior={**source.get("Customer", "2"), "name": "Bob",
               "UpdatedAt": "2026-01-02T08:00:00+00:00"},
        cursor=change.cursor,
    )  # fmt: skip
    assert list(source.changes("Customer", change.cursor)) == []
    assert list(source.changes("Customer")) == [change]  # the same history, every time


def test_an_outside_insert_is_created(source: SqlTableSource, crm: Crm) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    crm.run("INSERT INTO customers (id, name, updated_at) VALUES (10, ?, ?)", "Gus", "2026-01-06")
    assert summary(source.changes("Customer")) == [("created", "10", "Gus", None)]


def test_a_write_through_the_source_is_in_the_feed_once_with_its_exact_prior(
    source: SqlTableSource, clock: FixedClock
) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    clock.advance(60)
    created = source.create("Customer", {"name": "Fay"})
    updated = source.update("Customer", created["Id"], {"name": "Faye", "visits": 1})
    source.update("Customer", "1", {"name": "Ada L."})
    changes = list(source.changes("Customer"))  # the poll sees all three rows again
    assert summary(changes) == [
        ("created", "6", "Fay", None),
        ("updated", "6", "Faye", "Fay"),
        ("updated", "1", "Ada L.", "Ada"),
    ]
    assert changes[1].values == updated and changes[1].prior == created
    assert summary(source.changes("Customer", changes[-1].cursor)) == []


def test_a_delete_through_the_source(source: SqlTableSource) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    ada = source.get("Customer", "1")
    source.delete("Customer", "1")
    (change,) = source.changes("Customer")
    assert (change.operation, change.id, change.values, change.prior) == ("deleted", "1", {}, ada)


def test_an_outside_change_after_a_write_has_the_written_values_as_prior(
    source: SqlTableSource, crm: Crm, clock: FixedClock
) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    source.update("Customer", "3", {"name": "Cyd"})
    crm.run("UPDATE customers SET name = ?, updated_at = ? WHERE id = 3", "Cyan", "2026-01-07")
    assert summary(source.changes("Customer")) == [
        ("updated", "3", "Cyd", "Cy"),
        ("updated", "3", "Cyan", "Cyd"),
    ]


def test_outside_changes_without_a_new_watermark_are_not_seen(
    source: SqlTableSource, crm: Crm
) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    crm.run("UPDATE customers SET name = ? WHERE id = 2", "Bobby")
    assert list(source.changes("Customer")) == []


def test_resuming_from_a_cursor(source: SqlTableSource, crm: Crm) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    for day, (id, name) in enumerate([(1, "A"), (2, "B"), (3, "C")], start=6):
        crm.run("UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
                name, f"2026-01-0{day}", id)  # fmt: skip
    first, second, third = source.changes("Customer")
    assert list(source.changes("Customer", first.cursor)) == [second, third]
    assert list(source.changes("Customer", third.cursor)) == []
    with pytest.raises(ValueError, match="Invalid cursor 'latest'"):
        source.changes("Customer", "latest")


def test_long_feeds_are_polled_and_read_in_batches(source: SqlTableSource, crm: Crm) -> None:
    source.batch = 2
    for id in (1, 2, 3, 4, 5):  # the first poll reads all the rows, two at a time
        crm.run("UPDATE customers SET updated_at = ? WHERE id = ?", f"2026-01-0{id}", id)
    assert list(source.changes("Customer")) == []
    for id in (5, 4, 3, 2, 1):
        crm.run("UPDATE customers SET visits = 9, updated_at = ? WHERE id = ?",
                f"2026-01-{20 - id}", id)  # fmt: skip
    assert [c.id for c in source.changes("Customer")] == ["5", "4", "3", "2", "1"]


def test_an_integer_watermark(source: SqlTableSource, crm: Crm) -> None:
    ticket = source.create("Ticket", {"title": "Printer on fire"})
    crm.run("INSERT INTO tickets (code, title, version) VALUES ('T-2', 'Paper jam', 2)")
    crm.run("UPDATE tickets SET title = 'Printer fixed', version = 3 WHERE code = ?", ticket["Id"])
    assert summary(source.changes("Ticket")) == [
        ("created", ticket["Id"], "Printer on fire", None),
        ("updated", ticket["Id"], "Printer fixed", "Printer on fire"),
    ]  # T-2 was there before the feed was first read: not a change


def test_without_a_watermark_the_feed_has_the_writes_through_the_source(
    app: Flask, crm: Crm
) -> None:
    settings = ObjectSettings(object="Customer", url=crm.url, table="customers")
    source = SqlTableSource([settings])
    source.update("Customer", "1", {"name": "Ada L."})
    crm.run("UPDATE customers SET name = 'Bobby', updated_at = '2026-01-09' WHERE id = 2")
    assert summary(source.changes("Customer")) == [("updated", "1", "Ada L.", "Ada")]


def test_the_feed_is_kept_in_stageflow_database_only(source: SqlTableSource, crm: Crm) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    source.create("Customer", {"name": "Fay"})
    assert sorted(crm.tables()) == ["customers", "tickets"]


TRIGGERED = """
kind: object
name: Customer
source: sqltable
fields:
  - {name: name, type: text}
  - {name: vip, type: checkbox}
---
kind: flow
name: welcome
type: log
message: a new VIP
---
kind: orchestration
name: vip_welcome
trigger:
  type: record
  object: Customer
  when: created_or_updated
  condition: vip
  only_when_changed: true
stages:
  - name: only
    steps:
      - {name: welcome, flow: welcome}
"""


def test_changes_start_orchestrations(app: Flask, crm: Crm) -> None:
    sf = app.extensions["stageflow"]
    deploy_sources([("crm.yaml", TRIGGERED)], step_types=sf.registry.step_types, activate=True)
    sf.feeds.follow()  # Stageflow starts following the Customer feed

    def runs(customer: str) -> int:
        return (
            Run.select().where(Run.record_object == "Customer", Run.record_id == customer).count()
        )

    crm.run("UPDATE customers SET vip = ?, updated_at = '2026-01-06' WHERE id = 2", True)
    assert sf.feeds.follow() == 1
    assert runs("2") == 1
    sf.records.update("Customer", "2", {"name": "Bobby"})  # still a VIP: no second run
    sf.records.update("Customer", "5", {"vip": True})  # read from the feed at once
    assert (runs("2"), runs("5")) == (1, 1)
    assert sf.feeds.follow() == 0  # nothing read twice


def test_objects_without_a_definition_are_served_from_their_table(app: Flask) -> None:
    records = app.extensions["stageflow"].records
    ticket = records.create("Ticket", {"title": "Printer on fire"})
    assert records.get("Ticket", ticket["Id"])["status"] == "open"


def test_writes_and_polls_from_many_threads_are_each_in_the_feed_once(
    source: SqlTableSource, crm: Crm
) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    outside = threading.Lock()  # the other program's watermarks grow as it commits
    stamps = iter(range(1, 60))

    def work(thread: int) -> None:
        with database.connection_context():  # each thread has its own connections
            for n in range(5):
                created = source.create("Customer", {"name": f"T{thread}-{n}"})
                source.update("Customer", created["Id"], {"visits": n})
                with outside:
                    crm.run(
                        "UPDATE customers SET rating = ?, updated_at = ? WHERE id = ?",
                        thread + 1,
                        f"2026-02-01 00:{next(stamps):02d}:00",
                        int(created["Id"]),
                    )
                list(source.changes("Customer"))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    changes = list(source.changes("Customer"))
    assert len(changes) == 4 * 5 * 3
    for record_id in {change.id for change in changes}:
        operations = [c.operation for c in changes if c.id == record_id]
        assert operations == ["created", "updated", "updated"]
