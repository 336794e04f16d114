"""SLA benchmark: a catch-up sweep of many overdue items, and escalations on time.

    python bench/sla.py [--overdue 10000] [--due 1000] [--window 60] [--elsewhere]
                        [--database URL]

1. **Catch-up.**  Fills a real SQLite file with ``--overdue`` open work items (one run,
   stage, step and record each) that are all past due, then times one sweep
   (``stageflow sla sweep``'s work): each item's rung reassigns it to a queue (with the
   record-access check) and notifies its assignee.  Target: under 5 s for 10,000.
2. **On time.**  Starts the real scheduler (APScheduler) on the real clock, launches
   ``--due`` runs through the engine whose work items fall due spread over ``--window``
   seconds (a ``due`` formula reading a run input), waits for them all to escalate, and
   prints the delay from each due time to its escalation (the ``sla`` event's time):
   p50, p95 and max.  Target: p95 under 1 s.  With ``--elsewhere`` the items do not
   wake the scheduler, as if another process had created them: the periodic check
   (``sla_check_seconds``) finds them.

Notifications go to the ``log`` channel, whose messages (level INFO) are not printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask

from stageflow.app import create_app
from stageflow.db import database
from stageflow.definitions import store
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import Event, Record, Run, StageRun, StepRun, WorkItem
from stageflow.scheduler import build_scheduler

DEFINITIONS = """
kind: directory
users:
  - {name: ann}
  - {name: bob}
queues:
  - {name: tier2, members: [bob]}
---
kind: object
name: Ticket
access: read
fields:
  - {name: Subject, type: text}
---
kind: flow
name: handle
type: approval
---
kind: orchestration
name: overdue
object: Ticket
stages:
  - name: work
    steps:
      - name: handle
        flow: handle
        assignee: user:ann
        sla: {due: 1h, escalations: [{after: 0m, reassign: queue:tier2, notify: [assignee]}]}
---
kind: orchestration
name: on_time
object: Ticket
inputs:
  - {name: due, type: datetime, required: true}
stages:
  - name: work
    steps:
      - name: handle
        flow: handle
        assignee: user:ann
        sla: {due: $Input.due, escalations: [{after: 0m, notify: [assignee]}]}
"""
BATCH = 1000
#: Seconds between the start of the launches and the first due time.
LEAD = 10


def fill_overdue(count: int, due_at: dt.datetime) -> None:
    """``count`` open items of runs of ``overdue``, due at ``due_at``, written in bulk."""
    version = store.active_version_id("orchestration", "overdue")
    flow_version = store.active_version_id("flow", "handle")
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        with database.atomic():
            Record.insert_many([{"object": "Ticket", "data": {"Subject": f"t{start + i}"},
                                 "owner": None} for i in range(size)]).execute()  # fmt: skip
            records = _last_ids(Record, size)
            Run.insert_many([{"orchestration": version, "status": "InProgress", "inputs": {},
                              "record_object": "Ticket", "record_id": str(r)}
                             for r in records]).execute()  # fmt: skip
            runs = _last_ids(Run, size)
            StageRun.insert_many([{"run": r, "name": "work", "position": 0,
                                   "status": "InProgress"} for r in runs]).execute()  # fmt: skip
            stages = _last_ids(StageRun, size)
            StepRun.insert_many([{"run": r, "stage_run": s, "name": "handle", "attempt": 1,
                                  "status": "InProgress", "flow_version": flow_version}
                                 for r, s in zip(runs, stages, strict=True)]).execute()  # fmt: skip
            steps = _last_ids(StepRun, size)
            WorkItem.insert_many([{"run": r, "step_run": s, "assignee_kind": "user",
                                   "assignee_name": "ann", "due_at": due_at,
                                   "next_check_at": due_at}
                                  for r, s in zip(runs, steps, strict=True)]).execute()  # fmt: skip


def _last_ids(model: Any, count: int) -> list[int]:
    rows = model.select(model.id).order_by(model.id.desc()).limit(count)
    return sorted(row.id for row in rows)


def catch_up(app: Flask, count: int) -> tuple[float, int]:
    """Seconds of one sweep over ``count`` overdue items, and the rungs it fired."""
    sf = app.extensions["stageflow"]
    with app.app_context(), database.connection_context():
        fill_overdue(count, sf.clock.now() - dt.timedelta(hours=1))
        started = time.perf_counter()
        fired = sf.sweep_sla()
        seconds = time.perf_counter() - started
        reassigned = WorkItem.select().where(WorkItem.assignee_name == "tier2").count()
    assert fired == count == reassigned, (fired, count, reassigned)
    return seconds, fired


def on_time(app: Flask, count: int, window: float, elsewhere: bool) -> list[float]:
    """Delays (seconds) from due time to escalation of ``count`` items due over ``window``
    seconds, with the scheduler running in this process.

    ``elsewhere``: the items do not wake this process's scheduler, as if another process
    had created them (its periodic check finds them).
    """
    sf = app.extensions["stageflow"]
    scheduler = build_scheduler(app)
    timer = sf.sla_timer
    scheduler.start()
    try:
        with app.app_context(), database.connection_context():
            started = sf.clock.now()
            first = started + dt.timedelta(seconds=LEAD)
            dues = [first + dt.timedelta(seconds=window * i / count) for i in range(count)]
            items = []
            sf.sla_timer = None if elsewhere else timer
            for due in dues:
                record = sf.records.create("Ticket", {"Subject": "on time"})
                run = sf.engine.launch("on_time", record=("Ticket", record["Id"]),
                                       inputs={"due": due.isoformat()})  # fmt: skip
                items.append(run.id)
            sf.sla_timer = timer
            late = [due for due in dues if due < sf.clock.now()]
            assert not late, f"launching took over {LEAD} s: {len(late)} items due before"
        deadline = dues[-1] + dt.timedelta(seconds=30)
        while sf.clock.now() < deadline:
            with app.app_context(), database.connection_context():
                done = Event.select().where((Event.kind == "sla") & Event.run.in_(items)).count()
            if done == count:
                break
            time.sleep(0.5)
    finally:
        scheduler.shutdown()
    with app.app_context(), database.connection_context():
        due_of = {i.run_id: i.due_at for i in WorkItem.select().where(WorkItem.run.in_(items))}
        fired = {e.run_id: e.at for e in Event.select().where(
            (Event.kind == "sla") & Event.run.in_(items))}  # fmt: skip
    assert len(fired) == count, f"{len(fired)} of {count} items escalated"
    return sorted((fired[run] - due_of[run]).total_seconds() for run in items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overdue", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--database", default="")
    parser.add_argument(
        "--elsewhere",
        action="store_true",
        help="Items created as if by another process (found by the check).",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stageflow-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    quiet = {"log_level": "WARNING"}  # not one log message per escalation
    app = create_app({"database_url": url, "instance_dir": str(folder), "workers": 0, **quiet})
    with app.app_context(), database.connection_context():
        deploy_sources([("bench.yaml", DEFINITIONS)],
                       step_types=app.extensions["stageflow"].registry.step_types,
                       activate=True)  # fmt: skip
    kind = "SQLite file" if url.startswith("sqlite") else url.partition("://")[0]
    seconds, fired = catch_up(app, args.overdue)
    print(f"database: {kind}")
    print(f"catch-up: {fired:,} overdue items escalated (reassign with the access check,"
          f" notify) in one sweep: {seconds:.2f} s ({fired / seconds:,.0f} items/s)")  # fmt: skip
    delays = on_time(app, args.due, args.window, args.elsewhere)
    p95 = delays[max(0, int(len(delays) * 0.95) - 1)]
    source = "another process's" if args.elsewhere else "this process's"
    print(f"on time: {len(delays):,} of {source} items due over {args.window:g} s,"
          " scheduler running:"
          f" delay from due time to escalation p50 {statistics.median(delays) * 1000:.0f} ms,"
          f" p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
