"""SLA due times and escalations: due on a calendar, every rung once and in order, catch-up
after downtime, concurrent sweeps, access, ``set``, restarting the clock, the CLI and the
API.  Time is a FixedClock: nothing sleeps."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import Api

from stageflow.app import create_app
from stageflow.cli import main
from stageflow.clock import FixedClock
from stageflow.db import database
from stageflow.models import Event, User, WorkItem
from stageflow.scheduler import SWEEP_JOB, build_scheduler
from stageflow.sla import escalation

MONDAY_9 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

DEFINITIONS = """
kind: directory
users:
  - {name: carl}
  - {name: dora}
queues:
  - {name: tier2, members: [bob]}
groups:
  - {name: leads, members: [carl]}
---
kind: object
name: Case
access: read
fields:
  - {name: Subject, type: text, required: true}
  - {name: Status, type: picklist, values: [New, Escalated, Closed]}
  - {name: Deadline, type: datetime}
---
kind: object
name: Secret
fields:
  - {name: Subject, type: text, required: true}
---
kind: calendar
name: office
time_zone: UTC
hours: {mon-fri: "09:00-17:00"}
---
kind: flow
name: sign_off
type: approval
---
kind: orchestration
name: ladder
object: Case
stages:
  - name: one
    steps:
      - name: approve
        flow: sign_off
        assignee: user:ann
        sla:
          due: 4h
          warn: 1h
          escalations:
            - {after: 0m, notify: [assignee, "group:leads"]}
            - {after: 1h, reassign: "queue:tier2", set: {Status: Escalated}}
            - {after: 2h, notify: ['="user:" & "carl"']}
---
kind: orchestration
name: office_hours
object: Case
stages:
  - name: one
    steps:
      - name: approve
        flow: sign_off
        assignee: user:ann
        sla: {due: 4h, calendar: office, escalations: [{after: 1h, notify: [assignee]}]}
---
kind: orchestration
name: deadline
object: Case
stages:
  - name: one
    steps:
      - {name: approve, flow: sign_off, assignee: user:ann, sla: {due: Deadline}}
---
kind: orchestration
name: secret
object: Secret
stages:
  - name: one
    steps:
      - name: approve
        flow: sign_off
        assignee: user:ann
        sla: {due: 1h, escalations: [{after: 0m, reassign: user:dora}]}
---
kind: orchestration
name: closing
object: Case
stages:
  - name: one
    steps:
      - name: approve
        flow: sign_off
        assignee: user:ann
        exit: ISPICKVAL(Status, "Escalated")
        sla:
          due: 1h
          escalations:
            - {after: 0m, reassign: '="user:" & "ghost"', set: {Status: "='Escalated'"}}
            - {after: 1h, notify: [assignee]}
---
kind: orchestration
name: restarting
object: Case
stages:
  - name: one
    steps:
      - name: approve
        flow: sign_off
        assignee: user:ann
        sla: {due: 4h, restart_on_reassign: true, escalations: [{after: 0m, notify: [assignee]}]}
"""


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_9)


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = create_app({"database_url": database_url, "instance_dir": str(tmp_path / "i"),
                      "TESTING": True}, clock=clock)  # fmt: skip
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def root(client: FlaskClient, tokens: dict[str, str]) -> Api:
    api = Api(client, tokens["root"])
    deployed = api.deploy(DEFINITIONS)
    assert deployed.status_code == 201, deployed.json
    return api


@pytest.fixture
def ctx(app: Flask, root: Api) -> Iterator[Any]:
    """Inside the app and a connection, with the definitions deployed: the Stageflow."""
    with app.app_context(), database.connection_context():
        yield app.extensions["stageflow"]


def launch(sf: Any, orchestration: str, obj: str = "Case", **fields: Any) -> WorkItem:
    """A new record and a run of ``orchestration`` on it; its work item."""
    record = sf.records.create(obj, {"Subject": "Printer on fire", **fields}, owner="root")
    run = sf.engine.launch(orchestration, record=(obj, record["Id"]), actor="root")
    return WorkItem.get(WorkItem.run == run.id)


def at(sf: Any, hour: int, minute: int = 0, day: int = 5) -> dt.datetime:
    """Set the clock to 2026-01-<day> hour:minute UTC and return it."""
    sf.clock.set(dt.datetime(2026, 1, day, hour, minute, tzinfo=dt.UTC))
    return sf.clock.now()


def sla_events(item: WorkItem) -> list[str]:
    query = Event.select().where((Event.run == item.run_id) & (Event.kind == "sla"))
    return [event.reason for event in query.order_by(Event.id)]


def fresh(item: WorkItem) -> WorkItem:
    return WorkItem.get_by_id(item.id)


# -- due times -------------------------------------------------------------------------


def test_due_on_a_calendar_skips_the_weekend(ctx: Any) -> None:
    at(ctx, 15, day=9)  # Friday 15:00: two working hours left that day
    item = launch(ctx, "office_hours")
    monday_11 = dt.datetime(2026, 1, 12, 11, 0, tzinfo=dt.UTC)
    assert item.due_at == monday_11
    assert item.next_check_at == dt.datetime(2026, 1, 12, 12, 0, tzinfo=dt.UTC)  # 1h later
    assert ctx.sweep_sla(dt.datetime(2026, 1, 12, 11, 59, tzinfo=dt.UTC)) == 0
    assert ctx.sweep_sla(dt.datetime(2026, 1, 12, 12, 0, tzinfo=dt.UTC)) == 1


def test_without_a_calendar_due_counts_calendar_time(ctx: Any) -> None:
    at(ctx, 15, day=9)
    item = launch(ctx, "ladder")
    assert item.due_at == dt.datetime(2026, 1, 9, 19, 0, tzinfo=dt.UTC)
    assert item.next_check_at == dt.datetime(2026, 1, 9, 18, 0, tzinfo=dt.UTC)  # warn: 1h


def test_a_due_formula_gives_the_due_time(ctx: Any) -> None:
    item = launch(ctx, "deadline", Deadline="2026-01-07T16:30:00Z")
    assert item.due_at == dt.datetime(2026, 1, 7, 16, 30, tzinfo=dt.UTC)
    assert item.next_check_at is None  # no warning, no rungs: nothing to fire
    blank = launch(ctx, "deadline")
    assert blank.due_at is None


def test_a_deploy_with_a_bad_sla_is_refused_whole(root: Api) -> None:
    good = """
kind: orchestration
name: later
object: Case
stages:
  - name: one
    steps:
      - name: approve
        flow: sign_off
        assignee: user:ann
        sla: {due: 1d, escalations: [{after: 0m, reassign: queue:tier2}]}
"""
    assert root.deploy(good).status_code == 201  # tier2 exists: deployed before
    bad = good.replace("name: later", "name: worse").replace("queue:tier2", "queue:tier3")
    refused = root.deploy(bad)
    assert refused.status_code == 400
    assert refused.json["error"]["details"][0]["message"].startswith("unknown queue 'tier3'")
    assert root.get("/api/orchestrations/worse").status_code == 404


# -- rungs -----------------------------------------------------------------------------


def test_every_rung_fires_once_and_in_order(ctx: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="stageflow.notifications")
    item = launch(ctx, "ladder")
    assert (item.due_at, item.next_check_at) == (at(ctx, 13), at(ctx, 12))  # warn 1h before
    assert ctx.sweep_sla(at(ctx, 11, 59)) == 0
    times = ((12, 0), (12, 30), (13, 0), (13, 0), (14, 0), (14, 59), (15, 0), (23, 0))
    fired = [ctx.sweep_sla(at(ctx, hour, minute)) for hour, minute in times]
    assert fired == [1, 0, 1, 0, 1, 0, 1, 0]
    reasons = sla_events(item)
    assert len(reasons) == 4 and all(reason.startswith("SLA") for reason in reasons)
    assert reasons[0] == "SLA warning: due at 2026-01-05T13:00:00+00:00; told user:ann"
    assert reasons[1].startswith("SLA escalation 1 of 3: overdue since 2026-01-05T13:00:00")
    assert reasons[1].endswith("told user:ann, group:leads")
    assert "reassigned to queue:tier2; set Status = 'Escalated'" in reasons[2]
    assert reasons[3].endswith("told user:carl")
    logged = Event.select().where((Event.run == item.run_id) & Event.kind.in_(["sla", "work_item"]))
    order = [event.reason for event in logged.order_by(Event.id) if event.reason]
    escalation = order.index(reasons[2])
    assert order[escalation + 1].startswith("reassigned by system from user:ann to queue:tier2")
    done = fresh(item)
    assert (done.escalation_level, done.next_check_at) == (4, None)
    assert (done.assignee_kind, done.assignee_name) == ("queue", "tier2")
    run = done.run
    assert ctx.records.get("Case", run.record_id)["Status"] == "Escalated"
    sent = [r.getMessage().split("\n")[0] for r in caplog.records if r.name.endswith("tions")]
    assert [line.split(":")[0:2] for line in sent[1:]] == [
        ["to ann", " Due soon"],
        ["to ann, carl", " Overdue"],
        ["to bob", " Work reassigned"],
        ["to carl", " Overdue"],
    ]  # the first message: the new work


def test_after_downtime_one_sweep_fires_every_due_rung_in_order(ctx: Any) -> None:
    item = launch(ctx, "ladder")
    assert ctx.sweep_sla(at(ctx, 14, 30)) == 2  # the warning is moot: it is overdue
    reasons = sla_events(item)
    assert [reason.split(":")[0] for reason in reasons] == [
        "SLA escalation 1 of 3", "SLA escalation 2 of 3"]  # fmt: skip
    assert fresh(item).next_check_at == at(ctx, 15)
    assert ctx.sweep_sla(at(ctx, 15)) == 1


def test_an_item_completed_before_due_never_escalates(ctx: Any) -> None:
    item = launch(ctx, "ladder")
    at(ctx, 11)
    ctx.engine.complete_work(item.id, {"decision": "Approved"}, User.get(name="ann"))
    assert fresh(item).next_check_at is None
    assert ctx.sweep_sla(at(ctx, 23)) == 0
    assert sla_events(item) == []
    canceled = launch(ctx, "ladder")
    ctx.engine.act(canceled.run_id, "cancel", actor="root")
    assert fresh(canceled).next_check_at is None
    assert ctx.sweep_sla(at(ctx, 23, 30)) == 0


def test_a_rung_that_sets_the_record_lets_the_step_exit(ctx: Any) -> None:
    item = launch(ctx, "closing")
    assert ctx.sweep_sla(at(ctx, 12)) == 1  # the second rung was due too: the item is closed
    [reason] = sla_events(item)
    assert 'not reassigned (="user:" & "ghost"): there is no user named \'ghost\'' in reason
    assert reason.endswith("set Status = 'Escalated'")
    closed = fresh(item)
    assert (closed.status, closed.next_check_at, closed.escalation_level) == ("Canceled", None, 1)
    assert ctx.records.get("Case", closed.run.record_id)["Status"] == "Escalated"
    assert closed.run.status == "Completed"


def test_a_reassignment_to_someone_who_cannot_open_the_record_is_refused(ctx: Any) -> None:
    item = launch(ctx, "secret", obj="Secret")  # private, owned by root
    assert ctx.sweep_sla(at(ctx, 10)) == 1
    [reason] = sla_events(item)
    assert "reassignment to user:dora refused: they cannot open Secret" in reason
    assert (fresh(item).assignee_kind, fresh(item).assignee_name) == ("user", "ann")


def test_a_manual_reassignment_restarts_the_clock_when_asked(ctx: Any) -> None:
    item = launch(ctx, "restarting")
    assert ctx.sweep_sla(at(ctx, 13)) == 1
    root = User.get(name="root")
    ctx.work.reassign(item.id, root, "user:bob", "ann is away")
    moved = fresh(item)
    assert (moved.due_at, moved.escalation_level, moved.next_check_at) == (at(ctx, 17), 0,
                                                                          at(ctx, 17))  # fmt: skip
    # Without restart_on_reassign, the item keeps its clock.
    other = launch(ctx, "ladder")
    ctx.work.reassign(other.id, root, "user:bob")
    assert (fresh(other).due_at, fresh(other).next_check_at) == (at(ctx, 21), at(ctx, 20))


def test_an_item_that_fails_is_tried_again_later_and_holds_up_no_other(
    ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [launch(ctx, "secret", obj="Secret") for _ in range(3)]
    fire = escalation._Ladder._fire

    def broken(ladder: Any, state: Any, item: WorkItem, *args: Any) -> None:
        if item.id == items[1].id:
            raise RuntimeError("a bug")
        fire(ladder, state, item, *args)

    monkeypatch.setattr(escalation._Ladder, "_fire", broken)
    now = at(ctx, 10)
    assert ctx.sweep_sla(now) == 2
    assert [len(sla_events(item)) for item in items] == [1, 0, 1]
    assert fresh(items[1]).next_check_at == now + escalation.RETRY_DELAY
    monkeypatch.undo()
    assert ctx.sweep_sla(now + escalation.RETRY_DELAY) == 1


# -- two schedulers --------------------------------------------------------------------


def test_concurrent_sweeps_fire_each_rung_once(app: Flask, ctx: Any) -> None:
    items = [launch(ctx, "ladder") for _ in range(20)]
    now = at(ctx, 16)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweeper() -> None:  # each thread has its own connection
        with app.app_context(), database.connection_context():
            barrier.wait()
            counts.append(ctx.sweep_sla(now))

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 20 * 3
    for item in items:
        assert len(sla_events(item)) == 3
        assert fresh(item).escalation_level == 4


# -- the scheduler ---------------------------------------------------------------------


def test_the_scheduler_sweeps_when_the_next_item_falls_due(app: Flask, root: Api) -> None:
    sf = app.extensions["stageflow"]
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)  # its jobs are called here, by hand
    timer = sf.sla_timer
    try:
        check = scheduler.get_job("sla-check")
        assert check.trigger.interval == dt.timedelta(seconds=1)  # sla_check_seconds
        check.func()  # the catch-up at start: nothing to do
        assert timer.planned is None
        with app.app_context(), database.connection_context():
            item = launch(sf, "ladder")  # this process's new item wakes the timer
        assert timer.planned == timer.planned_job().trigger.run_date == at(sf, 12)  # warning
        with app.app_context(), database.connection_context():
            launch(sf, "office_hours")  # checked later: the plan stays
        assert timer.planned == at(sf, 12)
        at(sf, 11, 59)
        check.func()  # not due yet
        assert timer.planned == at(sf, 12)
        at(sf, 12)
        check.func()  # due: the check sweeps, and plans the next sweep
        assert timer.planned == at(sf, 13)
        at(sf, 13)
        timer.planned_job().func()
        assert timer.planned == at(sf, 14)
        with app.app_context(), database.connection_context():
            assert len(sla_events(item)) == 2
        assert len([j for j in scheduler.get_jobs() if j.id.startswith(SWEEP_JOB)]) <= 3
    finally:
        scheduler.shutdown(wait=False)


def test_serve_leaves_the_scheduler_out_when_told(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stageflow import cli_admin

    app = create_app({"database_url": database_url, "instance_dir": str(tmp_path / "i"),
                      "scheduler": False, "workers": 0})  # fmt: skip
    monkeypatch.setattr(cli_admin, "run_simple", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli_admin, "build_scheduler", lambda app: pytest.fail("started"))
    result = app.test_cli_runner().invoke(main, ["serve"])
    assert result.exit_code == 0 and "no scheduler" in result.output


# -- the command and the API -----------------------------------------------------------


def test_the_sla_sweep_command(app: Flask, ctx: Any) -> None:
    launch(ctx, "ladder")
    runner = app.test_cli_runner()
    early = runner.invoke(main, ["sla", "sweep", "--at", "2026-01-05T11:00:00Z"])
    assert early.exit_code == 0 and early.output == "0 SLA rung(s) fired\n"
    late = runner.invoke(main, ["sla", "sweep", "--at", "2026-01-05T14:00:00+00:00"])
    assert late.exit_code == 0 and late.output == "2 SLA rung(s) fired\n"
    bad = runner.invoke(main, ["sla", "sweep", "--at", "tomorrow"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


def test_the_api_shows_the_sla_state(
    app: Flask, root: Api, client: FlaskClient, tokens: dict[str, str]
) -> None:
    sf = app.extensions["stageflow"]
    with app.app_context(), database.connection_context():
        item = launch(sf, "ladder")
    ann = Api(client, tokens["ann"])

    def sla() -> dict[str, Any]:
        return ann.get(f"/api/work-items/{item.id}").json["sla"]

    assert sla() == {"due_at": "2026-01-05T13:00:00+00:00", "warn_at": "2026-01-05T12:00:00+00:00",
                     "level": 0, "state": "on_track"}  # fmt: skip
    at(sf, 12, 30)
    assert sla()["state"] == "at_risk"
    with app.app_context(), database.connection_context():
        sf.sweep_sla(at(sf, 13, 30))
    assert (sla()["state"], sla()["level"]) == ("breached", 1)
    listed = ann.get("/api/work-items").json["items"][0]
    assert listed["sla"]["state"] == "breached" and listed["overdue"] is True
