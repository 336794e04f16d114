"""Work-list benchmark: the server time of people's work lists on a large database.

    python bench/worklist.py [--runs 200000] [--items 100000] [--users 1000] [--queues 50]
                             [--requests 200] [--database sqlite:///path]

Fills a real SQLite file with ``--runs`` runs (one stage, one interactive step each, on
a record of their own) of which ``--items`` have an open work item: 70 % assigned to
one of ``--users`` users, 30 % to one of ``--queues`` queues (every user is in two
queues).  Then, for ``--requests`` requests spread over typical users, it times the
server's handling (the WSGI app, in process) of ``GET /api/work-items?scope=mine`` (a
bearer token), ``GET /api/work-items?scope=queues`` and the ``/work`` page (a signed-in
session), and prints p50 and p95 of each and the process's peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask

from stageflow.app import create_app
from stageflow.auth import hash_password, issue_token
from stageflow.db import database
from stageflow.definitions import store
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import (
    Queue,
    QueueMembership,
    Record,
    Run,
    StageRun,
    StepRun,
    User,
    WorkItem,
)

DEFINITIONS = """
kind: object
name: Ticket
access: read_write
fields:
  - {name: Subject, type: text}
---
kind: flow
name: handle
type: form
label: Handle the ticket
fields:
  - {name: resolution, type: textarea, required: true}
---
kind: orchestration
name: support
object: Ticket
stages:
  - name: work
    steps:
      - {name: handle, flow: handle, assignee: '"user:u0"'}
"""
BATCH = 1000


def fill(app: Flask, args: argparse.Namespace) -> None:
    """Write the people, records, runs, stage and step runs and work items in bulk."""
    sf = app.extensions["stageflow"]
    deploy_sources([("bench.yaml", DEFINITIONS)], step_types=sf.registry.step_types,
                   activate=True)  # fmt: skip
    version = store.active_version_id("orchestration", "support")
    flow_version = store.active_version_id("flow", "handle")
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(7)
    password = hash_password("pw")
    with database.atomic():
        User.insert_many([{"name": f"u{i}", "password_hash": password}
                          for i in range(args.users)]).execute()  # fmt: skip
        Queue.insert_many([{"name": f"q{i}"} for i in range(args.queues)]).execute()
        users = {u.name: u.id for u in User.select(User.id, User.name)}
        queues = [q.id for q in Queue.select(Queue.id)]
        QueueMembership.insert_many(
            [{"queue": queues[(i + k * 17) % len(queues)], "user": users[f"u{i}"]}
             for i in range(args.users) for k in range(2)]
        ).on_conflict_ignore().execute()  # fmt: skip
    for start in range(0, args.runs, BATCH):
        count = min(BATCH, args.runs - start)
        with database.atomic():
            first = Record.insert_many(
                [{"object": "Ticket", "data": {"Subject": f"ticket {start + i}"},
                  "created_at": now, "updated_at": now} for i in range(count)]
            ).execute()  # fmt: skip
            record_ids = _ids(Record, first, count)
            open_ = [start + i < args.items for i in range(count)]
            Run.insert_many(
                [{"orchestration": version, "status": "InProgress" if o else "Completed",
                  "inputs": {}, "record_object": "Ticket", "record_id": str(r),
                  "started_at": now, "updated_at": now}
                 for r, o in zip(record_ids, open_, strict=True)]
            ).execute()  # fmt: skip
            run_ids = _ids(Run, None, count)
            StageRun.insert_many(
                [{"run": r, "name": "work", "position": 0,
                  "status": "InProgress" if o else "Completed"}
                 for r, o in zip(run_ids, open_, strict=True)]
            ).execute()  # fmt: skip
            stage_ids = _ids(StageRun, None, count)
            StepRun.insert_many(
                [{"run": r, "stage_run": s, "name": "handle", "attempt": 1,
                  "status": "InProgress" if o else "Completed", "flow_version": flow_version}
                 for r, s, o in zip(run_ids, stage_ids, open_, strict=True)]
            ).execute()  # fmt: skip
            step_ids = _ids(StepRun, None, count)
            items = []
            for run_id, step_id, is_open in zip(run_ids, step_ids, open_, strict=True):
                if not is_open:
                    continue
                to_queue = rng.random() < 0.3
                items.append({
                    "run": run_id, "step_run": step_id, "status": "Assigned",
                    "assignee_kind": "queue" if to_queue else "user",
                    "assignee_name": f"q{rng.randrange(args.queues)}" if to_queue
                    else f"u{rng.randrange(args.users)}",
                    "due_at": now + dt.timedelta(hours=rng.randrange(-48, 240)),
                    "created_at": now,
                })  # fmt: skip
            if items:
                WorkItem.insert_many(items).execute()


def _ids(model: Any, _first: Any, count: int) -> list[int]:
    """The ids of the ``count`` rows just inserted (the table's last ones)."""
    rows = model.select(model.id).order_by(model.id.desc()).limit(count)
    return sorted(row.id for row in rows)


def timed(app: Flask, requests: list[tuple[str, dict[str, str], Any]]) -> list[float]:
    """Milliseconds of each request's handling by the app."""
    times = []
    for url, headers, client in requests:
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stageflow-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    app = create_app({"database_url": url, "instance_dir": str(folder), "workers": 0})
    started = time.perf_counter()
    with app.app_context():
        database.connect(reuse_if_open=True)
        fill(app, args)
        filled = time.perf_counter() - started
        rng = random.Random(11)
        people = [f"u{rng.randrange(args.users)}" for _ in range(args.requests)]
        tokens = {name: issue_token(User.get(User.name == name))[1] for name in set(people)}
    api = app.test_client()
    sessions = {}
    for name in set(people):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"name": name, "password": "pw", "csrf_token": token})
        sessions[name] = client
    figures = {}
    for label, make in (
        ("GET /api/work-items?scope=mine",
         lambda n: ("/api/work-items?scope=mine", {"Authorization": f"Bearer {tokens[n]}"}, api)),
        ("GET /api/work-items?scope=queues",
         lambda n: ("/api/work-items?scope=queues", {"Authorization": f"Bearer {tokens[n]}"}, api)),
        ("GET /work (page)", lambda n: ("/work", {}, sessions[n])),
    ):  # fmt: skip
        requests = [make(name) for name in people]
        timed(app, requests[:10])  # warm caches
        times = sorted(timed(app, requests))
        figures[label] = (statistics.median(times), times[int(len(times) * 0.95) - 1])
    memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: SQLite file; {args.runs:,} runs, {args.items:,} open work items, "
          f"{args.users:,} users, {args.queues} queues (filled in {filled:.0f} s)")  # fmt: skip
    for label, (p50, p95) in figures.items():
        print(f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({args.requests} requests)")
    print(f"peak memory of the process: {memory:,.0f} MB")


if __name__ == "__main__":
    main()
