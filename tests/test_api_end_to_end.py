"""End to end through the REST API on a real SQLite file: deploy, launch, progress, fix.

One orchestration shows DESIGN.md §4 at work: a waiting step released by another step's
output, a skipped stage, a custom stage exit that discontinues a running step, a
failing step retried then in Error, and an admin retry (after deploying a fixed flow)
that completes the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from support import CASE_BASICS, Api, app_with_flaky_plugin

from stageflow.clock import FixedClock
from stageflow.db import database

DEFINITIONS = (
    CASE_BASICS
    + """---
kind: flow
name: risky
type: flaky
fail: true
---
kind: orchestration
name: full
object: Case
stages:
  - name: prepare
    steps:
      - {name: later, flow: touch, entry: $Steps.first.message = "go"}
      - {name: first, flow: say_go}
  - name: optional
    entry: ISPICKVAL(Priority, "High")
    steps:
      - {name: extra, flow: touch}
  - name: early
    exit: $Steps.quick.Status = "Completed"
    steps:
      - {name: quick, flow: say_go}
      - {name: waiting, flow: hold}
  - name: fragile
    steps:
      - {name: try, flow: risky, retry: {attempts: 2, backoff: 30s}}
"""
)


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = app_with_flaky_plugin(tmp_path, database_url, clock)
    yield app
    if not database.is_closed():
        database.close()


def drain(app: Flask) -> None:
    """Do every due job, as the workers would."""
    with app.app_context(), database.connection_context():
        app.extensions["stageflow"].engine.run_until_idle()


def statuses(api: Api, run_id: int) -> dict[str, str]:
    run = api.get(f"/api/runs/{run_id}").get_json()
    out = {"run": run["status"]}
    for stage in run["stages"]:
        out[f"stage:{stage['name']}"] = stage["status"]
        out.update({f"step:{s['name']}": s["status"] for s in stage["steps"]})
    return out


def step(api: Api, run_id: int, name: str) -> dict:
    run = api.get(f"/api/runs/{run_id}").get_json()
    return next(s for stage in run["stages"] for s in stage["steps"] if s["name"] == name)


def test_a_run_through_the_api(
    app: Flask, admin_api: Api, user_api: Api, clock: FixedClock
) -> None:
    assert admin_api.deploy(DEFINITIONS).status_code == 201
    case = user_api.post("/api/records/Case", {"Subject": "Printer on fire", "Priority": "Low"})
    case_id = case.get_json()["Id"]
    launched = user_api.post("/api/orchestrations/full/runs",
                             {"record": {"object": "Case", "id": case_id}})  # fmt: skip
    assert launched.status_code == 201
    run_id = launched.get_json()["id"]
    assert statuses(user_api, run_id) == {
        "run": "InProgress", "stage:prepare": "InProgress", "step:later": "NotStarted",
        "step:first": "InProgress", "stage:optional": "NotStarted", "step:extra": "NotStarted",
        "stage:early": "NotStarted", "step:quick": "NotStarted", "step:waiting": "NotStarted",
        "stage:fragile": "NotStarted", "step:try": "NotStarted",
    }  # fmt: skip

    drain(app)
    assert statuses(user_api, run_id) == {
        "run": "InProgress", "stage:prepare": "Completed", "step:later": "Completed",
        "step:first": "Completed", "stage:optional": "Skipped", "step:extra": "NotStarted",
        "stage:early": "Completed", "step:quick": "Completed", "step:waiting": "Discontinued",
        "stage:fragile": "InProgress", "step:try": "InProgress",
    }  # fmt: skip
    tried = step(user_api, run_id, "try")
    assert (tried["status"], tried["attempt"], tried["error"]) == (
        "InProgress",
        2,
        "failed on attempt 1",
    )  # the retry waits for its backoff
    assert step(user_api, run_id, "first")["outputs"] == {"message": "go"}
    drain(app)
    assert step(user_api, run_id, "try")["attempt"] == 2  # not due yet

    clock.advance(30)
    drain(app)
    assert statuses(user_api, run_id) == {
        "run": "Error", "stage:prepare": "Completed", "step:later": "Completed",
        "step:first": "Completed", "stage:optional": "Skipped", "step:extra": "NotStarted",
        "stage:early": "Completed", "step:quick": "Completed", "step:waiting": "Discontinued",
        "stage:fragile": "Error", "step:try": "Error",
    }  # fmt: skip
    assert step(user_api, run_id, "try")["error"] == "failed on attempt 2"
    assert user_api.get(f"/api/records/Case/{case_id}").get_json()["Touched"] == 1

    # A user may not fix it; an admin deploys the fixed flow and retries the step.
    assert user_api.post(f"/api/runs/{run_id}/steps/try/retry").status_code == 403
    fixed = admin_api.deploy("kind: flow\nname: risky\ntype: flaky\nfail: false\n")
    assert fixed.get_json()["deployed"][0]["version"] == 2
    retried = admin_api.post(f"/api/runs/{run_id}/steps/try/retry", {"reason": "fixed the flow"})
    assert retried.status_code == 200 and retried.get_json()["status"] == "InProgress"
    drain(app)
    final = statuses(user_api, run_id)
    assert final["run"] == "Completed" and final["step:try"] == "Completed"
    assert final["stage:fragile"] == "Completed"

    events = admin_api.get(f"/api/runs/{run_id}/events?limit=200").get_json()["items"]
    log = [(e["subject"], e["from"], e["to"]) for e in events]
    assert ("stage:optional", "NotStarted", "Skipped") in log
    assert ("step:waiting", "InProgress", "Discontinued") in log
    assert log.count(("step:try", "InProgress", "Error")) == 1
    assert log[-1] == (None, "InProgress", "Completed")
    assert any(e["actor"] == "root" and e["reason"] == "fixed the flow" for e in events)
