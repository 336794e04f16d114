"""The run engine end to end on a real SQLite file: stages, steps, retries, admin actions."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from support import CASE_BASICS, app_with_flaky_plugin

from stageflow.clock import FixedClock
from stageflow.core import Stageflow
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.engine.runs import EngineError
from stageflow.models import Event, Job, Run, StepRun


@pytest.fixture
def stageflow(tmp_path: Path, database_url: str, clock: FixedClock):
    app = app_with_flaky_plugin(tmp_path, database_url, clock)
    with app.app_context():
        database.connect(reuse_if_open=True)
        sf: Stageflow = app.extensions["stageflow"]
        deploy(sf, CASE_BASICS)
        yield sf
        database.close()


def deploy(sf: Stageflow, text: str) -> None:
    deploy_sources([("test.yaml", textwrap.dedent(text))], step_types=sf.registry.step_types,
                   activate=True)  # fmt: skip


def statuses(run_id: int) -> dict[str, str]:
    run = Run.get_by_id(run_id)
    out = {"run": run.status}
    out.update({f"stage:{s.name}": s.status for s in run.stage_runs})
    out.update({f"step:{s.name}": s.status for s in StepRun.select().where(StepRun.run == run)})
    return out


def new_case(sf: Stageflow, **values) -> tuple[str, str]:
    record = sf.records.create("Case", {"Subject": "Printer on fire", **values})
    return ("Case", record["Id"])


THREE_STAGES = """
kind: orchestration
name: three
object: Case
stages:
  - name: one
    steps:
      - {name: a, flow: touch}
      - {name: b, flow: mark_working}
  - name: two
    entry: ISPICKVAL(Priority, "High")
    steps:
      - {name: c, flow: touch}
  - name: three
    steps:
      - {name: d, flow: touch}
      - {name: e, flow: say_go}
"""


def test_stages_in_sequence_and_a_skipped_stage(stageflow: Stageflow) -> None:
    deploy(stageflow, THREE_STAGES)
    record = new_case(stageflow, Priority="Low")
    run = stageflow.engine.launch("three", record=record)
    assert statuses(run.id)["stage:one"] == "InProgress"
    assert statuses(run.id)["stage:three"] == "NotStarted"
    stageflow.engine.run_until_idle()
    assert statuses(run.id) == {
        "run": "Completed", "stage:one": "Completed", "stage:two": "Skipped",
        "stage:three": "Completed", "step:a": "Completed", "step:b": "Completed",
        "step:c": "NotStarted", "step:d": "Completed", "step:e": "Completed",
    }  # fmt: skip
    case = stageflow.records.get(*record)
    assert case["Status"] == "Working" and case["Touched"] == 2  # each effect applied once
    assert Job.select().count() == 0
    log = [
        (e.subject, e.from_status, e.to_status) for e in Event.select().where(Event.run == run.id)
    ]
    assert ("stage:two", "NotStarted", "Skipped") in log
    assert log[-1] == (None, "InProgress", "Completed")


def test_custom_exit_discontinues_a_running_step(stageflow: Stageflow) -> None:
    deploy(
        stageflow,
        """
    kind: orchestration
    name: exit_early
    object: Case
    stages:
      - name: work
        exit: $Steps.a.Status = "Completed"
        steps:
          - {name: a, flow: say_go}
          - {name: waiting, flow: hold}
    """,
    )
    run = stageflow.engine.launch("exit_early", record=new_case(stageflow))
    stageflow.engine.run_until_idle()
    assert statuses(run.id) == {"run": "Completed", "stage:work": "Completed",
                                "step:a": "Completed", "step:waiting": "Discontinued"}  # fmt: skip


def test_waiting_step_released_by_another_steps_output(stageflow: Stageflow) -> None:
    deploy(
        stageflow,
        """
    kind: orchestration
    name: released
    object: Case
    stages:
      - name: work
        steps:
          - {name: later, flow: touch, entry: $Steps.first.message = "go"}
          - {name: first, flow: say_go}
    """,
    )
    run = stageflow.engine.launch("released", record=new_case(stageflow))
    assert statuses(run.id)["step:later"] == "NotStarted"
    stageflow.engine.run_until_idle()
    assert statuses(run.id)["step:later"] == "Completed"
    assert statuses(run.id)["run"] == "Completed"


def test_failing_step_retries_then_errors_then_admin_retry_completes(
    stageflow: Stageflow, clock: FixedClock
) -> None:
    deploy(
        stageflow,
        """
    kind: flow
    name: risky
    type: flaky
    fail: true
    ---
    kind: orchestration
    name: fragile
    object: Case
    stages:
      - name: work
        steps:
          - {name: try, flow: risky, retry: {attempts: 2, backoff: 30s}}
          - {name: other, flow: hold}
    """,
    )
    run = stageflow.engine.launch("fragile", record=new_case(stageflow))
    stageflow.engine.run_until_idle()
    step = StepRun.get(StepRun.run == run.id, StepRun.name == "try")
    assert (step.status, step.attempt, step.error) == ("InProgress", 2, "failed on attempt 1")
    stageflow.engine.run_until_idle()  # the retry is not due yet
    assert StepRun.get_by_id(step.id).attempt == 2
    clock.advance(30)
    stageflow.engine.run_until_idle()
    assert statuses(run.id) == {"run": "Error", "stage:work": "Error", "step:try": "Error",
                                "step:other": "Discontinued"}  # fmt: skip
    assert StepRun.get_by_id(step.id).error == "failed on attempt 2"

    deploy(stageflow, "kind: flow\nname: risky\ntype: flaky\nfail: false\n")  # the fix
    stageflow.engine.act(run.id, "retry", actor="admin", step="try", reason="fixed the flow")
    stageflow.engine.run_until_idle()
    assert statuses(run.id)["step:try"] == "Completed"
    assert statuses(run.id)["step:other"] == "InProgress"  # waits for Status = Closed again
    # The run hears of its record's change in the same transaction: the wait is over.
    stageflow.records.update("Case", Run.get_by_id(run.id).record_id, {"Status": "Closed"})
    assert statuses(run.id) == {"run": "Completed", "stage:work": "Completed",
                                "step:try": "Completed", "step:other": "Completed"}  # fmt: skip


def test_admin_actions(stageflow: Stageflow) -> None:
    deploy(stageflow, THREE_STAGES)
    engine = stageflow.engine
    run = engine.launch("three", record=new_case(stageflow, Priority="High"))
    engine.act(run.id, "suspend", actor="admin")
    assert Job.select().count() == 0
    assert engine.run_until_idle() == 0
    with pytest.raises(EngineError, match="Only a run in progress can be suspended"):
        engine.act(run.id, "suspend", actor="admin")
    engine.act(run.id, "resume", actor="admin")
    with pytest.raises(EngineError, match="Only a suspended run can be resumed"):
        engine.act(run.id, "resume", actor="admin")
    engine.run_until_idle()
    assert statuses(run.id)["run"] == "Completed"
    with pytest.raises(EngineError, match="already Completed"):
        engine.act(run.id, "cancel", actor="admin")

    second = engine.launch("three", record=new_case(stageflow, Priority="High"))
    engine.act(second.id, "complete_stage", actor="admin", stage="one")
    assert statuses(second.id)["step:a"] == "Discontinued"
    assert statuses(second.id)["stage:two"] == "InProgress"
    engine.act(second.id, "cancel", actor="admin", reason="not needed")
    assert statuses(second.id)["run"] == "Canceled"
    assert statuses(second.id)["stage:two"] == "Canceled"
    engine.run_until_idle()
    assert Run.get_by_id(second.id).status == "Canceled"

    again = engine.restart(second.id, actor="admin")
    assert again.id != second.id and again.restarted_from_id == second.id
    assert again.record_id == second.record_id


def test_launch_orchestration_waits_for_the_child(stageflow: Stageflow) -> None:
    deploy(
        stageflow,
        """
    kind: orchestration
    name: child
    object: Case
    stages:
      - name: only
        steps:
          - {name: touch, flow: touch}
    ---
    kind: flow
    name: start_child
    type: launch_orchestration
    orchestration: child
    wait: true
    ---
    kind: orchestration
    name: parent
    object: Case
    stages:
      - name: delegate
        steps:
          - {name: spawn, flow: start_child}
      - name: after
        steps:
          - {name: touch, flow: touch}
    """,
    )
    record = new_case(stageflow)
    run = stageflow.engine.launch("parent", record=record)
    stageflow.engine.run_until_idle()
    assert statuses(run.id)["run"] == "Completed"
    spawn = StepRun.get(StepRun.run == run.id, StepRun.name == "spawn")
    child = Run.get_by_id(int(spawn.outputs["run_id"]))
    assert child.status == "Completed"
    assert stageflow.records.get(*record)["Touched"] == 2


def test_launch_refuses_bad_input(stageflow: Stageflow) -> None:
    deploy(stageflow, THREE_STAGES)
    with pytest.raises(EngineError, match="No active version of orchestration 'nope'"):
        stageflow.engine.launch("nope")
    with pytest.raises(EngineError, match="needs a Case record"):
        stageflow.engine.launch("three")
    with pytest.raises(EngineError, match="No Case record with id '999'"):
        stageflow.engine.launch("three", record=("Case", "999"))
    assert Run.select().count() == 0


def test_new_records_take_field_defaults(stageflow: Stageflow, clock: FixedClock) -> None:
    deploy(
        stageflow,
        """
    kind: object
    name: Task
    fields:
      - {name: Title, type: text}
      - {name: State, type: picklist, values: [Open, Done], default: Open}
      - {name: Due, type: date, default: "=TODAY() + 7"}
      - {name: Points, type: number, default: 3}
    """,
    )
    task = stageflow.records.create("Task", {"Title": "Write docs", "Points": 5})
    assert (task["State"], task["Points"]) == ("Open", 5)
    assert task["Due"] == (clock.now().date() + dt.timedelta(days=7)).isoformat()
