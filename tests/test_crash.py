"""A worker killed with SIGKILL in the middle of a step loses nothing and repeats nothing.

The step below updates the run's record and then blocks on a FIFO, so the test knows
the worker is inside the step's transaction when it kills it.  A second worker then
finds the job (its lease expired) and does it again: the record shows the update once,
every run completes, and the event log has each step completing once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from stageflow.app import create_app
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import Event, Job, Run

pytestmark = pytest.mark.sqlite_only  # the PostgreSQL variant lives with the scale-out tests

PLUGIN = """
import os
from stageflow import BackgroundStepType, hookimpl

class CountThenBlock(BackgroundStepType):
    def run(self, context):
        counter = (context.record.get("Counter") or 0) + 1
        context.services.records.update(*context.record_ref, {"Counter": counter})
        started, hold = os.environ.get("CRASH_STARTED"), os.environ.get("CRASH_HOLD")
        if started and os.path.exists(started):
            with open(started, "w") as pipe:  # waits until the test is listening
                pipe.write("inside the step\\n")
            open(hold, "w").close()  # nobody ever reads it: blocks until killed
        return {"counter": counter}

@hookimpl
def register_step_types():
    return [CountThenBlock(name="count_then_block", outputs={"counter": "Number"})]
"""

DEFINITIONS = """
kind: object
name: Ticket
fields:
  - {name: Subject, type: text}
  - {name: Counter, type: number}
---
kind: flow
name: count
type: count_then_block
---
kind: flow
name: note
type: log
message: done
---
kind: orchestration
name: crashy
object: Ticket
stages:
  - name: one
    steps:
      - {name: count, flow: count}
  - name: two
    steps:
      - {name: note, flow: note}
"""


def test_worker_killed_mid_step(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "crash_plugin.py").write_text(PLUGIN)
    started, hold = tmp_path / "started", tmp_path / "hold"
    os.mkfifo(started)
    os.mkfifo(hold)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STAGEFLOW_")},
        "STAGEFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'stageflow.db'}",
        "STAGEFLOW_INSTANCE_DIR": str(tmp_path / "instance"),
        "STAGEFLOW_PLUGINS_DIR": str(plugins),
        "CRASH_STARTED": str(started),
        "CRASH_HOLD": str(hold),
    }
    app = create_app({key.removeprefix("STAGEFLOW_").lower(): value for key, value in env.items()
                      if key.startswith("STAGEFLOW_")})  # fmt: skip
    with app.app_context():
        database.connect(reuse_if_open=True)
        sf = app.extensions["stageflow"]
        deploy_sources([("crash.yaml", textwrap.dedent(DEFINITIONS))],
                       step_types=sf.registry.step_types, activate=True)  # fmt: skip
        tickets = [sf.records.create("Ticket", {"Subject": f"t{i}"})["Id"] for i in range(3)]
        runs = [sf.engine.launch("crashy", record=("Ticket", t)).id for t in tickets]
        database.close()

    command = [sys.executable, "-m", "stageflow", "worker"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    heard: list[str] = []
    listener = threading.Thread(target=lambda: heard.append(Path(started).read_text()))
    listener.start()  # reading the FIFO returns once the worker is inside the step
    listener.join(timeout=60)
    if listener.is_alive():  # the worker never got there: release the reader, then fail
        os.close(os.open(started, os.O_WRONLY | os.O_NONBLOCK))
        listener.join()
    worker.send_signal(signal.SIGKILL)
    output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert heard == ["inside the step\n"], output
    os.unlink(started)
    os.unlink(hold)

    with app.app_context():
        database.connect(reuse_if_open=True)
        assert Job.select().count() >= 1  # the killed worker's job is still there
        # Time passes: the dead worker's leases expire.
        Job.update(leased_until=Job.run_at).where(Job.lease_owner.is_null(False)).execute()
        database.close()

    done = subprocess.run([*command, "--once"], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

    with app.app_context():
        database.connect(reuse_if_open=True)
        sf = app.extensions["stageflow"]
        assert [Run.get_by_id(r).status for r in runs] == ["Completed"] * 3
        assert [sf.records.get("Ticket", t)["Counter"] for t in tickets] == [1, 1, 1]
        for run in runs:
            completions = Event.select().where(
                (Event.run == run)
                & (Event.subject == "step:count")
                & (Event.to_status == "Completed")
            )
            assert completions.count() == 1
        assert Job.select().count() == 0
        database.close()
