"""Engine benchmark: runs per second of the "3×2" orchestration on a real database.

    python bench/engine.py [--runs 2000] [--workers 0] [--database sqlite:///path]

The orchestration has 3 stages of 2 parallel background steps; every step updates the
run's record.  The script launches ``--runs`` runs and does their jobs — inline in this
thread (``--workers 0``, the default) or with that many worker threads — and prints
runs completed per second and the process's peak memory.  For comparison it then does
the same work by hand in the same process: the minimum SQL writes (a run row, its
stage and step rows, the record updates and the status changes, one transaction per
step) with no engine at all — a floor no engine can beat.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from stageflow.app import create_app
from stageflow.core import Stageflow
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import Record, Run, utcnow

DEFINITIONS = (
    """
kind: object
name: Ticket
fields:
  - {name: Subject, type: text}
  - {name: A, type: number}
  - {name: B, type: number}
  - {name: C, type: number}
  - {name: D, type: number}
  - {name: E, type: number}
  - {name: F, type: number}
"""
    + "".join(
        f"""---
kind: flow
name: set_{field}
type: update_record
set: {{{field}: 1}}
"""
        for field in "ABCDEF"
    )
    + """---
kind: orchestration
name: three_by_two
object: Ticket
stages:
  - name: one
    steps:
      - {name: a, flow: set_A}
      - {name: b, flow: set_B}
  - name: two
    steps:
      - {name: c, flow: set_C}
      - {name: d, flow: set_D}
  - name: three
    steps:
      - {name: e, flow: set_E}
      - {name: f, flow: set_F}
"""
)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine_rate(sf: Stageflow, runs: int, workers: int) -> float:
    records = [sf.records.create("Ticket", {"Subject": f"t{i}"})["Id"] for i in range(runs)]
    start = time.perf_counter()
    if workers:
        sf.start_workers(workers)
    for record_id in records:
        sf.engine.launch("three_by_two", record=("Ticket", record_id))
    if workers:
        while Run.select().where(Run.status != "Completed").exists():
            time.sleep(0.05)
        sf.stop_workers()
    else:
        sf.engine.run_until_idle()
    elapsed = time.perf_counter() - start
    done = Run.select().where(Run.status == "Completed").count()
    assert done >= runs, f"only {done} of {runs} runs completed"
    return runs / elapsed


def floor_rate(runs: int) -> float:
    """The same writes by hand with prepared SQL: no engine, no ORM, no event log.

    Per run, in two transactions as the engine's inline worker uses: one inserts the run,
    its 3 stage rows and 6 step rows; the other, for each step, updates the record and
    marks the step (and, after the second step of a stage, the stage) completed, then
    marks the run completed.
    """
    p = database.param
    sql = {
        "run": f"INSERT INTO runs (orchestration_id, status, inputs, started_at, updated_at, "
        f"record_object, record_id) VALUES ({p}, 'InProgress', '{{}}', {p}, {p}, 'Floor', {p}) "
        "RETURNING id",
        "stage": f"INSERT INTO stage_runs (run_id, name, position, status) "
        f"VALUES ({p}, {p}, {p}, 'InProgress') RETURNING id",
        "step": f"INSERT INTO step_runs (run_id, stage_run_id, name, status, attempt) "
        f"VALUES ({p}, {p}, {p}, 'InProgress', 1) RETURNING id",
        "read": f"SELECT data FROM records WHERE id = {p}",
        "record": f"UPDATE records SET data = {p}, updated_at = {p} WHERE id = {p}",
        "done_step": f"UPDATE step_runs SET status = 'Completed', finished_at = {p} WHERE id = {p}",
        "done_stage": f"UPDATE stage_runs SET status = 'Completed' WHERE run_id = {p} "
        f"AND position = {p}",
        "done_run": f"UPDATE runs SET status = 'Completed', finished_at = {p} WHERE id = {p}",
    }
    version = Run.select().first().orchestration_id
    with database.atomic():
        records = [Record.create(object="Floor", data={"Subject": f"t{i}"}).id for i in range(runs)]
    now = utcnow().replace(tzinfo=None)
    start = time.perf_counter()
    for record_id in records:
        with database.atomic():
            (run_id,) = database.execute_sql(
                sql["run"], (version, now, now, str(record_id))
            ).fetchone()
            stage_ids = [
                database.execute_sql(sql["stage"], (run_id, name, i)).fetchone()[0]
                for i, name in enumerate(("one", "two", "three"))
            ]
            step_ids = [
                database.execute_sql(sql["step"], (run_id, stage_ids[i // 2], f)).fetchone()[0]
                for i, f in enumerate("abcdef")
            ]
        with database.atomic():  # like the engine's worker: one transaction for the steps
            for i, field in enumerate("ABCDEF"):
                (data,) = database.execute_sql(sql["read"], (record_id,)).fetchone()
                data = json.loads(data) if isinstance(data, str) else data  # JSONB: a dict
                data[field] = 1
                database.execute_sql(sql["record"], (json.dumps(data), now, record_id))
                database.execute_sql(sql["done_step"], (now, step_ids[i]))
                if i % 2:
                    database.execute_sql(sql["done_stage"], (run_id, i // 2))
                if i == 5:
                    database.execute_sql(sql["done_run"], (now, run_id))
    return runs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stageflow-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    app = create_app({"database_url": url, "instance_dir": str(folder), "workers": 0})
    with app.app_context():
        database.connect(reuse_if_open=True)
        sf: Stageflow = app.extensions["stageflow"]
        deploy_sources([("bench.yaml", DEFINITIONS)], step_types=sf.registry.step_types,
                       activate=True)  # fmt: skip
        rate = engine_rate(sf, args.runs, args.workers)
        memory = peak_memory_mb()
        floor = floor_rate(args.runs)
    where = "SQLite file" if url.startswith("sqlite") else url.split("@")[-1]
    print(f"database: {where}; runs: {args.runs}; workers: {args.workers or 'inline'}")
    print(f"engine: {rate:,.0f} runs/s (3 stages x 2 background steps, each updating the record)")
    print(f"peak memory of the process: {memory:,.0f} MB")
    print(f"floor (the same writes by hand, prepared SQL, no engine): {floor:,.0f} runs/s")
    print(f"engine / floor: {rate / floor:.2f}")


if __name__ == "__main__":
    main()
